"""Replacing missing values.

    ML_IMPUTER(x, value)    x, or `value` where x is NULL (or NaN); `value` is a number or a
        'string' literal, matching x's type
    ML_IMPUTER(x, value, missing)    also where x equals the number `missing`
    ML_IMPUTER(x, 'mean' | 'median' | 'most_frequent' [, rule [, missing]]) OVER ()
        (TRANSFORM only): the value is the training rows' AVG, PERCENTILE 0.5, or most
        frequent non-NULL value (ties: the smallest as a string); stored as
        ML_IMPUTER(x, <value>). mean and median cast x to DOUBLE; most_frequent keeps x's type
        when it is a string, else casts to DOUBLE. rule 'scikit-learn' (the default) or
        'flink-ml' (Flink ML's Imputer): the median is an observed value (the lower middle
        one: the largest value not above the interpolated median), and a column with no
        value to fit on is an error, not 0. `missing`: a number that also means missing, in
        fitting and when imputing (Flink ML's missingValue).
"""

from __future__ import annotations

from mlsql.errors import SchemaError
from mlsql.feature_functions.base import (
    Arguments,
    FeatureArgumentError,
    FeatureFunction,
    FitRequest,
    FitResult,
    Params,
    SqlOf,
    Vocabulary,
    as_double,
    is_missing,
    number_text,
    present_double,
)
from mlsql.feature_functions.encoders import as_string
from mlsql.syntax import ir
from mlsql.syntax.dialect import quote_literal

STRATEGIES = ("mean", "median", "most_frequent")


class Imputer(FeatureFunction):
    name = "ML_IMPUTER"
    fittable = True
    usage = "ML_IMPUTER(x, value [, missing])"
    fitted_usage = ("ML_IMPUTER(x, 'mean' | 'median' | 'most_frequent' [, 'scikit-learn' | "
                    "'flink-ml' [, missing]]) OVER ()")
    RULES = ("scikit-learn", "flink-ml")

    def explicit(self, args: Arguments, call: ir.FeatureCall) -> Params:
        self.count(args, call, 2, 3)
        value = args[1].value
        if not args[1].is_literal or value is None or isinstance(value, (bool, tuple)):
            raise FeatureArgumentError(
                f"{self.name}'s replacement must be a number or 'string' literal, found "
                f"{args[1].text!r}", args[1].position)
        missing = self.number(args[2], "missing value") if len(args) == 3 else None
        if missing is not None and isinstance(value, str):
            raise FeatureArgumentError(f"{self.name}'s missing value is for a number "
                                       "column; a string one is imputed where NULL",
                                       args[2].position)
        return {"value": value, "missing": missing}

    def elements(self, args: Arguments, params: Params, sql_of: SqlOf) -> list[str]:
        value = params["value"]
        if isinstance(value, str):
            return [f"COALESCE({as_string(sql_of(args[0]))}, {quote_literal(value)})"]
        x = as_double(sql_of(args[0]))
        return [f"CASE WHEN {_missing(x, params.get('missing'))} THEN "
                f"{number_text(float(value))} ELSE {x} END"]

    def fit_options(self, args: Arguments, call: ir.FeatureCall) -> Params:
        self.count(args, call, 2, 4, self.fitted_usage)
        strategy = self.string(args[1], "strategy").lower()
        if strategy not in STRATEGIES:
            raise FeatureArgumentError(f"{self.name}'s strategy must be one of "
                                       f"{', '.join(STRATEGIES)}, found {args[1].text}",
                                       args[1].position)
        rule = self.choice(args[2], "rule", self.RULES) if len(args) >= 3 else "scikit-learn"
        missing = self.number(args[3], "missing value") if len(args) == 4 else None
        return {"strategy": strategy, "rule": rule, "missing": missing}

    def requests(self, args: Arguments, options: Params, sql_of: SqlOf) -> FitRequest:
        x = sql_of(args[0])
        missing = options.get("missing")
        present = present_double(x) if missing is None else (
            f"CASE WHEN {_missing(as_double(x), missing)} THEN CAST(NULL AS DOUBLE) "
            f"ELSE {as_double(x)} END")
        strategy = options["strategy"]
        if strategy == "mean":
            return FitRequest({"value": f"AVG({present})"})
        if strategy == "median" and options.get("rule") == "flink-ml":
            def observed(first: dict) -> dict[str, str]:
                median = first.get("median")
                if median is None:
                    return {}
                return {"value": f"MAX(CASE WHEN {present} <= {number_text(median)} THEN "
                                 f"{present} END)"}
            return FitRequest({"median": f"PERCENTILE({present}, 0.5E0)"}, then=observed)
        if strategy == "median":
            return FitRequest({"value": f"PERCENTILE({present}, 0.5E0)"})
        if missing is not None:
            return FitRequest(vocabulary=Vocabulary(as_string(present), 1))
        if options.get("rule") == "flink-ml":  # Flink ML's columns are numbers: NaN is missing
            return FitRequest(vocabulary=Vocabulary(f"NULLIF({as_string(x)}, 'NaN')", 1))
        return FitRequest(vocabulary=Vocabulary(as_string(x), 1))

    def fitted_text(self, args: Arguments, options: Params, result: FitResult) -> str:
        flink_ml = options.get("rule") == "flink-ml"
        missing = options.get("missing")
        tail = "" if missing is None else f", {number_text(missing)}"
        if options["strategy"] == "most_frequent":
            if not result.vocabulary:
                if flink_ml:
                    raise self.nothing_to_fit(args, missing)
                return args[0].text
            value = result.vocabulary[0][0]
            try:
                return f"{self.name}({args[0].text}, {number_text(float(value))}{tail})"
            except ValueError:
                return f"{self.name}({args[0].text}, {quote_literal(value)})"
        value = result.aggregates.get("value")
        if value is None and flink_ml:
            raise self.nothing_to_fit(args, missing)
        return (f"{self.name}({args[0].text}, {number_text(0.0 if value is None else value)}"
                f"{tail})")

    def nothing_to_fit(self, args: Arguments, missing: float | None) -> SchemaError:
        also = "" if missing is None else f" or {missing:g}"
        return SchemaError(f"{self.name} cannot fit {args[0].text}: every training value is "
                           f"NULL, NaN{also} (Flink ML: 'Surrogate cannot be computed')")


def _missing(x: str, missing: float | None) -> str:
    """x is NULL or NaN, or equals `missing`."""
    if missing is None:
        return is_missing(x)
    return f"({is_missing(x)} OR {x} = {number_text(missing)})"


FEATURE_FUNCTIONS = (Imputer(),)

"""Replacing missing values.

    ML_IMPUTER(x, value)    x, or `value` where x is NULL (or NaN); `value` is a number or a
        'string' literal, matching x's type
    ML_IMPUTER(x, 'mean' | 'median' | 'most_frequent') OVER ()   (TRANSFORM only): the value
        is the training rows' AVG, PERCENTILE 0.5, or most frequent non-NULL value (ties: the
        smallest as a string); stored as ML_IMPUTER(x, <value>). mean and median cast x to
        DOUBLE; most_frequent keeps x's type when it is a string, else casts to DOUBLE.
"""

from __future__ import annotations

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
    usage = "ML_IMPUTER(x, value)"
    fitted_usage = "ML_IMPUTER(x, 'mean' | 'median' | 'most_frequent') OVER ()"

    def explicit(self, args: Arguments, call: ir.FeatureCall) -> Params:
        self.count(args, call, 2, 2)
        value = args[1].value
        if not args[1].is_literal or value is None or isinstance(value, (bool, tuple)):
            raise FeatureArgumentError(
                f"{self.name}'s replacement must be a number or 'string' literal, found "
                f"{args[1].text!r}", args[1].position)
        return {"value": value}

    def elements(self, args: Arguments, params: Params, sql_of: SqlOf) -> list[str]:
        value = params["value"]
        if isinstance(value, str):
            return [f"COALESCE({as_string(sql_of(args[0]))}, {quote_literal(value)})"]
        x = as_double(sql_of(args[0]))
        return [f"CASE WHEN {is_missing(x)} THEN {number_text(float(value))} ELSE {x} END"]

    def fit_options(self, args: Arguments, call: ir.FeatureCall) -> Params:
        self.count(args, call, 2, 2, self.fitted_usage)
        strategy = self.string(args[1], "strategy").lower()
        if strategy not in STRATEGIES:
            raise FeatureArgumentError(f"{self.name}'s strategy must be one of "
                                       f"{', '.join(STRATEGIES)}, found {args[1].text}",
                                       args[1].position)
        return {"strategy": strategy}

    def requests(self, args: Arguments, options: Params, sql_of: SqlOf) -> FitRequest:
        x = sql_of(args[0])
        strategy = options["strategy"]
        if strategy == "mean":
            return FitRequest({"value": f"AVG({present_double(x)})"})
        if strategy == "median":
            return FitRequest({"value": f"PERCENTILE({present_double(x)}, 0.5E0)"})
        return FitRequest(vocabulary=Vocabulary(as_string(x), 1))

    def fitted_text(self, args: Arguments, options: Params, result: FitResult) -> str:
        if options["strategy"] == "most_frequent":
            if not result.vocabulary:
                return args[0].text
            value = result.vocabulary[0][0]
            try:
                return f"{self.name}({args[0].text}, {number_text(float(value))})"
            except ValueError:
                return f"{self.name}({args[0].text}, {quote_literal(value)})"
        value = result.aggregates["value"]
        return f"{self.name}({args[0].text}, {number_text(0.0 if value is None else value)})"


FEATURE_FUNCTIONS = (Imputer(),)

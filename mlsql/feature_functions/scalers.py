"""Scalers: standard, min-max, max-abs, robust. NULL (and NaN) in, NULL out.

    ML_STANDARD_SCALER(x, mean, std)          (x - mean) / std          std > 0
    ML_MIN_MAX_SCALER(x, min, max)            (x - min) / (max - min), clipped to [0, 1]
    ML_MAX_ABS_SCALER(x, max_abs)             x / max_abs               max_abs > 0
    ML_ROBUST_SCALER(x, median, q1, q3)       (x - median) / (q3 - q1)  q3 > q1

A parameter is a number or any numeric expression (`CAST(0 AS DOUBLE)`, a column, a scalar
subquery's column after a join): numbers are checked before the job (std > 0, min < max,
...); where an expression breaks the rule on a row, that row's result is NULL.

Fitted (`ML_..._SCALER(x) OVER ()`): the mean and the population standard deviation
(scikit-learn's StandardScaler), MIN/MAX, MAX(ABS(x)), and PERCENTILE at 0.25/0.5/0.75 (linear
interpolation, as numpy) over the training rows, NULLs ignored. A constant column (zero
spread) gets a divisor of 1, as scikit-learn does, so it scales to 0 (min-max: to 0).

The standard scaler's fitted form takes scikit-learn's with_mean and with_std, and the rule:

    ML_STANDARD_SCALER(x [, with_mean, with_std [, 'scikit-learn' | 'flink-ml']]) OVER ()

'scikit-learn' (the default): the population standard deviation, and a zero one divides by 1.
'flink-ml' (Flink ML's StandardScaler, which mlsql.pipeline's follows): the sample standard
deviation (0 for one row), and a zero one scales every value to 0.

The min-max scaler's fitted form takes the output range and the rule:

    ML_MIN_MAX_SCALER(x [, lower, upper [, 'bigquery' | 'flink-ml']]) OVER ()

'bigquery' (the default): clipped to [lower, upper] (default [0, 1]), a constant column to
lower. 'flink-ml' (Flink ML's MinMaxScaler, mlsql.pipeline's): x * scale + offset, not
clipped, and a column whose max and min differ by less than 1e-5 to (lower + upper) / 2.

The robust scaler's fitted form takes scikit-learn's with_centering and with_scaling, the
quantile range, and the rule:

    ML_ROBUST_SCALER(x [, with_centering, with_scaling [, lower, upper [, rule]]]) OVER ()

'scikit-learn' (the default): a zero range divides by 1. 'flink-ml' (Flink ML's
RobustScaler): a zero range scales every value to 0. The quantiles are exact (PERCENTILE,
interpolated as numpy), within any relative error Flink ML's sketch allows.
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
    as_double,
    constant_where_present,
    is_missing,
    number_text,
    present_double,
)
from mlsql.syntax import ir


class _Scaler(FeatureFunction):
    fittable = True
    parameters: tuple[str, ...] = ()

    def explicit(self, args: Arguments, call: ir.FeatureCall) -> Params:
        """Each parameter's number, or None where it is an expression, read on each row."""
        self.count(args, call, 1 + len(self.parameters), 1 + len(self.parameters))
        params = {name: self.number(arg, name, "a number or a numeric expression")
                  if arg.is_literal else None
                  for name, arg in zip(self.parameters, args[1:], strict=True)}
        if None not in params.values():
            self.check(params, args, call)
        return params

    def check(self, params: Params, args: Arguments, call: ir.FeatureCall) -> None:
        pass

    def valid(self, sql: dict[str, str]) -> str | None:
        """The rule `check` applies to numbers, as SQL over the parameters' SQL."""
        return None

    def fit_options(self, args: Arguments, call: ir.FeatureCall) -> Params:
        self.count(args, call, 1, 1, self.fitted_usage)
        return {}

    def elements(self, args: Arguments, params: Params, sql_of: SqlOf) -> list[str]:
        x = as_double(sql_of(args[0]))
        sql = {name: number_text(params[name]) if params[name] is not None else sql_of(arg)
               for name, arg in zip(self.parameters, args[1:], strict=True)}
        missing = is_missing(x)
        if None in params.values() and (rule := self.valid(sql)) is not None:
            missing = f"{missing} OR NOT ({rule})"
        return [f"CASE WHEN {missing} THEN CAST(NULL AS DOUBLE) "
                f"ELSE {self.formula(x, params, sql)} END"]

    def formula(self, x: str, params: Params, sql: dict[str, str]) -> str:
        """The scaled value of x; `params` holds the numbers, `sql` every parameter's SQL."""
        raise NotImplementedError

    def fitted_text(self, args: Arguments, options: Params, result: FitResult) -> str:
        values = self.from_aggregates(result.aggregates)
        constants = ", ".join(number_text(values[name]) for name in self.parameters)
        return f"{self.name}({args[0].text}, {constants})"

    def from_aggregates(self, aggregates: dict) -> dict[str, float]:
        raise NotImplementedError

    @staticmethod
    def spread(value: float | None) -> float:
        return 1.0 if value is None or value == 0 else float(value)


def _difference(params: Params, sql: dict[str, str], high: str, low: str) -> str:
    """high - low: computed here for two numbers (the stored constant as before), else SQL."""
    if params[high] is not None and params[low] is not None:
        return number_text(params[high] - params[low])
    return f"({sql[high]} - {sql[low]})"


def _value(aggregates: dict, key: str) -> float:
    value = aggregates[key]
    return 0.0 if value is None else float(value)


class StandardScaler(_Scaler):
    name = "ML_STANDARD_SCALER"
    parameters = ("mean", "std")
    usage = "ML_STANDARD_SCALER(x, mean, std)"
    fitted_usage = ("ML_STANDARD_SCALER(x [, with_mean, with_std [, 'scikit-learn' | "
                    "'flink-ml']]) OVER ()")
    RULES = ("scikit-learn", "flink-ml")

    def check(self, params: Params, args: Arguments, call: ir.FeatureCall) -> None:
        if params["std"] <= 0:
            raise FeatureArgumentError(f"{self.name}'s std must be > 0, found {args[2].text}",
                                       args[2].position)

    def valid(self, sql: dict[str, str]) -> str:
        return f"{sql['std']} > 0"

    def formula(self, x: str, params: Params, sql: dict[str, str]) -> str:
        return f"({x} - {sql['mean']}) / {sql['std']}"

    def fit_options(self, args: Arguments, call: ir.FeatureCall) -> Params:
        self.fitted_count(args, call, (1, 3, 4))
        options: Params = {"with_mean": True, "with_std": True, "rule": "scikit-learn"}
        for name, arg in zip(("with_mean", "with_std"), args[1:3], strict=False):
            options[name] = self.flag(arg, name)
        if len(args) == 4:
            options["rule"] = self.choice(args[3], "rule", self.RULES)
        return options

    def requests(self, args: Arguments, options: Params, sql_of: SqlOf) -> FitRequest:
        x = present_double(sql_of(args[0]))
        deviation = "STDDEV_SAMP" if options.get("rule") == "flink-ml" else "STDDEV_POP"
        return FitRequest({"mean": f"AVG({x})", "std": f"{deviation}({x})"})

    def fitted_text(self, args: Arguments, options: Params, result: FitResult) -> str:
        mean = _value(result.aggregates, "mean") if options.get("with_mean", True) else 0.0
        std = result.aggregates["std"]
        if not options.get("with_std", True):
            std = 1.0
        elif options.get("rule") == "flink-ml" and not std:  # Flink ML scales by 1/std or 0
            return constant_where_present(args[0].text, "0E0")
        return (f"{self.name}({args[0].text}, {number_text(mean)}, "
                f"{number_text(self.spread(std))})")


class MinMaxScaler(_Scaler):
    name = "ML_MIN_MAX_SCALER"
    parameters = ("min", "max")
    usage = "ML_MIN_MAX_SCALER(x, min, max)"
    fitted_usage = ("ML_MIN_MAX_SCALER(x [, lower, upper [, 'bigquery' | 'flink-ml']]) "
                    "OVER ()")
    RULES = ("bigquery", "flink-ml")
    FLINK_ML_CONSTANT = 1e-5  # Flink ML's MinMaxScalerModel: a smaller range is constant

    def check(self, params: Params, args: Arguments, call: ir.FeatureCall) -> None:
        if params["max"] <= params["min"]:
            raise FeatureArgumentError(
                f"{self.name} needs min < max, found {args[1].text} and {args[2].text}",
                args[1].position)

    def valid(self, sql: dict[str, str]) -> str:
        return f"{sql['max']} > {sql['min']}"

    def formula(self, x: str, params: Params, sql: dict[str, str]) -> str:
        scaled = f"({x} - {sql['min']}) / {_difference(params, sql, 'max', 'min')}"
        return f"LEAST(GREATEST({scaled}, 0E0), 1E0)"

    def fit_options(self, args: Arguments, call: ir.FeatureCall) -> Params:
        self.fitted_count(args, call, (1, 3, 4))
        options: Params = {"lower": 0.0, "upper": 1.0, "rule": "bigquery"}
        if len(args) >= 3:
            options["lower"] = self.number(args[1], "lower")
            options["upper"] = self.number(args[2], "upper")
            if options["upper"] <= options["lower"]:
                raise FeatureArgumentError(
                    f"{self.name} OVER () needs lower < upper, found {args[1].text} and "
                    f"{args[2].text}", args[1].position)
        if len(args) == 4:
            options["rule"] = self.choice(args[3], "rule", self.RULES)
        return options

    def requests(self, args: Arguments, options: Params, sql_of: SqlOf) -> FitRequest:
        x = present_double(sql_of(args[0]))
        return FitRequest({"min": f"MIN({x})", "max": f"MAX({x})"})

    def fitted_text(self, args: Arguments, options: Params, result: FitResult) -> str:
        low = _value(result.aggregates, "min")
        high = _value(result.aggregates, "max")
        lower, upper = options.get("lower", 0.0), options.get("upper", 1.0)
        missing = is_missing(as_double(args[0].text))
        if options.get("rule") == "flink-ml":
            if abs(high - low) < self.FLINK_ML_CONSTANT:
                scale, offset = 0.0, (upper + lower) / 2
            else:
                scale = (upper - lower) / (high - low)
                offset = lower - low * scale
            return (f"CASE WHEN {missing} THEN CAST(NULL AS DOUBLE) ELSE "
                    f"{as_double(args[0].text)} * {number_text(scale)} + "
                    f"{number_text(offset)} END")
        if high <= low:  # a constant column: every value scales to lower
            return constant_where_present(args[0].text, number_text(lower))
        scaled = f"{self.name}({args[0].text}, {number_text(low)}, {number_text(high)})"
        if (lower, upper) == (0.0, 1.0):
            return scaled
        return f"({number_text(lower)} + {number_text(upper - lower)} * {scaled})"


class MaxAbsScaler(_Scaler):
    name = "ML_MAX_ABS_SCALER"
    parameters = ("max_abs",)
    usage = "ML_MAX_ABS_SCALER(x, max_abs)"
    fitted_usage = "ML_MAX_ABS_SCALER(x) OVER ()"

    def check(self, params: Params, args: Arguments, call: ir.FeatureCall) -> None:
        if params["max_abs"] <= 0:
            raise FeatureArgumentError(
                f"{self.name}'s max_abs must be > 0, found {args[1].text}", args[1].position)

    def valid(self, sql: dict[str, str]) -> str:
        return f"{sql['max_abs']} > 0"

    def formula(self, x: str, params: Params, sql: dict[str, str]) -> str:
        return f"{x} / {sql['max_abs']}"

    def requests(self, args: Arguments, options: Params, sql_of: SqlOf) -> FitRequest:
        return FitRequest({"max_abs": f"MAX(ABS({present_double(sql_of(args[0]))}))"})

    def from_aggregates(self, aggregates: dict) -> dict[str, float]:
        return {"max_abs": self.spread(aggregates["max_abs"])}


class RobustScaler(_Scaler):
    name = "ML_ROBUST_SCALER"
    parameters = ("median", "q1", "q3")
    usage = "ML_ROBUST_SCALER(x, median, q1, q3)"
    fitted_usage = ("ML_ROBUST_SCALER(x [, with_centering, with_scaling [, lower, upper "
                    "[, 'scikit-learn' | 'flink-ml']]]) OVER ()")
    RULES = ("scikit-learn", "flink-ml")

    def check(self, params: Params, args: Arguments, call: ir.FeatureCall) -> None:
        if params["q3"] <= params["q1"]:
            raise FeatureArgumentError(
                f"{self.name} needs q1 < q3, found {args[2].text} and {args[3].text}",
                args[2].position)

    def valid(self, sql: dict[str, str]) -> str:
        return f"{sql['q3']} > {sql['q1']}"

    def formula(self, x: str, params: Params, sql: dict[str, str]) -> str:
        return f"({x} - {sql['median']}) / {_difference(params, sql, 'q3', 'q1')}"

    def fit_options(self, args: Arguments, call: ir.FeatureCall) -> Params:
        self.fitted_count(args, call, (1, 3, 5, 6))
        options: Params = {"with_centering": True, "with_scaling": True, "lower": 0.25,
                           "upper": 0.75, "rule": "scikit-learn"}
        for name, arg in zip(("with_centering", "with_scaling"), args[1:3], strict=False):
            options[name] = self.flag(arg, name)
        if len(args) >= 5:
            options["lower"] = self.number(args[3], "lower")
            options["upper"] = self.number(args[4], "upper")
            if not 0 <= options["lower"] < options["upper"] <= 1:
                raise FeatureArgumentError(
                    f"{self.name} OVER () needs 0 <= lower < upper <= 1, found {args[3].text} "
                    f"and {args[4].text}", args[3].position)
        if len(args) == 6:
            options["rule"] = self.choice(args[5], "rule", self.RULES)
        return options

    def requests(self, args: Arguments, options: Params, sql_of: SqlOf) -> FitRequest:
        x = present_double(sql_of(args[0]))
        points = ", ".join(number_text(p) for p in (options.get("lower", 0.25), 0.5,
                                                    options.get("upper", 0.75)))
        return FitRequest({"quartiles": (f"PERCENTILE({x}, ARRAY[{points}])", 3)})

    def fitted_text(self, args: Arguments, options: Params, result: FitResult) -> str:
        q1, median, q3 = [float(v) for v in result.aggregates["quartiles"] or (0, 0, 0)]
        if not options.get("with_centering", True):
            median = 0.0
        if not options.get("with_scaling", True):
            q1, q3 = 0.0, 1.0
        elif q3 <= q1 and options.get("rule") == "flink-ml":  # Flink ML scales by 0
            return constant_where_present(args[0].text, "0E0")
        elif q3 <= q1:  # no spread: divide by 1, as scikit-learn
            q1, q3 = 0.0, 1.0
        return (f"{self.name}({args[0].text}, {number_text(median)}, {number_text(q1)}, "
                f"{number_text(q3)})")


FEATURE_FUNCTIONS = (StandardScaler(), MinMaxScaler(), MaxAbsScaler(), RobustScaler())

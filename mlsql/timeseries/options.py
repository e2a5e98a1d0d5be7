"""A time-series call's JSON_OBJECT options: names, types, ranges and defaults, checked before
any job starts, each error naming the option and where it is written."""

from __future__ import annotations

from dataclasses import dataclass

from mlsql.errors import OptionError, Site, did_you_mean
from mlsql.syntax import ir
from udfs.timeseries.arima_track import ArimaSpec
from udfs.timeseries.robust import RobustPlan
from udfs.timeseries.series_function import ANOMALIES, FORECAST, SeriesPlan


@dataclass(frozen=True)
class Option:
    kind: type  # int, float or bool
    default: object
    low: float | None = None
    high: float | None = None
    meaning: str = ""


ORDERS = ("p", "d", "q", "P", "D", "Q")
ARIMA_OPTIONS: dict[str, Option] = {
    "p": Option(int, None, 0, 10, "autoregressive order (none of p, d, q, P, D, Q: auto-ARIMA)"),
    "d": Option(int, None, 0, 2, "differencing order"),
    "q": Option(int, None, 0, 10, "moving-average order"),
    "P": Option(int, None, 0, 5, "seasonal autoregressive order (needs m)"),
    "D": Option(int, None, 0, 1, "seasonal differencing order (needs m)"),
    "Q": Option(int, None, 0, 5, "seasonal moving-average order (needs m)"),
    "m": Option(int, 1, 1, 1000, "seasonal period, in rows"),
    "enableStl": Option(bool, False, meaning="fit on the series less its STL seasonal part"),
    "horizon": Option(int, 1, 1, 1000, "steps forecast ahead"),
    "minTrainingSize": Option(int, 128, 4, 100_000, "rows a key needs before its first fit"),
    "maxTrainingSize": Option(int, 512, 4, 100_000, "rows each fit uses, the latest"),
    "updateInterval": Option(int, 128, 1, 100_000, "rows between refits (the Kalman filter "
                             "updates the forecast at every row)"),
    "evalWindowSize": Option(int, 16, 1, 100_000, "latest one-step errors in rmse"),
    "confidencePercentage": Option(float, 99.0, 0.0, 100.0, "the interval's coverage, %"),
}
ROBUST_OPTIONS: dict[str, Option] = {
    "window": Option(int, 20, 3, 100_000, "previous rows the median and MAD are taken over"),
    "threshold": Option(float, 3.0, 0.0, None, "robust z-score above which a row is flagged"),
}


def series_plan(call: ir.SeriesCall) -> SeriesPlan:
    values = _read(call, ARIMA_OPTIONS)
    given = {name: values[name] for name in ORDERS if values[name] is not None}
    period = values["m"]
    if period == 1 and ({"P", "D", "Q"} & given.keys() or values["enableStl"]):
        _fail(call, "m", "the seasonal orders P, D, Q and enableStl need the seasonal period m "
              "(rows per season) greater than 1")
    if values["minTrainingSize"] > values["maxTrainingSize"]:
        _fail(call, "minTrainingSize", f"minTrainingSize ({values['minTrainingSize']}) is "
              f"larger than maxTrainingSize ({values['maxTrainingSize']})")
    if period > 1 and values["maxTrainingSize"] < 2 * period:
        _fail(call, "maxTrainingSize", f"a seasonal model needs two seasons of rows: "
              f"maxTrainingSize of at least {2 * period} for m = {period}")
    order = None
    if given:
        order = (given.get("p", 0), given.get("d", 0), given.get("q", 0))
    spec = ArimaSpec(order=order,
                     seasonal_order=(given.get("P", 0), given.get("D", 0), given.get("Q", 0)),
                     period=period, stl=values["enableStl"])
    return SeriesPlan(kind=FORECAST if call.function == ir.FORECAST else ANOMALIES, spec=spec,
                      min_training=values["minTrainingSize"],
                      max_training=values["maxTrainingSize"],
                      update_interval=values["updateInterval"], horizon=values["horizon"],
                      level=values["confidencePercentage"],
                      eval_window=values["evalWindowSize"])


def robust_plan(call: ir.SeriesCall) -> RobustPlan:
    values = _read(call, ROBUST_OPTIONS)
    return RobustPlan(window=values["window"], threshold=values["threshold"],
                      width=len(call.values))


def _read(call: ir.SeriesCall, known: dict[str, Option]) -> dict[str, object]:
    values = {name: option.default for name, option in known.items()}
    seen: set[str] = set()
    for given in call.options:
        name = given.name
        where = Site(f"{call.function} option {name!r}", given.position)
        if name not in known:
            hint = did_you_mean(name, known) or "; the options: " + ", ".join(known)
            raise OptionError(f"unknown option {name!r}{hint}", at=Site(call.function,
                                                                        given.position))
        if name in seen:
            raise OptionError("given twice", at=where)
        seen.add(name)
        values[name] = _value(known[name], given.value, where)
    return values


def _value(option: Option, value: object, where: Site) -> object:
    if option.kind is bool:
        if not isinstance(value, bool):
            raise OptionError(f"expected TRUE or FALSE, got {value!r}", at=where)
        return value
    if isinstance(value, bool) or not isinstance(value, float):
        raise OptionError(f"expected a number, got {value!r}", at=where)
    if option.kind is int:
        if value != int(value):
            raise OptionError(f"expected a whole number, got {value:g}", at=where)
        value = int(value)
    inside = ((option.low is None or value >= option.low)
              and (option.high is None or value <= option.high))
    if option.kind is float and option.low == 0.0 and value <= 0.0:
        inside = False
    if option.kind is float and option.high == 100.0 and value >= 100.0:
        inside = False
    if not inside:
        bounds = (f"between {option.low:g} and {option.high:g}" if option.high is not None
                  else f"greater than {option.low:g}")
        raise OptionError(f"must be {bounds} ({option.meaning}), got {value:g}", at=where)
    return value


def _fail(call: ir.SeriesCall, name: str, message: str) -> None:
    position = next((o.position for o in call.options if o.name == name), call.position)
    raise OptionError(message, at=Site(call.function, position))

"""Compile a time-series call to Flink SQL.

    ML_FORECAST(v, ts, JSON_OBJECT(...)) OVER (PARTITION BY k ORDER BY ts ...)
becomes
    __mlsql_forecast_rows(__mlsql_series_<digest>(JSON_ARRAY(k NULL ON NULL),
        __mlsql_series_history(<rows>, CAST(ts AS TIMESTAMP(3)), CAST(v AS DOUBLE))
        OVER (PARTITION BY k ORDER BY ts ...)))

The OVER clause is the user's own: Flink orders each key's rows by event time, in batch and
on a stream, and keeps the history (a JVM ring buffer of the rows the model needs) in its
checkpointed state. The Python function fits and carries the models (udfs/timeseries).
"""

from __future__ import annotations

import hashlib

from pyflink.table import DataTypes
from pyflink.table.types import DataType
from pyflink.table.udf import udf

from mlsql.errors import MlsqlError
from mlsql.jvm.build import JvmUnavailable, scorer_jar
from mlsql.runtime.environment import FlinkRuntime
from mlsql.syntax import ir
from mlsql.timeseries.options import robust_plan, series_plan
from udfs.timeseries.robust import RobustFunction
from udfs.timeseries.series_function import ANOMALIES, SeriesFunction

HISTORY = ("__mlsql_series_history", "io.mlsql.timeseries.SeriesHistory")
FORECAST_ROWS = ("__mlsql_forecast_rows", "io.mlsql.timeseries.ForecastRows")


def ensure_history(runtime: FlinkRuntime, where) -> None:
    """The JVM functions the time-series calls compile to, registered once."""
    for name, class_name in (HISTORY, FORECAST_ROWS):
        runtime.ensure_java_function(name, class_name, _jar(where))


def render_series_call(call: ir.SeriesCall, runtime: FlinkRuntime) -> str:
    ensure_history(runtime, call.where)
    if call.function == ir.DETECT_ANOMALIES_ROBUST:
        plan = robust_plan(call)
        function = _register(runtime, "robust", plan, lambda: udf(
            RobustFunction(plan), result_type=ROBUST_TYPE, func_type="pandas"))
        return f"{function}({_history(call, plan.capacity)})"
    plan = series_plan(call)
    result_type = ANOMALY_TYPE if plan.kind == ANOMALIES else STEPS_TYPE
    function = _register(runtime, plan.kind, plan, lambda: udf(
        SeriesFunction(plan), result_type=result_type, func_type="pandas"))
    key = f"JSON_ARRAY({', '.join(call.partition)} NULL ON NULL)" if call.partition else "''"
    scored = f"{function}({key}, {_history(call, plan.capacity)})"
    return scored if plan.kind == ANOMALIES else f"{FORECAST_ROWS[0]}({scored})"


def _history(call: ir.SeriesCall, capacity: int) -> str:
    values = ", ".join(f"CAST({value} AS DOUBLE)" for value in call.values)
    return (f"{HISTORY[0]}({capacity}, CAST({call.time} AS TIMESTAMP(3)), {values}) "
            f"OVER {call.window}")


def _register(runtime: FlinkRuntime, kind: str, plan: object, build) -> str:
    name = f"__mlsql_{kind}_{hashlib.sha1(repr(plan).encode()).hexdigest()[:10]}"
    runtime.ensure_function(name, build)
    return name


def _jar(where):
    try:
        return scorer_jar()
    except JvmUnavailable as error:
        raise MlsqlError(f"{error}; {where.subject} keeps each key's history in a JVM "
                         "aggregate: install a JDK (javac) and run it again",
                         at=where) from None


def _row(*fields: tuple[str, DataType]) -> DataType:
    return DataTypes.ROW([DataTypes.FIELD(name, kind) for name, kind in fields])


ANOMALY_TYPE = _row(("timestamp", DataTypes.TIMESTAMP(3)), ("actual_value", DataTypes.DOUBLE()),
                    ("forecast_value", DataTypes.DOUBLE()), ("lower_bound", DataTypes.DOUBLE()),
                    ("upper_bound", DataTypes.DOUBLE()), ("is_anomaly", DataTypes.BOOLEAN()),
                    ("rmse", DataTypes.DOUBLE()), ("aic", DataTypes.DOUBLE()))
STEPS_TYPE = _row(("times", DataTypes.ARRAY(DataTypes.TIMESTAMP(3))),
                  ("values", DataTypes.ARRAY(DataTypes.DOUBLE())),
                  ("lower", DataTypes.ARRAY(DataTypes.DOUBLE())),
                  ("upper", DataTypes.ARRAY(DataTypes.DOUBLE())),
                  ("rmse", DataTypes.DOUBLE()), ("aic", DataTypes.DOUBLE()))
ROBUST_TYPE = _row(("timestamp", DataTypes.TIMESTAMP(3)), ("is_anomaly", DataTypes.BOOLEAN()),
                   ("anomaly_score", DataTypes.DOUBLE()),
                   ("z_scores", DataTypes.ARRAY(DataTypes.DOUBLE())),
                   ("medians", DataTypes.ARRAY(DataTypes.DOUBLE())))

"""BigQuery's model form of time series: CREATE MODEL ... 'model_type' = 'arima_plus' trains
one ARIMA per series; ML_FORECAST(MODEL m [, MAP[...]]) forecasts every series (planned here,
no job: a table of keys x steps), ML_DETECT_ANOMALIES(TABLE t, MODEL m [, MAP[...]]) flags
new rows against the stored models, in batch and on a stream (the OVER machinery of the
time-series functions, with the models fixed)."""

from __future__ import annotations

import json
import time
from typing import Any

import numpy as np
import pandas as pd
from pyflink.table import DataTypes
from pyflink.table.udf import udf

from mlsql import tuning
from mlsql.errors import MlsqlError, OptionError, SchemaError, Site, did_you_mean
from mlsql.models.registry import METADATA_FILE, now_iso
from mlsql.planner.call_options import call_options
from mlsql.planner.context import PlanContext
from mlsql.planner.predict import function_name, resolve_model
from mlsql.planner.rewrite import rewrite
from mlsql.planner.values import table_subquery
from mlsql.runtime.flink_types import Column
from mlsql.syntax import ir
from mlsql.syntax.dialect import quote_identifier
from mlsql.syntax.secrets import mask_sql
from mlsql.timeseries.render import HISTORY, ensure_history
from mlsql.timeseries.series_model import SeriesOptions, fit_series, forecast_rows
from mlsql.training.extract import extract
from mlsql.version import __version__
from udfs.predictors import PREDICTOR_FILE
from udfs.timeseries.stored import DETECTION_FIELDS, SERIES_FILE, StoredSeriesFunction

NUMERIC = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "FLOAT", "DOUBLE", "DECIMAL")
TIMES = ("TIMESTAMP_WITHOUT_TIME_ZONE", "TIMESTAMP_WITH_LOCAL_TIME_ZONE", "DATE")
KEYS = ("CHAR", "VARCHAR", "TINYINT", "SMALLINT", "INTEGER", "BIGINT")
FORECAST_COLUMNS = [("forecast_timestamp", "STRING"), ("forecast_value", "DOUBLE"),
                    ("standard_error", "DOUBLE"), ("confidence_level", "DOUBLE"),
                    ("prediction_interval_lower_bound", "DOUBLE"),
                    ("prediction_interval_upper_bound", "DOUBLE")]
HISTORY_ROWS = 512  # new rows per series a worker can rebuild its state from exactly
EXTRACTED = [Column("k", "STRING", "VARCHAR"), Column("ts", "STRING", "VARCHAR"),
             Column("v", "DOUBLE", "DOUBLE")]


def train_series(statement: ir.CreateModel, context: PlanContext,
                 resolved: tuning.ModelOptions) -> dict[str, Any]:
    """Fit and publish; returns what the summary shows."""
    started = time.monotonic()
    options = resolved.values
    if resolved.tuner is not None:
        raise OptionError("arima_plus chooses its orders itself (auto_arima): no tuning "
                          "options", at=Site("CREATE MODEL", statement.position))
    series_options = _series_options(options, statement)
    query_sql = rewrite(statement.query, context)
    columns = context.query_columns(query_sql, statement.query_position)
    names = _columns(columns, options, statement)
    key = f"CAST({quote_identifier(names['id'])} AS STRING)" if names["id"] else "''"
    context.progress(f"training {statement.name} (arima_plus) from the query at "
                     f"{statement.query_position}")
    # Times as text: the extraction's CSV carries numbers and strings.
    expressions = [key, f"CAST(CAST({quote_identifier(names['ts'])} AS TIMESTAMP(3)) AS STRING)",
                   f"CAST({quote_identifier(names['data'])} AS DOUBLE)"]
    frame = extract(context.runtime, query_sql, EXTRACTED, expressions, context.progress)
    frame["k"] = frame["k"].fillna("")  # the one series of a model without an id column
    frame["ts"] = pd.to_datetime(frame["ts"])
    document = fit_series(frame, series_options, context.progress)
    fitted = document["series"]
    if not fitted:
        raise MlsqlError(f"no series could be modelled: {document['skipped']['too_short']} "
                         f"have fewer than {series_options.min_length} rows "
                         "(min_time_series_length), "
                         f"{document['skipped']['not_fitted']} could not be fitted",
                         at=Site("CREATE MODEL", statement.position))
    aics = [entry["aic"] for entry in fitted if entry["aic"] is not None]
    metrics = {"series": float(len(fitted)),
               "mean_aic": float(np.mean(aics)) if aics else float("nan"),
               "mean_variance": float(np.mean([entry["sigma2"] for entry in fitted]))}
    with context.registry.new_version(statement.name) as staged:
        (staged.path / SERIES_FILE).write_text(json.dumps(document))
        outputs = [{"name": name, "type": kind} for name, kind in FORECAST_COLUMNS]
        (staged.path / PREDICTOR_FILE).write_text(json.dumps(
            {"format": 1, "task": "time_series", "algorithm": "arima_plus", "features": {},
             "outputs": outputs}))
        (staged.path / METADATA_FILE).write_text(json.dumps({
            "name": statement.name, "model_type": "arima_plus", "task": "time_series",
            "label": None,
            "inputs": [{"name": names[part], "type": column.type.replace(" *ROWTIME*", ""),
                        "kind": part}
                       for part, column in names["columns"].items()],
            "outputs": outputs,
            "options": {k: (list(v) if isinstance(v, tuple) else v)
                        for k, v in options.items() if v is not None},
            "training_mode": "single", "query": mask_sql(statement.query.text), "metrics": metrics,
            "metrics_on": "train",
            "rows": {"total": len(frame), "train": len(frame), "eval": 0},
            "series": {"modelled": len(fitted), **document["skipped"]},
            "created_at": now_iso(), "mlsql_version": __version__,
            "training": {"seconds": time.monotonic() - started, "loss": None, "history": []},
        }, indent=1))
    context.progress(f"published {statement.name} version {staged.version}")
    return {"model": statement.name, "version": staged.version, "rows": len(frame),
            "seconds": time.monotonic() - started, "metrics": metrics}


def _series_options(options: dict[str, Any], statement: ir.CreateModel) -> SeriesOptions:
    order = options["non_seasonal_order"]
    if options["auto_arima"] and order is not None:
        raise OptionError("non_seasonal_order needs 'auto_arima' = 'FALSE'",
                          at=Site("CREATE MODEL", statement.position))
    if not options["auto_arima"] and order is None:
        raise OptionError("'auto_arima' = 'FALSE' needs non_seasonal_order '(p, d, q)'",
                          at=Site("CREATE MODEL", statement.position))
    if options["min_time_series_length"] > options["max_time_series_length"]:
        raise OptionError("min_time_series_length is larger than max_time_series_length",
                          at=Site("CREATE MODEL", statement.position))
    return SeriesOptions(order=order, period=options["seasonal_period"],
                         min_length=options["min_time_series_length"],
                         max_length=options["max_time_series_length"])


def _columns(columns: list[Column], options: dict[str, Any],
             statement: ir.CreateModel) -> dict[str, Any]:
    by_name = {c.name: c for c in columns}
    wanted = {"ts": ("time_series_timestamp_col", TIMES, "a TIMESTAMP or DATE"),
              "data": ("time_series_data_col", NUMERIC, "numeric"),
              "id": ("time_series_id_col", KEYS, "a string or an integer")}
    names: dict[str, Any] = {"columns": {}}
    for part, (option, roots, kind) in wanted.items():
        name = options[option]
        if name is None:
            if part != "id":
                raise OptionError(f"arima_plus needs {option!r} naming a column of the query",
                                  at=Site("CREATE MODEL", statement.position))
            names[part] = None
            continue
        if name not in by_name:
            raise SchemaError(f"{option} {name!r} is not a column of the query"
                              f"{did_you_mean(name, by_name)}; its columns: "
                              f"{', '.join(by_name)}", at=Site("CREATE MODEL",
                                                              statement.query_position))
        if by_name[name].root not in roots:
            raise SchemaError(f"{option} {name!r} is {by_name[name].type}; it must be {kind}",
                              at=Site("CREATE MODEL", statement.query_position))
        names[part] = name
        names["columns"][part] = by_name[name]
    return names


def forecast_subquery(call: ir.AnalysisCall, context: PlanContext) -> str:
    """ML_FORECAST(MODEL m [, MAP['horizon', 'n', 'confidence_level', 'p']])."""
    model = _time_series_model(call, context)
    options = model.metadata.get("options", {})
    config = _config(call, {"horizon": "3", "confidence_level": "0.95"})
    horizon = _number(config, "horizon", int, call)
    confidence = _number(config, "confidence_level", float, call)
    if not 1 <= horizon <= int(options.get("horizon", 1000)):
        raise OptionError(f"horizon must be from 1 to the model's horizon option "
                          f"({options.get('horizon', 1000)}), got {horizon}", at=call.where)
    if not 0.0 <= confidence < 1.0:
        raise OptionError(f"confidence_level must be in [0, 1), got {confidence}",
                          at=call.where)
    series = json.loads((model.path / SERIES_FILE).read_text())["series"]
    id_column = options.get("time_series_id_col") or "series"
    rows = forecast_rows(series, horizon, confidence)
    table = table_subquery(context, "__mlsql_forecast", [(id_column, "STRING"),
                                                          *FORECAST_COLUMNS], rows)
    quoted = [quote_identifier(name) for name, _ in FORECAST_COLUMNS]
    return (f"(SELECT {quote_identifier(id_column)}, CAST({quoted[0]} AS TIMESTAMP(3)) AS "
            f"{quoted[0]}, {', '.join(quoted[1:])} FROM {table})")


def detect_subquery(call: ir.AnalysisCall, context: PlanContext) -> str:
    """ML_DETECT_ANOMALIES(TABLE t, MODEL m [, MAP['anomaly_prob_threshold', 'p']]): the
    table's rows, then is_anomaly, lower_bound, upper_bound, anomaly_probability."""
    model = _time_series_model(call, context)
    options = model.metadata["options"]
    config = _config(call, {"anomaly_prob_threshold": "0.95"})
    threshold = _number(config, "anomaly_prob_threshold", float, call)
    if not 0.0 <= threshold < 1.0:
        raise OptionError(f"anomaly_prob_threshold must be in [0, 1), got {threshold}",
                          at=call.where)
    columns = context.table_argument_columns(call.table_sql, call.table_position)
    present = {c.name for c in columns}
    for option in ("time_series_timestamp_col", "time_series_data_col", "time_series_id_col"):
        name = options.get(option)
        if name is not None and name not in present:
            raise SchemaError(f"the table has no column {name!r} ({option} of model "
                              f"{model.name!r}){did_you_mean(name, present)}", at=call.where)
    ts, data = (quote_identifier(options[o]) for o in ("time_series_timestamp_col",
                                                       "time_series_data_col"))
    id_name = options.get("time_series_id_col")
    key = f"CAST({quote_identifier(id_name)} AS STRING)" if id_name else "''"
    window = (f"(PARTITION BY {quote_identifier(id_name)} ORDER BY {ts} " if id_name
              else f"(ORDER BY {ts} ") + "RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)"
    function = _register_detector(context, model, threshold)
    ensure_history(context.runtime, call.where)
    history = (f"{HISTORY[0]}({HISTORY_ROWS}, CAST({ts} AS TIMESTAMP(3)), "
               f"CAST({data} AS DOUBLE)) OVER {window}")
    table = call.table_sql
    passed = ", ".join(quote_identifier(c.name) for c in columns)
    fields = ", ".join(f"__mlsql_detected.{quote_identifier(f)} AS {quote_identifier(f)}"
                       for f in DETECTION_FIELDS)
    return (f"(SELECT {passed}, {fields} FROM (SELECT *, {function}({key}, {history}) AS "
            f"__mlsql_detected FROM {table}))")


def _register_detector(context: PlanContext, model, threshold: float) -> str:
    name = function_name("detect", model, threshold)
    result_type = DataTypes.ROW([
        DataTypes.FIELD("is_anomaly", DataTypes.BOOLEAN()),
        DataTypes.FIELD("lower_bound", DataTypes.DOUBLE()),
        DataTypes.FIELD("upper_bound", DataTypes.DOUBLE()),
        DataTypes.FIELD("anomaly_probability", DataTypes.DOUBLE())])
    context.runtime.ensure_function(name, lambda: udf(
        StoredSeriesFunction(str(model.path), threshold), result_type=result_type,
        func_type="pandas"))
    return name


def _time_series_model(call: ir.AnalysisCall, context: PlanContext):
    model = resolve_model(call.model, context)
    if model.metadata.get("model_type") != "arima_plus":
        raise MlsqlError(f"model {model.name!r} is {model.metadata.get('model_type')}, not "
                         "arima_plus: the OVER form, ML_FORECAST(value, ts, JSON_OBJECT(...)) "
                         "OVER (...), models a series without one", at=call.where)
    return model


def _config(call: ir.AnalysisCall, defaults: dict[str, str]) -> dict[str, str]:
    return defaults | call_options(call, list(defaults))


def _number(config: dict[str, str], name: str, kind: type, call: ir.AnalysisCall):
    try:
        return kind(config[name])
    except ValueError:
        raise OptionError(f"{name} must be a number, got {config[name]!r}",
                          at=call.where) from None


ANALYSES = {ir.FORECAST: forecast_subquery, ir.DETECT_ANOMALIES: detect_subquery}

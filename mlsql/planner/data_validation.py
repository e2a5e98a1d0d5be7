"""ML_VALIDATE_DATA_SKEW and ML_VALIDATE_DATA_DRIFT, as BigQuery ML spells them.

    ML_VALIDATE_DATA_SKEW(TABLE live, MODEL m [, MAP[...]])
        `live` against the training rows of version m (its profile.json: inputs, and the
        model's outputs, `live` being scored by ML_PREDICT for those);
    ML_VALIDATE_DATA_DRIFT(TABLE base, TABLE current [, MAP[...]])
        `current` against `base`, over the columns both have (numeric buckets of equal width
        over base's range).

One row per column and statistic (mlsql.monitoring.statistics): input, metric, threshold,
value, is_anomaly. The bounded tables' buckets are counted by one Flink job each side when the
statement is planned (as ML_EVALUATE's metrics are); no row leaves Flink.

With MAP['window', '1 hour'] (and 'time', the column; else the table's event-time attribute or
its one TIMESTAMP column) `live` / `current` may be a stream: the call is one Flink SQL query
(mlsql.monitoring.windows) with window_start and window_end first, one set of rows per
tumbling window, batch or streaming alike. The reference side is known when it is planned (the
profile; `base`, bounded, counted then), so the query counts each window's buckets, joins them
with the window's totals and the reference's buckets (window joins), and sums the statistics'
terms (mlsql.monitoring.statistics_sql): window aggregations in cascade, append-only.

MAP options: BigQuery ML's `categorical_default_threshold`, `categorical_metric_type`
(L_INFTY or JENSEN_SHANNON_DIVERGENCE), `numerical_default_threshold`, `thresholds`
('amount:0.1,category:0.2', each column's main statistic), and mlsql's `psi_threshold`,
`null_rate_threshold`, `unseen_category_threshold`; and `window`, `time`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from mlsql.core.durations import parse_duration
from mlsql.errors import MlsqlError, SchemaError, Site, did_you_mean
from mlsql.models.registry import ModelVersion
from mlsql.monitoring import statistics, windows
from mlsql.monitoring.profile import (
    CATEGORICAL,
    NUMERIC,
    PROFILE_FILE,
    Distribution,
    bucket_sql,
    counts_sql,
    width_edges,
)
from mlsql.planner.bounded import require_bounded
from mlsql.planner.call_options import call_options
from mlsql.planner.context import PlanContext, table_query
from mlsql.planner.predict import predict_subquery, resolve_model
from mlsql.planner.rows import fetch_rows
from mlsql.planner.values import table_subquery
from mlsql.runtime.flink_types import Column
from mlsql.syntax import ir
from mlsql.syntax.dialect import quote_identifier

COLUMNS = [("input", "STRING"), ("metric", "STRING"), ("threshold", "DOUBLE"),
           ("value", "DOUBLE"), ("is_anomaly", "BOOLEAN")]
_FLOAT_OPTIONS = {"categorical_default_threshold": "categorical",
                  "numerical_default_threshold": "numerical", "psi_threshold": "psi",
                  "null_rate_threshold": "null_rate", "unseen_category_threshold": "unseen"}
_WINDOW_OPTIONS = ("window", "time")
_OPTIONS = (*_FLOAT_OPTIONS, "categorical_metric_type", "thresholds", *_WINDOW_OPTIONS)


@dataclass(frozen=True)
class _Window:
    seconds: int
    time: str  # the column of each row's time


def _options(call: ir.AnalysisCall) -> tuple[statistics.Thresholds, dict[str, str]]:
    """The call's thresholds, and its window options (window, time) as written."""
    options = call_options(call, _OPTIONS)
    window = {name: options.pop(name) for name in _WINDOW_OPTIONS if name in options}
    return _thresholds(options, call.where), window


def skew_subquery(call: ir.AnalysisCall, context: PlanContext) -> str:
    assert call.model is not None and call.table_sql is not None
    thresholds, window_options = _options(call)
    model = resolve_model(call.model, context)
    reference = _training_profile(model, call.where)
    table_position = call.table_position or call.position
    table_columns = context.table_argument_columns(call.table_sql, table_position)
    window = _window(call, window_options, table_columns, call.table_sql, context)
    if window is None:
        require_bounded(context.runtime, call.table_sql, table_query(call.table_sql),
                        call.where)
    columns = {c.name for c in table_columns}
    inputs = {name: Distribution.from_json(d) for name, d in reference["inputs"].items()
              if name in columns}
    if not inputs:
        raise SchemaError(f"{call.table_sql} has none of the columns model {model.name!r} "
                          f"was trained on ({', '.join(reference['inputs'])})",
                          at=Site(f"TABLE {call.table_sql}", table_position))
    pinned = ir.ModelRef(model.name, model.version, call.model.position)
    scored = predict_subquery(ir.PredictCall(0, 0, call.table_sql, table_position, pinned,
                                             None), context)
    compared = {**inputs, **{name: Distribution.from_json(d)
                             for name, d in reference["outputs"].items()}}
    if window is not None:
        return _windowed_findings(scored, window, compared, thresholds, call.where)
    current = _count(context, scored, compared, call.where)
    return _findings_table(context, compared, current, thresholds)


def drift_subquery(call: ir.AnalysisCall, context: PlanContext) -> str:
    assert call.base_sql is not None and call.table_sql is not None
    thresholds, window_options = _options(call)
    base_position = call.base_position or call.position
    table_position = call.table_position or call.position
    base = context.table_argument_columns(call.base_sql, base_position)
    current_columns = context.table_argument_columns(call.table_sql, table_position)
    window = _window(call, window_options, current_columns, call.table_sql, context)
    for table_sql in (call.base_sql, *([] if window else [call.table_sql])):
        require_bounded(context.runtime, table_sql, table_query(table_sql), call.where)
    current = {c.name: c for c in current_columns}
    shared = [c for c in base if c.name in current and c.feature_kind is not None]
    if not shared:
        raise SchemaError(f"{call.base_sql} and {call.table_sql} have no column of the same "
                          "name to compare", at=call.where)
    ranges = _numeric_ranges(context, call.base_sql, shared, call.where)
    shapes = {c.name: Distribution(
        c.feature_kind or CATEGORICAL,
        edges=width_edges(*ranges[c.name]) if c.name in ranges else [])
        for c in shared}
    base = _count(context, call.base_sql, shapes, call.where)
    if window is not None:
        return _windowed_findings(call.table_sql, window, base, thresholds, call.where)
    current = _count(context, call.table_sql, shapes, call.where)
    return _findings_table(context, base, current, thresholds)


def _findings_table(context: PlanContext, reference: Mapping[str, Distribution],
                    current: Mapping[str, Distribution], thresholds: statistics.Thresholds
                    ) -> str:
    rows = []
    for name, distribution in reference.items():
        for finding in statistics.compare(name, distribution, current[name], thresholds):
            rows.append([finding.column, finding.metric, finding.threshold, finding.value,
                         finding.is_anomaly])
    return table_subquery(context, "__mlsql_data_validation", COLUMNS, rows)


def _count(context: PlanContext, source_sql: str, shapes: Mapping[str, Distribution],
           where: Site) -> dict[str, Distribution]:
    """Each column's distribution in `source_sql`, bucketed as `shapes` bucket it."""
    buckets = {name: bucket_sql(quote_identifier(name), shape)
               for name, shape in shapes.items()}
    source = f"({table_query(source_sql)}) AS {quote_identifier('__mlsql_source')}"
    sql = (f"SELECT col, bucket, n FROM ({counts_sql(source, buckets)}) UNION ALL "
           f"SELECT CAST('__mlsql_rows' AS STRING), CAST(NULL AS STRING), COUNT(*) FROM {source}")
    frame = fetch_rows(context, sql, where)
    counted = {name: Distribution(shape.kind, edges=shape.edges)
               for name, shape in shapes.items()}
    rows = int(frame.loc[frame["col"] == "__mlsql_rows", "n"].sum())
    for name, distribution in counted.items():
        mine = frame[frame["col"] == name]
        present = mine[mine["bucket"].notna()]
        distribution.counts = {str(b): int(n) for b, n in zip(present["bucket"], present["n"],
                                                               strict=True)}
        distribution.rows = rows
        distribution.nulls = rows - sum(distribution.counts.values())
    return counted


def _numeric_ranges(context: PlanContext, table_sql: str, columns: list[Column],
                    where: Site) -> dict[str, tuple[float | None, float | None]]:
    numeric = [c.name for c in columns if c.feature_kind == NUMERIC]
    if not numeric:
        return {}
    aggregates = ", ".join(
        f"MIN(CAST({quote_identifier(n)} AS DOUBLE)) AS lo{i}, "
        f"MAX(CAST({quote_identifier(n)} AS DOUBLE)) AS hi{i}" for i, n in enumerate(numeric))
    row = fetch_rows(context, f"SELECT {aggregates} FROM ({table_query(table_sql)}) AS base",
                 where).iloc[0]
    return {n: (_number(row[f"lo{i}"]), _number(row[f"hi{i}"])) for i, n in enumerate(numeric)}


def _number(value: object) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def _training_profile(model: ModelVersion, where: Site) -> dict:
    path = model.path / PROFILE_FILE
    if not path.exists():
        raise SchemaError(f"model {model.name!r} version {model.version} has no training "
                          "profile (versions trained before mlsql stored one, in Flink with "
                          "'training_mode' = 'distributed', or imported have none); compare "
                          "two tables with ML_VALIDATE_DATA_DRIFT", at=where)
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise MlsqlError(f"model {model.name!r} version {model.version}: {path} cannot be "
                         f"read: {error}", at=where) from None


def _thresholds(options: Mapping[str, str], where: Site) -> statistics.Thresholds:
    values: dict[str, object] = {}
    for option, text in options.items():
        if option == "categorical_metric_type":
            metric = text.strip().upper()
            if metric not in (statistics.L_INFTY, statistics.JSD):
                raise MlsqlError(f"categorical_metric_type is {statistics.L_INFTY} or "
                                 f"{statistics.JSD}, not {text!r}", at=where)
            values["categorical_metric"] = metric
        elif option == "thresholds":
            values["per_column"] = _per_column(text, where)
        else:
            values[_FLOAT_OPTIONS[option]] = _fraction(option, text, where)
    return statistics.Thresholds(**values)  # type: ignore[arg-type]


def _per_column(text: str, where: Site) -> dict[str, float]:
    per_column = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, colon, value = part.rpartition(":")
        if not colon or not name.strip():
            raise MlsqlError(f"thresholds is 'column:value, ...', not {text!r}", at=where)
        per_column[name.strip()] = _fraction(f"the threshold of {name.strip()}", value, where)
    return per_column


def _fraction(what: str, text: str, where: Site) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0:
        raise MlsqlError(f"{what} is a number of at least 0, not {text!r}", at=where)
    return value


def _window(call: ir.AnalysisCall, options: Mapping[str, str], columns: list[Column],
            table_sql: str, context: PlanContext) -> _Window | None:
    """The tumbling window and time column of a windowed call; None for a bounded one."""
    if "window" not in options:
        if "time" in options:
            raise MlsqlError("the time option goes with a window: MAP['window', '1 hour', "
                             f"'time', {options['time']!r}]", at=call.where)
        return None
    seconds = _window_seconds(options["window"], call.where)
    time = _time_column(columns, options.get("time"), table_sql, call.where)
    if not context.runtime.is_batch and "*ROWTIME*" not in time.type:
        name = quote_identifier(time.name)
        raise SchemaError(f"{table_sql}'s column {time.name!r} is no event-time attribute, "
                          f"which a window on a stream needs: declare WATERMARK FOR {name} AS "
                          f"{name} - INTERVAL '5' SECOND on the table (or run in batch mode)",
                          at=call.where)
    return _Window(seconds, time.name)


def _window_seconds(text: str, where: Site) -> int:
    try:
        seconds = parse_duration(text)
    except ValueError as error:
        raise MlsqlError(f"window: {error}", at=where) from None
    if seconds < 1 or seconds != int(seconds):
        raise MlsqlError(f"window is a whole number of seconds, not {text!r}", at=where)
    return int(seconds)


def _time_column(columns: list[Column], name: str | None, table_sql: str,
                 where: Site) -> Column:
    """The column named `name`, else the table's event-time attribute, else its one TIMESTAMP
    column."""
    timestamps = [c for c in columns if c.root.startswith("TIMESTAMP")]
    if name is not None:
        named = [c for c in columns if c.name == name]
        if not named:
            raise SchemaError(f"{table_sql} has no column {name!r} (the time option)"
                              f"{did_you_mean(name, [c.name for c in columns])}", at=where)
        if named[0] not in timestamps:
            raise SchemaError(f"{table_sql}'s column {name!r} is {named[0].type}, not a "
                              "TIMESTAMP (the time option)", at=where)
        return named[0]
    for found in ([c for c in columns if "*ROWTIME*" in c.type], timestamps):
        if len(found) == 1:
            return found[0]
    raise SchemaError(f"{table_sql} has {'no' if not timestamps else 'several'} TIMESTAMP "
                      "columns to window by; name the time with MAP['time', '<column>']",
                      at=where)


def _windowed_findings(source_sql: str, window: _Window,
                      references: Mapping[str, Distribution],
                      thresholds: statistics.Thresholds, where: Site) -> str:
    """The windowed call's query (mlsql.monitoring.windows)."""
    try:
        return windows.findings_query(source_sql, window.time, window.seconds, references,
                                      thresholds)
    except ValueError as error:
        raise SchemaError(str(error), at=where) from None


ANALYSES = {ir.VALIDATE_DATA_SKEW: skew_subquery, ir.VALIDATE_DATA_DRIFT: drift_subquery}

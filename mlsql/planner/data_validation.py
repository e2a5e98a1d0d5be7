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

MAP options: BigQuery ML's `categorical_default_threshold`, `categorical_metric_type`
(L_INFTY or JENSEN_SHANNON_DIVERGENCE), `numerical_default_threshold`, `thresholds`
('amount:0.1,category:0.2', each column's main statistic), and mlsql's `psi_threshold`,
`null_rate_threshold`, `unseen_category_threshold`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import pandas as pd

from mlsql.errors import FlinkError, MlsqlError, SchemaError, Site
from mlsql.models.registry import ModelVersion
from mlsql.monitoring import statistics
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
from mlsql.planner.values import table_subquery
from mlsql.runtime.flink_errors import to_flink_error
from mlsql.runtime.flink_types import Column
from mlsql.syntax import ir
from mlsql.syntax.dialect import quote_identifier
from mlsql.training.extract import fetch

COLUMNS = [("input", "STRING"), ("metric", "STRING"), ("threshold", "DOUBLE"),
           ("value", "DOUBLE"), ("is_anomaly", "BOOLEAN")]
_FLOAT_OPTIONS = {"categorical_default_threshold": "categorical",
                  "numerical_default_threshold": "numerical", "psi_threshold": "psi",
                  "null_rate_threshold": "null_rate", "unseen_category_threshold": "unseen"}
_OPTIONS = (*_FLOAT_OPTIONS, "categorical_metric_type", "thresholds")


def skew_subquery(call: ir.AnalysisCall, context: PlanContext) -> str:
    assert call.model is not None and call.table_sql is not None
    thresholds = _thresholds(call)
    model = resolve_model(call.model, context)
    reference = _training_profile(model, call.where)
    table_position = call.table_position or call.position
    require_bounded(context.runtime, call.table_sql, table_query(call.table_sql), call.where)
    columns = {c.name for c in context.table_argument_columns(call.table_sql, table_position)}
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
    current = _count(context, scored, compared, call.where)
    return _findings_table(context, compared, current, thresholds)


def drift_subquery(call: ir.AnalysisCall, context: PlanContext) -> str:
    assert call.base_sql is not None and call.table_sql is not None
    thresholds = _thresholds(call)
    base_position = call.base_position or call.position
    table_position = call.table_position or call.position
    for table_sql in (call.base_sql, call.table_sql):
        require_bounded(context.runtime, table_sql, table_query(table_sql), call.where)
    base = context.table_argument_columns(call.base_sql, base_position)
    current = {c.name: c for c in context.table_argument_columns(call.table_sql,
                                                                  table_position)}
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
    frame = _query(context, sql, where)
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
    row = _query(context, f"SELECT {aggregates} FROM ({table_query(table_sql)}) AS base",
                 where).iloc[0]
    return {n: (_number(row[f"lo{i}"]), _number(row[f"hi{i}"])) for i, n in enumerate(numeric)}


def _number(value: object) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def _query(context: PlanContext, sql: str, where: Site) -> pd.DataFrame:
    try:
        return fetch(context.runtime, sql)
    except MlsqlError:
        raise
    except Exception as error:
        raise FlinkError(to_flink_error(error).message, at=where) from None


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


def _thresholds(call: ir.AnalysisCall) -> statistics.Thresholds:
    values: dict[str, object] = {}
    for option, text in call_options(call, _OPTIONS).items():
        if option == "categorical_metric_type":
            metric = text.strip().upper()
            if metric not in (statistics.L_INFTY, statistics.JSD):
                raise MlsqlError(f"categorical_metric_type is {statistics.L_INFTY} or "
                                 f"{statistics.JSD}, not {text!r}", at=call.where)
            values["categorical_metric"] = metric
        elif option == "thresholds":
            values["per_column"] = _per_column(text, call.where)
        else:
            values[_FLOAT_OPTIONS[option]] = _fraction(option, text, call.where)
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


ANALYSES = {ir.VALIDATE_DATA_SKEW: skew_subquery, ir.VALIDATE_DATA_DRIFT: drift_subquery}

"""ML_EVALUATE_DELAYED: a model's quality from labels that arrive later, per window and version.

    ML_EVALUATE_DELAYED(TABLE predictions, TABLE labels, MODEL m, DESCRIPTOR(key)
                        [, MAP['window', '1 day', 'label_delay', '30 days', ...]])

`predictions` holds what the model said when it scored (ML_PREDICT's output, written to a
table or topic, with its `version_column`), `labels` the truth as it comes (a chargeback days
later). Each prediction is joined to the label of the same key that arrives within
`label_delay` of it (a left interval join on the two tables' event times), and the joined rows
are grouped by tumbling windows of prediction time, by model version and, with 'segment', by
one more column of the predictions. One plain Flink SQL query, batch or streaming alike: on a
stream a window's row is emitted once the labels' watermark has passed its end plus the delay,
so late labels can still count; predictions whose label never came within the delay are
`unlabelled`.

Columns: window_start, window_end, [model_version], [segment], predictions, labelled,
unlabelled, then for a classifier accuracy, precision, recall, f1_score (the second class
positive, as ML_EVALUATE), roc_auc (10,000 probability buckets), log_loss, mean_predicted
and observed_rate (calibration: the mean probability of the positive class against its
observed rate; binary models only), and for a regressor mean_absolute_error,
root_mean_squared_error, r2_score. Rates over labelled rows; NULL where nothing was labelled
or a denominator is 0.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from mlsql.compiler.sql import typed_literal
from mlsql.core.durations import parse_duration, sql_interval
from mlsql.errors import MlsqlError, SchemaError, Site, did_you_mean
from mlsql.jvm.build import JvmUnavailable, scorer_jar
from mlsql.models.registry import ModelVersion
from mlsql.planner.call_options import call_options
from mlsql.planner.context import PlanContext
from mlsql.planner.predict import resolve_model
from mlsql.runtime.flink_types import Column
from mlsql.syntax import ir
from mlsql.syntax.dialect import quote_identifier
from udfs.predictors import PREDICTOR_FILE

DEFAULTS = {"window": "1 day", "label_delay": "30 days"}
_COLUMN_OPTIONS = ("prediction_time", "label_time", "label", "version_column", "segment")
_OPTIONS = (*DEFAULTS, *_COLUMN_OPTIONS)
_CLIP = "1E-15"
# ROC AUC per window: a JVM aggregate over 10,000 probability buckets (ties within one).
AUC_FUNCTION = "__mlsql_binned_auc"
AUC_CLASS = "io.mlsql.metrics.BinnedAuc"


@dataclass(frozen=True)
class _Plan:
    key: str
    prediction_time: str
    label_time: str
    label: Column
    version: str | None
    segment: str | None
    window_seconds: float
    delay_seconds: float


def delayed_evaluate_subquery(call: ir.AnalysisCall, context: PlanContext) -> str:
    assert call.model and call.table_sql and call.labels_sql and call.key
    model = resolve_model(call.model, context)
    task = model.metadata["task"]
    if task not in ("classification", "regression"):
        raise SchemaError(f"model {model.name!r} is a {task} model; ML_EVALUATE_DELAYED "
                          "evaluates classifiers and regressors", at=call.where)
    predictions = context.table_argument_columns(call.table_sql,
                                                 call.table_position or call.position)
    labels = context.table_argument_columns(call.labels_sql,
                                            call.labels_position or call.position)
    plan = _plan(call, model, predictions, labels)
    p, lab = quote_identifier("__mlsql_p"), quote_identifier("__mlsql_l")
    output = model.metadata["outputs"]
    for needed in output:
        _column(predictions, needed["name"], call.table_sql, call.where,
                "the model's output (write ML_PREDICT's rows to this table)")
    selected = [f"{p}.{quote_identifier(plan.prediction_time)} AS __mlsql_time",
                *(f"{p}.{quote_identifier(o['name'])} AS {quote_identifier(o['name'])}"
                  for o in output),
                f"{lab}.{quote_identifier(plan.label.name)} AS __mlsql_label"]
    groups = ["window_start", "window_end"]
    if plan.version:
        selected.append(f"{p}.{quote_identifier(plan.version)} AS `model_version`")
        groups.append("`model_version`")
    if plan.segment:
        selected.append(f"{p}.{quote_identifier(plan.segment)} AS `segment`")
        groups.append("`segment`")
    delay = sql_interval(plan.delay_seconds)
    joined = (
        f"SELECT {', '.join(selected)} FROM {call.table_sql} AS {p} LEFT JOIN "
        f"{call.labels_sql} AS {lab} ON {p}.{quote_identifier(plan.key)} = "
        f"{lab}.{quote_identifier(plan.key)} AND {lab}.{quote_identifier(plan.label_time)} "
        f"BETWEEN {p}.{quote_identifier(plan.prediction_time)} AND "
        f"{p}.{quote_identifier(plan.prediction_time)} + {delay}")
    metrics = (_classification(model, output, context) if task == "classification"
               else _regression(output))
    return (f"(SELECT {', '.join(groups)}, COUNT(*) AS `predictions`, "
            "COUNT(__mlsql_label) AS `labelled`, "
            "COUNT(*) - COUNT(__mlsql_label) AS `unlabelled`, "
            f"{', '.join(metrics)} FROM TABLE(TUMBLE(({joined}), "
            f"DESCRIPTOR(__mlsql_time), {sql_interval(plan.window_seconds)})) "
            f"GROUP BY {', '.join(groups)})")


def _classification(model: ModelVersion, output: list[dict],
                    context: PlanContext) -> list[str]:
    classes = json.loads((model.path / PREDICTOR_FILE).read_text()).get("classes") or []
    label_type = output[0]["type"]
    predicted = quote_identifier(output[0]["name"])
    labelled = "__mlsql_label IS NOT NULL"
    metrics = [_rate(f"{predicted} = __mlsql_label", labelled) + " AS `accuracy`"]
    if len(classes) != 2:
        return [*metrics, *(f"CAST(NULL AS DOUBLE) AS {name}" for name in
                          ("`precision`", "`recall`", "`f1_score`", "`roc_auc`",
                           "`log_loss`", "`mean_predicted`", "`observed_rate`"))]
    positive = typed_literal(classes[1], label_type)
    truth = f"__mlsql_label = {positive}"
    said = f"{predicted} = {positive}"
    tp = _count(f"{truth} AND {said}")
    fp = _count(f"{labelled} AND NOT ({truth}) AND {said}")
    fn = _count(f"{truth} AND NOT ({said})")
    probability = quote_identifier(output[1]["name"])
    clipped = f"LEAST(GREATEST(CAST({probability} AS DOUBLE), {_CLIP}), 1E0 - {_CLIP})"
    loss = (f"CASE WHEN {truth} THEN -LN({clipped}) WHEN {labelled} THEN -LN(1E0 - {clipped}) "
            "END")
    return [
        *metrics,
        f"{_ratio(tp, f'{tp} + {fp}')} AS `precision`",
        f"{_ratio(tp, f'{tp} + {fn}')} AS `recall`",
        f"{_ratio(f'2 * {tp}', f'2 * {tp} + {fp} + {fn}')} AS `f1_score`",
        f"{_auc(context, probability, truth)} AS `roc_auc`",
        f"AVG({loss}) AS `log_loss`",
        f"AVG(CASE WHEN {labelled} THEN CAST({probability} AS DOUBLE) END) AS `mean_predicted`",
        _rate(truth, labelled) + " AS `observed_rate`",
    ]


def _auc(context: PlanContext, probability: str, truth: str) -> str:
    """The binned ROC AUC aggregate, or NULL where no JDK can build mlsql's JVM jar."""
    try:
        jar = scorer_jar()
    except JvmUnavailable:
        return "CAST(NULL AS DOUBLE)"
    context.runtime.ensure_java_function(AUC_FUNCTION, AUC_CLASS, jar)
    return f"{AUC_FUNCTION}(CAST({probability} AS DOUBLE), {truth})"


def _regression(output: list[dict]) -> list[str]:
    predicted = f"CAST({quote_identifier(output[0]['name'])} AS DOUBLE)"
    y = "CAST(__mlsql_label AS DOUBLE)"
    error = f"({y} - {predicted})"
    n = "CAST(COUNT(__mlsql_label) AS DOUBLE)"
    residual = f"SUM({error} * {error})"
    total = f"(SUM({y} * {y}) - SUM({y}) * SUM({y}) / {n})"
    return [f"AVG(ABS({error})) AS `mean_absolute_error`",
            f"SQRT(AVG({error} * {error})) AS `root_mean_squared_error`",
            f"CASE WHEN {total} > 0 THEN 1E0 - {residual} / {total} END AS `r2_score`"]


def _count(condition: str) -> str:
    return f"SUM(CASE WHEN {condition} THEN 1 ELSE 0 END)"


def _ratio(numerator: str, denominator: str) -> str:
    return (f"CASE WHEN {denominator} > 0 THEN CAST({numerator} AS DOUBLE) / ({denominator}) "
            "END")


def _rate(condition: str, among: str) -> str:
    return _ratio(_count(f"{among} AND {condition}"), _count(among))


def _plan(call: ir.AnalysisCall, model: ModelVersion, predictions: list[Column],
          labels: list[Column]) -> _Plan:
    options = {**DEFAULTS, **call_options(call, _OPTIONS)}
    seconds = {}
    for name in DEFAULTS:
        try:
            seconds[name] = parse_duration(options[name])
        except ValueError as error:
            raise MlsqlError(f"ML_EVALUATE_DELAYED's {name}: {error}", at=call.where) from None
    assert call.key and call.table_sql and call.labels_sql
    key = call.key.name
    for columns, table in ((predictions, call.table_sql), (labels, call.labels_sql)):
        _column(columns, key, table, Site("DESCRIPTOR", call.key.position), "the join key")
    label_name = options.get("label") or (model.metadata.get("label") or {}).get("name")
    if not label_name:
        raise MlsqlError("name the labels' column: MAP['label', '<column>']", at=call.where)
    label = _column(labels, label_name, call.labels_sql, call.where, "the label")
    version = options.get("version_column")
    if version is None and any(c.name == "model_version" for c in predictions):
        version = "model_version"
    for name in (version, options.get("segment")):
        if name:
            _column(predictions, name, call.table_sql, call.where, "a grouping column")
    return _Plan(key, options.get("prediction_time") or _time(predictions, call.table_sql,
                                                                 call.where, "prediction_time"),
                 options.get("label_time") or _time(labels, call.labels_sql, call.where,
                                                    "label_time"),
                 label, version, options.get("segment"), seconds["window"],
                 seconds["label_delay"])


def _column(columns: list[Column], name: str, table: str, where: Site, what: str) -> Column:
    for column in columns:
        if column.name == name:
            return column
    raise SchemaError(f"{table} has no column {name!r} ({what})"
                      f"{did_you_mean(name, [c.name for c in columns])}", at=where)


def _time(columns: list[Column], table: str, where: Site, option: str) -> str:
    """The table's event-time attribute, else its one TIMESTAMP column."""
    rowtime = [c.name for c in columns if "*ROWTIME*" in c.type]
    timestamps = [c.name for c in columns if c.root.startswith("TIMESTAMP")]
    for found in (rowtime, timestamps):
        if len(found) == 1:
            return found[0]
    raise SchemaError(f"{table} has {'no' if not timestamps else 'several'} TIMESTAMP "
                      f"columns; name its time with MAP['{option}', '<column>']", at=where)


ANALYSES = {ir.EVALUATE_DELAYED: delayed_evaluate_subquery}

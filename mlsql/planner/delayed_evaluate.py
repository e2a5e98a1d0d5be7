"""ML_EVALUATE_DELAYED: a model's quality from labels that arrive later, per window and version.

    ML_EVALUATE_DELAYED(TABLE predictions, TABLE labels, MODEL m, DESCRIPTOR(key)
                        [, MAP['window', '1 day', 'label_delay', '30 days',
                               'late_horizon', '1 day', ...]])

`predictions` holds what the model said when it scored (ML_PREDICT's output, written to a
table or topic, with its `version_column`), `labels` the truth as it comes (a chargeback days
later). Each prediction is joined to the labels of the same key (a NULL label is no label)
that arrive within `label_delay + late_horizon` of it (a left interval join on the two
tables' event times), and the joined rows are grouped by tumbling windows of prediction time,
by model version and, with 'segment', by one more column of the predictions. One plain Flink
SQL query, batch or streaming alike: on a stream a window's row is emitted once the labels'
watermark has passed its end plus `label_delay + late_horizon` (the horizon delays every
row; '0 s' gives back the emission at end plus delay, late labels then in `unlabelled`).

A label within `label_delay` is `labelled` and only those feed the metrics (a prediction with
two such labels counts twice, as two rows of the join). A prediction with no label within the
delay but one within the horizon counts once in `late_labels`, one with none in `unlabelled`:
predictions = labelled + late_labels + unlabelled. A prediction is told apart from the others
of its window by its key and its time.

Columns: window_start, window_end, [model_version], [segment], predictions, labelled,
late_labels, unlabelled, then for a classifier accuracy, precision, recall, f1_score (the
second class positive, as ML_EVALUATE), roc_auc (10,000 probability buckets), log_loss,
mean_predicted and observed_rate (calibration: the mean probability of the positive class
against its observed rate; binary models only), and for a regressor mean_absolute_error,
root_mean_squared_error, r2_score. Rates over labelled rows; NULL where nothing was labelled
or a denominator is 0.
"""

from __future__ import annotations

import json
import re
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
_DURATIONS = (*DEFAULTS, "late_horizon")  # late_horizon defaults to the window
_COLUMN_OPTIONS = ("prediction_time", "label_time", "label", "version_column", "segment")
_OPTIONS = (*_DURATIONS, *_COLUMN_OPTIONS)
_ZERO = re.compile(r"\s*0+(?:\.0*)?\s*([a-z]*)\s*", re.IGNORECASE)
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
    horizon_seconds: float


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
    output = model.metadata["outputs"]
    for needed in output:
        _column(predictions, needed["name"], call.table_sql, call.where,
                "the model's output (write ML_PREDICT's rows to this table)")
    groups = ["window_start", "window_end"]
    groups += [name for name, column in (("`model_version`", plan.version),
                                         ("`segment`", plan.segment)) if column]
    metrics = (_classification(model, output, context) if task == "classification"
               else _regression(output))
    return (f"(SELECT {', '.join(groups)}, {', '.join(_counts())}, "
            f"{', '.join(metrics)} FROM TABLE(TUMBLE(({_joined(call, plan, output)}), "
            f"DESCRIPTOR(__mlsql_time), {sql_interval(plan.window_seconds)})) "
            f"GROUP BY {', '.join(groups)})")


def _joined(call: ir.AnalysisCall, plan: _Plan, output: list[dict]) -> str:
    """Each prediction with every label of its key within the delay plus the horizon (one
    row per label; one row of NULLs where none): __mlsql_label is the label when it came
    within the delay, __mlsql_found the label within the horizon."""
    p, lab = quote_identifier("__mlsql_p"), quote_identifier("__mlsql_l")
    at = f"{p}.{quote_identifier(plan.prediction_time)}"
    label = f"{lab}.{quote_identifier(plan.label.name)}"
    label_time = f"{lab}.{quote_identifier(plan.label_time)}"
    key = quote_identifier(plan.key)
    in_time = f"{label_time} <= {at} + {sql_interval(plan.delay_seconds)}"
    identity = f"CONCAT(CAST({p}.{key} AS STRING), '@', CAST({at} AS STRING))"
    selected = [f"{at} AS __mlsql_time", f"{identity} AS __mlsql_prediction",
                *(f"{p}.{quote_identifier(o['name'])} AS {quote_identifier(o['name'])}"
                  for o in output),
                f"CASE WHEN {in_time} THEN {label} END AS __mlsql_label",
                f"{label} AS __mlsql_found"]
    if plan.version:
        selected.append(f"{p}.{quote_identifier(plan.version)} AS `model_version`")
    if plan.segment:
        selected.append(f"{p}.{quote_identifier(plan.segment)} AS `segment`")
    horizon = sql_interval(plan.delay_seconds + plan.horizon_seconds)
    return (f"SELECT {', '.join(selected)} FROM {call.table_sql} AS {p} LEFT JOIN "
            f"{call.labels_sql} AS {lab} ON {p}.{key} = {lab}.{key} AND {label} IS NOT NULL "
            f"AND {label_time} BETWEEN {at} AND {at} + {horizon}")


def _counts() -> list[str]:
    """predictions = labelled + late_labels + unlabelled. A prediction is late when some
    label came within the horizon but none within the delay: counted once, by its key and
    time, however many late labels it has."""
    labelled = "COUNT(__mlsql_label)"
    late = ("(COUNT(DISTINCT __mlsql_prediction) FILTER (WHERE __mlsql_found IS NOT NULL) "
            "- COUNT(DISTINCT __mlsql_prediction) FILTER (WHERE __mlsql_label IS NOT NULL))")
    unlabelled = "COUNT(*) - COUNT(__mlsql_found)"
    return [f"{labelled} + {late} + {unlabelled} AS `predictions`",
            f"{labelled} AS `labelled`", f"{late} AS `late_labels`",
            f"{unlabelled} AS `unlabelled`"]


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
    options.setdefault("late_horizon", options["window"])
    seconds = {name: _seconds(name, options[name], call.where) for name in _DURATIONS}
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
                 seconds["label_delay"], seconds["late_horizon"])


def _seconds(name: str, text: str, where: Site) -> float:
    """A whole number of seconds; late_horizon may be 0."""
    try:
        seconds = 0.0 if name == "late_horizon" and _is_zero(text) else parse_duration(text)
    except ValueError as error:
        raise MlsqlError(f"ML_EVALUATE_DELAYED's {name}: {error}", at=where) from None
    if seconds != int(seconds):
        raise MlsqlError(f"ML_EVALUATE_DELAYED's {name}: {text!r} is not a whole number of "
                         "seconds", at=where)
    return seconds


def _is_zero(text: str) -> bool:
    """'0 s', '0 days', '0': zero in any unit parse_duration knows."""
    match = _ZERO.fullmatch(text)
    if not match:
        return False
    try:
        parse_duration(f"1 {match.group(1)}")
    except ValueError:
        return False
    return True


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

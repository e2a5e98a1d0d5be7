"""ML_TRIAL_INFO(MODEL m): the trials of a tuned version (its serving version, or `m$3`), one
row each, from the version's metadata ("trials"); no job runs.

Columns: trial_id; one column per tuned hyperparameter (BIGINT, DOUBLE or STRING by its
values) and all of them as a `hyperparameters` JSON string; objective (the metric's name)
and objective_value; each evaluation metric; status (SUCCEEDED or FAILED); error_message;
seconds; is_optimal (exactly one row: the trial that became the version). A version trained
without tuning is an error that says so.
"""

from __future__ import annotations

import json
from typing import Any

from mlsql.errors import MlsqlError
from mlsql.planner.context import PlanContext
from mlsql.planner.predict import resolve_model
from mlsql.planner.values import table_subquery
from mlsql.syntax import ir
from mlsql.tuning.plan import TASK_METRICS
from mlsql.tuning.records import TrialRecord

_LEADING = [("trial_id", "INT")]
_TRAILING = [("hyperparameters", "STRING"), ("objective", "STRING"),
             ("objective_value", "DOUBLE")]
_STATUS = [("status", "STRING"), ("error_message", "STRING"), ("seconds", "DOUBLE"),
           ("is_optimal", "BOOLEAN")]


def trial_info_subquery(call: ir.AnalysisCall, context: PlanContext) -> str:
    model = resolve_model(call.model, context)
    trials = model.metadata.get("trials")
    if not trials:
        raise MlsqlError(f"model {model.name!r} version {model.version} was "
                         "trained without tuning (num_trials = 1), so it has no trials; "
                         "ML_TRAINING_INFO lists its training history", at=call.where)
    columns, rows = trial_table([TrialRecord.from_json(t) for t in trials],
                                model.metadata.get("task", ""))
    return table_subquery(context, "__mlsql_trial_info", columns, rows)


def trial_table(records: list[TrialRecord], task: str,
                ) -> tuple[list[tuple[str, str]], list[list[Any]]]:
    """ML_TRIAL_INFO's columns and rows for the trials of one version."""
    fixed = {name for name, _ in (*_LEADING, *_TRAILING, *_STATUS)}
    names = list(dict.fromkeys(k for r in records for k in r.hyperparameters))
    tuned = [(n, _type([r.hyperparameters.get(n) for r in records])) for n in names
             if n not in fixed]
    order = TASK_METRICS.get(task, ())
    found = dict.fromkeys(m for r in records for m in r.metrics)
    metrics = [m for m in order if m in found] + sorted(m for m in found if m not in order)
    metric_columns = [(m, "DOUBLE") for m in metrics if m not in fixed | set(names)]
    columns = [*_LEADING, *tuned, *_TRAILING, *metric_columns, *_STATUS]
    rows = []
    for r in records:
        rows.append([
            r.trial_id, *(_cell(r.hyperparameters.get(n), t) for n, t in tuned),
            json.dumps(r.hyperparameters, sort_keys=True), r.objective, r.objective_value,
            *(r.metrics.get(m) for m, _ in metric_columns),
            r.status, r.error_message, round(r.seconds, 3), r.is_optimal])
    return columns, rows


def _type(values: list[Any]) -> str:
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return "BIGINT"
    if present and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return "DOUBLE"
    return "STRING"


def _cell(value: Any, flink_type: str) -> Any:
    if value is None or flink_type != "STRING":
        return value
    return json.dumps(value) if isinstance(value, bool) else str(value)


ANALYSES = {ir.TRIAL_INFO: trial_info_subquery}

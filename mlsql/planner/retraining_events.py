"""ML_RETRAINING_EVENTS(MODEL m): what the retraining service did for model m and why, one row
per event (mlsql.monitoring.events), oldest first; no job runs.

Columns: event_time TIMESTAMP(3) (UTC), event, serving_version, candidate_version, metric
scores of the gate (serving_score, candidate_score), reason.
"""

from __future__ import annotations

from mlsql.monitoring import events
from mlsql.planner.context import PlanContext
from mlsql.planner.values import table_subquery
from mlsql.syntax import ir
from mlsql.syntax.dialect import quote_identifier

COLUMNS = [("event_time", "STRING"), ("event", "STRING"), ("serving_version", "INT"),
           ("candidate_version", "INT"), ("serving_score", "DOUBLE"),
           ("candidate_score", "DOUBLE"), ("reason", "STRING")]


def retraining_events_subquery(call: ir.AnalysisCall, context: PlanContext) -> str:
    assert call.model is not None
    directory = context.registry.model_dir(call.model.name)  # raises: no such model
    rows = [[events.utc_text(e.time), e.event, e.serving_version, e.candidate_version,
             e.serving_score, e.candidate_score, e.reason] for e in events.read(directory)]
    empty = not rows
    if empty:  # one row of NULLs, filtered out: a VALUES table needs a row
        rows = [[None] * len(COLUMNS)]
    table = table_subquery(context, "__mlsql_retraining_events", COLUMNS, rows)
    names = [quote_identifier(name) for name, _ in COLUMNS[1:]]
    return (f"(SELECT CAST(event_time AS TIMESTAMP(3)) AS event_time, {', '.join(names)} "
            f"FROM {table} AS events{' WHERE 1 = 0' if empty else ''})")


ANALYSES = {ir.RETRAINING_EVENTS: retraining_events_subquery}

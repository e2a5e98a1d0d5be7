"""Replace the ML spans of a statement (ML_PREDICT, ML_EVALUATE); other bytes untouched."""

from __future__ import annotations

from mlsql import ir
from mlsql.planner.context import PlanContext
from mlsql.planner.evaluate import evaluate_subquery
from mlsql.planner.predict import predict_subquery


def rewrite(statement: ir.FlinkStatement, context: PlanContext) -> str:
    text = statement.text
    calls = sorted((*statement.predicts, *statement.evaluates), key=lambda c: c.start,
                   reverse=True)
    for call in calls:
        replacement = (predict_subquery(call, context) if isinstance(call, ir.PredictCall)
                       else evaluate_subquery(call, context))
        text = text[: call.start] + replacement + text[call.end :]
    return text

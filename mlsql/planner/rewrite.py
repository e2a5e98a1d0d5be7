"""Replace the ML spans of a statement (ML_PREDICT, ML_EVALUATE, the analysis functions);
other bytes untouched."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from mlsql.core.discovery import plugin_modules
from mlsql.feature_functions.render import render_call
from mlsql.planner.context import PlanContext
from mlsql.planner.evaluate import evaluate_subquery
from mlsql.planner.predict import predict_subquery
from mlsql.syntax import ir
from mlsql.timeseries.render import render_series_call

Subquery = Callable[[ir.AnalysisCall, PlanContext], str]


@cache
def analysis_handlers() -> dict[str, Subquery]:
    """Each analysis function and its subquery builder: every module of mlsql.planner may
    declare `ANALYSES = {name: builder}` (a new function is its name in ir.ANALYSIS_FUNCTIONS
    and its module here)."""
    found: dict[str, Subquery] = {}
    for module in plugin_modules("mlsql.planner", {"rewrite"}):
        found.update(getattr(module, "ANALYSES", {}))
    return found


def rewrite(statement: ir.FlinkStatement, context: PlanContext) -> str:
    text = statement.text
    calls = sorted((*statement.predicts, *statement.evaluates, *statement.analyses,
                    *statement.features, *statement.series), key=lambda c: c.start,
                   reverse=True)
    for call in calls:
        text = text[: call.start] + _subquery(call, context) + text[call.end :]
    return text


def _subquery(call: ir.PredictCall | ir.EvaluateCall | ir.AnalysisCall | ir.FeatureCall
              | ir.SeriesCall, context: PlanContext) -> str:
    if isinstance(call, ir.SeriesCall):
        return render_series_call(call, context.runtime)
    if isinstance(call, ir.FeatureCall):
        return render_call(call, context.runtime)
    if isinstance(call, ir.PredictCall):
        return predict_subquery(call, context)
    if isinstance(call, ir.EvaluateCall):
        return evaluate_subquery(call, context)
    return analysis_handlers()[call.function](call, context)

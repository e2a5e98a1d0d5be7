"""Replace the ML spans of a statement (ML_PREDICT, ML_EVALUATE, the analysis functions);
other bytes untouched."""

from __future__ import annotations

from mlsql.feature_functions.render import render_call
from mlsql.planner.context import PlanContext
from mlsql.planner.diagnostics import diagnostics_subquery
from mlsql.planner.evaluate import evaluate_subquery
from mlsql.planner.explain import explain_subquery
from mlsql.planner.model_info import feature_importance_subquery, training_info_subquery
from mlsql.planner.predict import predict_subquery
from mlsql.planner.trials import trial_info_subquery
from mlsql.syntax import ir

_ANALYSES = {
    ir.FEATURE_IMPORTANCE: feature_importance_subquery,
    ir.TRAINING_INFO: training_info_subquery,
    ir.TRIAL_INFO: trial_info_subquery,
    ir.EXPLAIN_PREDICT: explain_subquery,
    **{name: diagnostics_subquery for name in ir.LABELLED_TABLE_FUNCTIONS},
}


def rewrite(statement: ir.FlinkStatement, context: PlanContext) -> str:
    text = statement.text
    calls = sorted((*statement.predicts, *statement.evaluates, *statement.analyses,
                    *statement.features), key=lambda c: c.start, reverse=True)
    for call in calls:
        text = text[: call.start] + _subquery(call, context) + text[call.end :]
    return text


def _subquery(call: ir.PredictCall | ir.EvaluateCall | ir.AnalysisCall | ir.FeatureCall,
              context: PlanContext) -> str:
    if isinstance(call, ir.FeatureCall):
        return render_call(call, context.runtime)
    if isinstance(call, ir.PredictCall):
        return predict_subquery(call, context)
    if isinstance(call, ir.EvaluateCall):
        return evaluate_subquery(call, context)
    return _ANALYSES[call.function](call, context)

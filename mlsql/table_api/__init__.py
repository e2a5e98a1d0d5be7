"""ML on PyFlink Tables: the model functions of the SQL surface as functions of a `Table`
that return a lazy `Table`, planned by the same code as the SQL form (same checks, same
errors, same compiled or UDF paths), and training from a Table."""

from mlsql.table_api.functions import (
    ml_confusion_matrix,
    ml_evaluate,
    ml_explain_predict,
    ml_feature_importance,
    ml_predict,
    ml_residual_summary,
    ml_roc_curve,
    ml_training_info,
    ml_trial_info,
)
from mlsql.table_api.training import create_model

__all__ = ["create_model", "ml_confusion_matrix", "ml_evaluate", "ml_explain_predict",
           "ml_feature_importance", "ml_predict", "ml_residual_summary", "ml_roc_curve",
           "ml_training_info", "ml_trial_info"]

"""mlsql: SQL-first declarative machine learning on Apache Flink."""

from mlsql.errors import MlsqlError
from mlsql.session import JobHandle, Session
from mlsql.table_api import (
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
from mlsql.version import __version__


def load_ipython_extension(ipython: object) -> None:
    """`%load_ext mlsql`: the %%mlsql / %mlsql magics (mlsql.notebook), IPython imported
    only here."""
    from mlsql.notebook import load_ipython_extension as load

    load(ipython)


__all__ = ["JobHandle", "MlsqlError", "Session", "__version__", "load_ipython_extension",
           "ml_confusion_matrix", "ml_evaluate", "ml_explain_predict", "ml_feature_importance",
           "ml_predict", "ml_residual_summary", "ml_roc_curve", "ml_training_info",
           "ml_trial_info"]

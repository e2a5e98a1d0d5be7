"""isolation_forest against scikit-learn's IsolationForest with the same hyperparameters and
seed on the same (unstandardized) rows, trained without the label. The metric is the anomaly
ranking: the ROC AUC of the anomaly score (mlsql's anomaly_score, scikit-learn's
-score_samples) against breast_cancer's label. The suite takes the label's larger value as
the positive class, here 1 (benign, the majority), so both AUCs are 1 - the AUC of finding
the malignant tumours (about 0.8): the same difference."""

from __future__ import annotations

import numpy as np

from tests.model_cases.base import Case, Reference


def _reference(trees: int, rows: int) -> Reference:
    def fit(x_train: np.ndarray, y_train: np.ndarray | None, x_test: np.ndarray) -> np.ndarray:
        from sklearn.ensemble import IsolationForest

        model = IsolationForest(n_estimators=trees, max_samples=rows, contamination=0.1,
                                random_state=42)
        return -model.fit(x_train).score_samples(x_test)

    return fit


CASES = (
    Case("isolation_forest", "breast_cancer", _reference(200, 128), "roc_auc",
         options={"num_trees": "200", "max_samples": "128", "contamination": "0.1"}),
    # 20 trees of at most 31 nodes (16 rows each): compiled SQL too.
    Case("isolation_forest", "breast_cancer", _reference(20, 16), "roc_auc",
         options={"num_trees": "20", "max_samples": "16", "contamination": "0.1"},
         tolerance=0.02, compiled=True, id="isolation_forest-breast_cancer-compiled"),
)

"""A model type's case in the shared per-type suite."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

# reference(x_train, y_train, x_test) -> what the metric reads: predicted labels (accuracy),
# values (r2_score), anomaly scores, higher = more anomalous (roc_auc against the label, its
# larger value the positive class), or cluster assignments (adjusted_rand_index).
#
# The suite (tests/integration/test_model_types.py) splits the dataset 75/25 with a fixed
# seed, trains with eval_fraction '0' on the 75, predicts the 25 and asserts
# |metric(mlsql's predictions) - metric(the reference's)| <= tolerance, where metric is
# accuracy, r2_score or roc_auc against the held-out labels; for adjusted_rand_index (a
# clustering has no label) the metric of mlsql's assignment is its adjusted Rand index
# against the reference's assignment, which has 1.
Reference = Callable[[np.ndarray, np.ndarray | None, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Case:
    model_type: str
    # A scikit-learn bundled dataset: breast_cancer, iris, wine, diabetes or digits (no
    # download).
    dataset: str
    # The library this model type wraps, fitted directly on the same training rows with the
    # same hyperparameters (and the same preprocessing mlsql applies, e.g. standardizing).
    reference: Reference
    metric: str  # accuracy | r2_score | roc_auc (anomaly ranking) | adjusted_rand_index
    options: dict[str, str] = field(default_factory=dict)  # CREATE MODEL options
    tolerance: float = 0.02
    compiled: bool = False  # has a compiled-SQL form besides the UDF
    jvm: bool = False  # scored by the JVM scorer (mlsql/jvm) besides the UDF
    # The case's name in test ids, where a model type has several cases.
    id: str = ""

    @property
    def name(self) -> str:
        return self.id or f"{self.model_type}-{self.dataset}"


def standardized(x_train: np.ndarray, x_test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both matrices standardized with the training rows' mean and standard deviation, as
    mlsql encodes numeric features for model types with standardize=True (udfs/features.py:
    pandas' sample standard deviation; StandardScaler's population one differs by a factor
    sqrt(n / (n - 1)))."""
    mean = x_train.mean(axis=0)
    std = x_train.std(axis=0, ddof=1)
    std = np.where(std > 0, std, 1.0)
    return (x_train - mean) / std, (x_test - mean) / std

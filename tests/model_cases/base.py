"""A model type's case in the shared per-type suite."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

# reference(x_train, y_train, x_test) -> what the metric reads: predicted labels (accuracy),
# values (r2_score) or anomaly scores, higher = more anomalous (roc_auc against the label).
Reference = Callable[[np.ndarray, np.ndarray | None, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Case:
    model_type: str
    # A scikit-learn bundled dataset: breast_cancer, iris, wine or diabetes (no download).
    dataset: str
    # The library this model type wraps, fitted directly on the same training rows with the
    # same hyperparameters (and the same preprocessing mlsql applies, e.g. standardizing).
    reference: Reference
    metric: str  # accuracy | r2_score | roc_auc (anomaly ranking)
    options: dict[str, str] = field(default_factory=dict)  # CREATE MODEL options
    tolerance: float = 0.02
    compiled: bool = False  # has a compiled-SQL form besides the UDF

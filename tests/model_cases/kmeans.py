"""kmeans against scikit-learn's KMeans on the same standardized rows: a clustering has no
label, so the metric is the adjusted Rand index of mlsql's assignment of the held-out rows
against scikit-learn's."""

from __future__ import annotations

import numpy as np

from tests.model_cases.base import Case, standardized


def _kmeans(x_train: np.ndarray, y_train: np.ndarray | None, x_test: np.ndarray) -> np.ndarray:
    from sklearn.cluster import KMeans

    train, test = standardized(x_train, x_test)
    model = KMeans(n_clusters=3, max_iter=300, random_state=42, n_init="auto")
    return model.fit(train).predict(test)


CASES = (
    Case("kmeans", "iris", _kmeans, "adjusted_rand_index", options={"num_clusters": "3"},
         tolerance=0.05, compiled=True, jvm=True),
)

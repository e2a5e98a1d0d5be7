"""knn_classifier and knn_regressor against scikit-learn's KNeighborsClassifier and
KNeighborsRegressor on the same standardized rows (UDF only)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from tests.model_cases.base import Case, Reference


def _knn(estimator: str, k: int, weights: str) -> Reference:
    def reference(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray) -> np.ndarray:
        from sklearn import neighbors
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        make: Callable = getattr(neighbors, estimator)
        model = make_pipeline(StandardScaler(), make(n_neighbors=k, weights=weights))
        return model.fit(x_train, y_train).predict(x_test)

    return reference


CASES = (
    Case("knn_classifier", "wine", _knn("KNeighborsClassifier", 5, "uniform"), "accuracy"),
    Case("knn_classifier", "breast_cancer", _knn("KNeighborsClassifier", 9, "distance"),
         "accuracy", options={"num_neighbors": "9", "weights": "distance"}),
    Case("knn_regressor", "diabetes", _knn("KNeighborsRegressor", 10, "distance"), "r2_score",
         options={"num_neighbors": "10", "weights": "distance"}),
)

"""logistic_reg and linear_reg against scikit-learn on the same standardized rows."""

from __future__ import annotations

import numpy as np

from tests.model_cases.base import Case


def _logistic(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray) -> np.ndarray:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=200,
                                                               random_state=42))
    return model.fit(x_train, y_train).predict(x_test)


def _linear(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray) -> np.ndarray:
    from sklearn.linear_model import LinearRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(StandardScaler(), LinearRegression())
    return model.fit(x_train, y_train).predict(x_test)


CASES = (
    Case("logistic_reg", "breast_cancer", _logistic, "accuracy", compiled=True, jvm=True),
    Case("linear_reg", "diabetes", _linear, "r2_score", tolerance=1e-6, compiled=True,
         jvm=True),
)

"""linear_svc and naive_bayes against scikit-learn's LinearSVC and GaussianNB on the same
standardized rows (StandardScaler: the population standard deviation, as udfs/features.py
fits it); both have a compiled-SQL form."""

from __future__ import annotations

import numpy as np

from tests.model_cases.base import Case


def _linear_svc(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray) -> np.ndarray:
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import LinearSVC

    model = make_pipeline(StandardScaler(), LinearSVC(C=1.0, max_iter=1000, random_state=42,
                                                      dual="auto"))
    return model.fit(x_train, y_train).predict(x_test)


def _naive_bayes(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray) -> np.ndarray:
    from sklearn.naive_bayes import GaussianNB
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(StandardScaler(), GaussianNB(var_smoothing=1e-9))
    return model.fit(x_train, y_train).predict(x_test)


CASES = (
    Case("linear_svc", "breast_cancer", _linear_svc, "accuracy", compiled=True),
    Case("linear_svc", "wine", _linear_svc, "accuracy", compiled=True),  # one-vs-rest
    Case("naive_bayes", "breast_cancer", _naive_bayes, "accuracy", compiled=True),
    Case("naive_bayes", "iris", _naive_bayes, "accuracy", compiled=True),
)

"""linear_svc against scikit-learn's LinearSVC on the same standardized rows (as
udfs/features.py encodes them), naive_bayes against GaussianNB on the rows as they are (on
digits, whose pixels are constant within a class, var_smoothing decides the result); both have
a compiled-SQL form."""

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

    return GaussianNB(var_smoothing=1e-9).fit(x_train, y_train).predict(x_test)


CASES = (
    Case("linear_svc", "breast_cancer", _linear_svc, "accuracy", compiled=True),
    Case("linear_svc", "wine", _linear_svc, "accuracy", compiled=True),  # one-vs-rest
    Case("naive_bayes", "breast_cancer", _naive_bayes, "accuracy", compiled=True),
    Case("naive_bayes", "iris", _naive_bayes, "accuracy", compiled=True),
    Case("naive_bayes", "digits", _naive_bayes, "accuracy"),
)

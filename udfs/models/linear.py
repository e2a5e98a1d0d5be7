"""Linear ("linear") and logistic ("logistic") regression on the workers: the coefficients
and intercepts in predictor.json; also the payload online linear models publish."""

from __future__ import annotations

from typing import Any

import numpy as np


class LinearScorer:
    """z = x W^T + b; "linear": z's one column; "logistic": the sigmoid of one score row
    (binary) or a softmax over one row per class."""

    def __init__(self, payload: dict[str, Any], directory: str) -> None:
        self.algorithm = payload["algorithm"]
        self.coef = np.asarray(payload["coef"], dtype=np.float64)
        self.intercept = np.asarray(payload["intercept"], dtype=np.float64)

    def raw(self, x: np.ndarray) -> np.ndarray:
        return x @ self.coef.T + self.intercept

    def scores(self, x: np.ndarray) -> np.ndarray:
        z = self.raw(x)
        if self.algorithm == "linear":
            return z[:, 0]
        if z.shape[1] == 1:  # binary logistic regression
            p = 1.0 / (1.0 + np.exp(-z[:, 0]))
            return np.column_stack([1.0 - p, p])
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def contributions(self, x: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per encoded feature, coefficient x (standardized) value of the explained score row
        (the positive class, the predicted class, or the regression value); and the baseline
        (the intercept)."""
        rows = np.zeros(len(x), dtype=np.int64) if len(self.coef) == 1 else \
            np.asarray(scores).argmax(axis=1)
        return x * self.coef[rows], self.intercept[rows]


SCORERS = {"linear": LinearScorer, "logistic": LinearScorer}

"""linear_svc on the workers: LinearSVC's coefficients in predictor.json and the probability
scale fitted with them (mlsql/models/linear_svc.py)."""

from __future__ import annotations

from typing import Any

import numpy as np


class LinearSvcScorer:
    """Probabilities sigmoid(a * f) (binary) or softmax(a * f) over the one-vs-rest decision
    values f = x W^T + b: their argmax is LinearSVC's prediction."""

    def __init__(self, payload: dict[str, Any], directory: str) -> None:
        self.coef = np.asarray(payload["coef"], dtype=np.float64)
        self.intercept = np.asarray(payload["intercept"], dtype=np.float64)
        self.scale = float(payload["probability_scale"])

    def decision(self, x: np.ndarray) -> np.ndarray:
        """LinearSVC's decision_function: n (binary) or n x classes."""
        f = x @ self.coef.T + self.intercept
        return f[:, 0] if f.shape[1] == 1 else f

    def scores(self, x: np.ndarray) -> np.ndarray:
        # The scale folded into W and b, as the compiled SQL has it.
        z = x @ (self.coef * self.scale).T + self.intercept * self.scale
        if z.shape[1] == 1:
            p = 1.0 / (1.0 + np.exp(-z[:, 0]))
            return np.column_stack([1.0 - p, p])
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def contributions(self, x: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per encoded feature, scale x coefficient x value in the explained logit a * f
        (binary: the positive class's log-odds; else the predicted class's row), whose
        baseline is a x intercept."""
        rows = np.zeros(len(x), dtype=np.int64) if len(self.coef) == 1 else \
            np.asarray(scores).argmax(axis=1)
        return x * (self.coef[rows] * self.scale), self.intercept[rows] * self.scale


SCORERS = {"linear_svc": LinearSvcScorer}

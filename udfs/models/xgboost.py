"""XGBoost boosted trees on the workers: XGBoost's Booster loaded from its JSON model."""

from __future__ import annotations

import os
from typing import Any

import numpy as np


class XGBoostScorer:
    def __init__(self, payload: dict[str, Any], directory: str) -> None:
        import xgboost

        self.task = payload["task"]
        self.booster = xgboost.Booster(
            model_file=os.path.join(directory, payload["model_file"]))
        # The saved model keeps each column's type: 'c' for categorical codes, 'q' numbers.
        self.types = list(self.booster.feature_types or [])

    def _matrix(self, x: np.ndarray) -> Any:
        import xgboost

        return xgboost.DMatrix(x, feature_types=self.types or None,
                               enable_categorical="c" in self.types)

    def scores(self, x: np.ndarray) -> np.ndarray:
        if len(x) == 0:
            return np.zeros(0)
        raw = np.asarray(self.booster.predict(self._matrix(x)), dtype=np.float64)
        if self.task == "classification":
            if raw.ndim == 1:
                return np.column_stack([1.0 - raw, raw])
            # XGBoost's softmax is float32: rows summing to 1 within 1e-7; to 1 in float64.
            return raw / raw.sum(axis=1, keepdims=True)
        return raw

    def contributions(self, x: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Exact tree SHAP values (XGBoost's pred_contribs, in margin units) of the explained
        raw score (the positive class, the predicted class, or the regression value), and the
        baseline (the expected raw score)."""
        contributions = np.asarray(self.booster.predict(self._matrix(x), pred_contribs=True),
                                   dtype=np.float64)
        if contributions.ndim == 3:  # rows x classes x (features + 1)
            picked = contributions[np.arange(len(x)), np.asarray(scores).argmax(axis=1)]
        else:
            picked = contributions
        return picked[:, :-1], picked[:, -1]


SCORERS = {"xgboost": XGBoostScorer}

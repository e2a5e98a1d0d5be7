"""LightGBM boosted trees on the workers: the booster's text-format model file."""

from __future__ import annotations

import os
from typing import Any

import numpy as np


class LightGBMScorer:
    def __init__(self, payload: dict[str, Any], directory: str) -> None:
        import lightgbm

        self.task = payload["task"]
        self.booster = lightgbm.Booster(
            model_file=os.path.join(directory, payload["booster_file"]))

    def scores(self, x: np.ndarray) -> np.ndarray:
        raw = np.asarray(self.booster.predict(x), dtype=np.float64)
        if self.task == "classification" and raw.ndim == 1:
            return np.column_stack([1.0 - raw, raw])
        return raw

    def contributions(self, x: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Exact tree SHAP values (LightGBM's pred_contrib) of the explained raw score (the
        positive class, the predicted class, or the regression value), and the baseline
        (the expected raw score)."""
        contributions = np.asarray(self.booster.predict(x, pred_contrib=True),
                                   dtype=np.float64)
        width = x.shape[1] + 1  # the features and the expected value
        blocks = contributions.shape[1] // width
        chosen = np.zeros(len(x), dtype=np.int64) if blocks == 1 else \
            np.asarray(scores).argmax(axis=1)
        picked = contributions.reshape(len(x), blocks, width)[np.arange(len(x)), chosen]
        return picked[:, :-1], picked[:, -1]


SCORERS = {"lightgbm": LightGBMScorer}

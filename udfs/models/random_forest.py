"""Random forests on the workers: the exported node arrays walked in numpy, each tree's leaf
shares (classifier) or means (regressor) averaged over the trees, as scikit-learn does."""

from __future__ import annotations

from typing import Any

import numpy as np

from udfs.models.tree_arrays import TreeArrays


class RandomForestScorer:
    def __init__(self, payload: dict[str, Any], directory: str) -> None:
        self.task = payload["task"]
        self.trees = TreeArrays.load(directory, payload["tree_depth"])

    def scores(self, x: np.ndarray) -> np.ndarray:
        if len(x) == 0:
            width = self.trees.value.shape[1]
            return np.zeros((0, width)) if self.task == "classification" else np.zeros(0)
        mean = self.trees.value[self.trees.leaves(x)].mean(axis=1)
        return mean if self.task == "classification" else mean[:, 0]


SCORERS = {"random_forest": RandomForestScorer}

"""Isolation forests on the workers: the exported node arrays walked in numpy; a row's score
is 2 ** -(mean path length / c(max_samples)), scikit-learn's -score_samples."""

from __future__ import annotations

from typing import Any

import numpy as np

from udfs.models.tree_arrays import TreeArrays


class IsolationForestScorer:
    def __init__(self, payload: dict[str, Any], directory: str) -> None:
        self.trees = TreeArrays.load(directory, payload["tree_depth"])
        self.denominator = float(payload["denominator"])

    def scores(self, x: np.ndarray) -> np.ndarray:
        if len(x) == 0:
            return np.zeros(0)
        paths = self.trees.value[self.trees.leaves(x), 0].sum(axis=1)
        if self.denominator == 0.0:  # one training row: scikit-learn divides as if by the
            return np.full(len(x), 0.5)  # paths, 2 ** -1 for every row
        return 2.0 ** (-paths / self.denominator)


SCORERS = {"isolation_forest": IsolationForestScorer}

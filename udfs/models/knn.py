"""k nearest neighbours on the workers: Euclidean distances to the training rows the version
keeps (knn_rows.npy, knn_targets.npy; mlsql/models/knn.py). As scikit-learn's 'auto' chooses:
a k-d tree (scipy's cKDTree, built from the rows when the scorer loads) for up to
TREE_MAX_FEATURES encoded features, else brute force in numpy, in batches."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

_BATCH_CELLS = 4_000_000  # scored rows x training rows per distance block (32 MB)
TREE_MAX_FEATURES = 15  # above it a k-d tree prunes too little to beat brute force


class KnnScorer:
    """Classification: the neighbours' vote shares per class; regression: their mean target.
    Each vote weighs 1 ('uniform') or 1 / distance ('distance', where a neighbour at distance
    0 takes the whole vote with any others at 0), as scikit-learn weighs them."""

    def __init__(self, payload: dict[str, Any], directory: str) -> None:
        self.rows = np.load(os.path.join(directory, payload["rows_file"]), allow_pickle=False)
        self.targets = np.load(os.path.join(directory, payload["targets_file"]),
                               allow_pickle=False)
        # fewer training rows than neighbours: all of them vote (Flink ML's Knn)
        self.k = min(int(payload["num_neighbors"]), len(self.rows))
        self.weights = payload["weights"]
        self.classes = payload.get("classes")
        self.squared_norms = np.einsum("ij,ij->i", self.rows, self.rows)
        self.tree = None
        if self.rows.shape[1] <= TREE_MAX_FEATURES and self.k < len(self.rows) / 2:
            from scipy.spatial import cKDTree

            self.tree = cKDTree(self.rows)

    def neighbours(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each row of x, the indices of its k nearest training rows and the distances."""
        if self.tree is not None:
            distances, indices = self.tree.query(x, k=self.k)
            return (np.asarray(indices, dtype=np.int64).reshape(len(x), self.k),
                    np.asarray(distances, dtype=np.float64).reshape(len(x), self.k))
        return self.brute_force_neighbours(x)

    def brute_force_neighbours(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        step = max(1, _BATCH_CELLS // max(1, len(self.rows)))
        indices = np.empty((len(x), self.k), dtype=np.int64)
        distances = np.empty((len(x), self.k))
        for start in range(0, len(x), step):
            batch = x[start : start + step]
            squared = (np.einsum("ij,ij->i", batch, batch)[:, None] - 2.0 * batch @ self.rows.T
                       + self.squared_norms[None, :])
            if self.k < len(self.rows):
                nearest = np.argpartition(squared, self.k - 1, axis=1)[:, : self.k]
            else:
                nearest = np.broadcast_to(np.arange(len(self.rows)), (len(batch), self.k))
            # Exact distances of the chosen rows (the expansion above only ranks them).
            exact = np.sqrt(((batch[:, None, :] - self.rows[nearest]) ** 2).sum(axis=2))
            indices[start : start + step] = nearest
            distances[start : start + step] = exact
        return indices, distances

    def _vote_weights(self, distances: np.ndarray) -> np.ndarray:
        if self.weights == "uniform":
            return np.ones_like(distances)
        with np.errstate(divide="ignore"):
            weights = 1.0 / distances
        at_zero = np.isinf(weights)
        exact_rows = at_zero.any(axis=1)
        weights[exact_rows] = at_zero[exact_rows]
        return weights

    def scores(self, x: np.ndarray) -> np.ndarray:
        indices, distances = self.neighbours(x)
        weights = self._vote_weights(distances)
        targets = self.targets[indices]
        if self.classes is None:
            if self.weights == "uniform":
                return targets.mean(axis=1)
            return (targets * weights).sum(axis=1) / weights.sum(axis=1)
        votes = np.zeros((len(x), len(self.classes)))
        for column in range(self.k):
            np.add.at(votes, (np.arange(len(x)), targets[:, column]), weights[:, column])
        return votes / votes.sum(axis=1, keepdims=True)


SCORERS = {"knn": KnnScorer}

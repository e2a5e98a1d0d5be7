"""k-means on the workers (batch and online): the centroids in predictor.json."""

from __future__ import annotations

from typing import Any

import numpy as np


class KMeansScorer:
    def __init__(self, payload: dict[str, Any], directory: str) -> None:
        self.centroids = np.asarray(payload["centroids"], dtype=np.float64)

    def scores(self, x: np.ndarray) -> np.ndarray:
        """The distance of each row to each centroid."""
        squared = ((x[:, None, :] - self.centroids[None, :, :]) ** 2).sum(axis=2)
        return np.sqrt(squared)


SCORERS = {"kmeans": KMeansScorer}

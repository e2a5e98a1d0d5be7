"""What a model type is on the workers: a scorer, found by predictor.json's "algorithm".

Each module of this package declares `SCORERS: dict[str, type[Scorer]]` (algorithm name ->
class); udfs.models finds them all. A scorer is built once per version and scores many
batches of encoded rows (udfs/features.py), with no pickle: it reads predictor.json's payload
and the files its fit wrote into the version directory.

What `scores` returns depends on the task (payload["task"]):
- classification: class probabilities, n x len(payload["classes"]), rows summing to 1
- regression: the predicted values, n
- clustering: the distance to each centroid, n x clusters
- anomaly: the anomaly score, n, higher meaning more anomalous; a row is flagged when its
  score is at least payload["threshold"]

Optional: a scorer with `contributions(x, scores)` serves ML_EXPLAIN_PREDICT (udfs/explain.py):
it returns the per-row, per-encoded-feature contributions (n x encoded features) to the raw
score it explains (the positive class's, the predicted class's or the regression value) and
the baseline (n), which add up to that raw score; `scores` is what `scores(x)` returned.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np


class Scorer(Protocol):
    def __init__(self, payload: dict[str, Any], directory: str) -> None: ...

    def scores(self, x: np.ndarray) -> np.ndarray: ...


class Explainable(Scorer, Protocol):
    def contributions(self, x: np.ndarray,
                      scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...

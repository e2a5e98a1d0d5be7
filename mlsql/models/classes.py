"""Label helpers the model type modules share: class codes, and the targets of held-out rows
(whose labels may include a class the training rows never had)."""

from __future__ import annotations

from typing import Any

import numpy as np

from mlsql.errors import TrainingError


def class_codes(y: np.ndarray) -> tuple[list[Any], np.ndarray]:
    """The sorted distinct classes (as plain Python values) and each row's code."""
    classes, codes = np.unique(y, return_inverse=True)
    if len(classes) < 2:
        raise TrainingError(f"the label has a single class ({classes.tolist()}): a classifier "
                            "needs at least two")
    return [c.item() if hasattr(c, "item") else c for c in classes], codes


def known_targets(y: np.ndarray, classes: list[Any] | None) -> np.ndarray:
    """Which held-out rows a model can score against: all for a regressor (classes None),
    else those whose label is a training class."""
    if classes is None:
        return np.ones(len(y), dtype=bool)
    return np.isin(y, np.asarray(classes, dtype=y.dtype))


def targets(y: np.ndarray, classes: list[Any] | None) -> np.ndarray:
    """Held-out labels as a fit's targets: class codes (rows of known classes only; filter
    with known_targets first) or regression values."""
    if classes is None:
        return y.astype(np.float64)
    return np.searchsorted(np.asarray(classes, dtype=y.dtype), y)

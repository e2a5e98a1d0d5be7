"""Fit a model type on an encoded matrix: the registered type's own fit (mlsql.models).

Each fit records its iterations in a History: LightGBM every boosting round with the
training and evaluation loss; scikit-learn's solvers only how many iterations they took
(n_iter_), one row whose losses mlsql.planner.train fills in from the fitted model.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from mlsql.errors import TrainingError
from mlsql.models import model_type as find_model_type
from mlsql.models.base import FitRequest, Fitted, Rows
from mlsql.models.classes import class_codes
from mlsql.models.history import History

__all__ = ["Fitted", "Rows", "class_codes", "encoding_for", "fit"]


def encoding_for(model_type: str) -> tuple[str, bool]:
    """(categorical encoding, standardize numerics) for a model type."""
    found = find_model_type(model_type)
    return found.categorical_encoding, found.standardize


def fit(model_type: str, x: np.ndarray, y: np.ndarray | None, options: dict[str, Any],
        spec: dict[str, Any], directory: Path, progress: Callable[[str], None],
        history: History, evaluation: Rows | None = None) -> Fitted:
    """`evaluation`: the held-out rows (LightGBM records their loss per round)."""
    found = find_model_type(model_type)
    if found.fit is None:
        raise TrainingError(f"{found.name} is trained online only, by a continuous job")
    if x.shape[1] == 0:
        raise TrainingError("the training query has no feature columns")
    history.restart_clock()
    return found.fit(FitRequest(x=x, y=y, options=options, spec=spec, directory=Path(directory),
                                progress=progress, history=history, evaluation=evaluation))

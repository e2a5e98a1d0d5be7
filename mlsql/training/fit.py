"""What a training mode (in Python or in Flink) hands to publishing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mlsql.models.history import History
from udfs.predictors import Predictor

SINGLE = "single"
DISTRIBUTED = "distributed"


@dataclass
class Fit:
    spec: dict[str, Any]
    fitted: dict[str, Any]
    train_rows: int
    eval_rows: int
    mode: str = SINGLE
    metrics: dict[str, float] | None = None  # known already, or computed by `evaluate`
    evaluate: Callable[[Predictor], dict[str, float]] | None = None
    history: History = field(default_factory=History)
    # The training rows' metrics, for a history whose one row has no loss yet (scikit-learn)
    train_metrics: Callable[[Predictor], dict[str, float]] | None = None
    # The training rows' distributions, inputs and outputs (mlsql.monitoring.profile)
    profile: Callable[[Predictor], dict[str, Any]] | None = None
    # Files for the version's directory, by name (a model trained where it cannot write one)
    files: dict[str, bytes] = field(default_factory=dict)

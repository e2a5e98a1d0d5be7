"""What a model type is, on the training side: its options, its fit, its SQL form.

Each module of this package declares `MODEL_TYPES: tuple[ModelType, ...]`; mlsql.models
finds them all (adding a model type adds one module here and one under udfs/models/).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mlsql.models.option_spec import Option
from udfs import features

if TYPE_CHECKING:
    from mlsql.compiler.sql import CompiledModel
    from mlsql.models.history import History

CLASSIFICATION = "classification"
REGRESSION = "regression"
CLUSTERING = "clustering"
ANOMALY = "anomaly"  # unsupervised: an anomaly score (higher: more anomalous) and a flag
UNSUPERVISED = (CLUSTERING, ANOMALY)
TIME_SERIES = "time_series"  # one forecasting model per series (arima_plus): no label

# The algorithm's part of predictor.json ("algorithm" names the scorer). Keys other code reads:
# "classes" (classifiers), "threshold" (anomaly: flagged when the score is at least it),
# "feature_importance" ({encoded feature name: value}, served by ML_FEATURE_IMPORTANCE, with
# "feature_importance_type", default 'gain'), "coef" (coefficient models: importance as the
# standardized coefficient).
Fitted = dict[str, Any]
Rows = tuple[np.ndarray, np.ndarray | None]  # encoded features, labels


@dataclass(frozen=True)
class FitRequest:
    """Everything a fit gets. `y` holds the label values as extracted (classifiers map them
    to codes with mlsql.models.classes.class_codes); `directory` is the version directory a
    fit writes its model files into (no pickle: JSON, text or .npy read with
    allow_pickle=False); `evaluation` the held-out rows, or None."""

    x: np.ndarray
    y: np.ndarray | None
    options: dict[str, Any]
    spec: dict[str, Any]
    directory: Path
    progress: Callable[[str], None]
    history: History
    evaluation: Rows | None = None


@dataclass(frozen=True)
class CompileRequest:
    """A published version's predictor.json, its directory, the SQL of its inputs (in the
    order of the model's input columns) and the predicted label's Flink type."""

    payload: dict[str, Any]
    directory: Path
    inputs: list[str]
    label_type: str | None
    max_tree_nodes: int


@dataclass(frozen=True)
class ModelType:
    name: str
    task: str  # CLASSIFICATION, REGRESSION, CLUSTERING, ANOMALY or TIME_SERIES
    options: tuple[Option, ...]
    fit: Callable[[FitRequest], Fitted] | None = None  # None: trained only online
    # How string and numeric features are encoded (udfs/features.py).
    categorical_encoding: str = features.ONE_HOT
    standardize: bool = True
    # The model as Flink SQL expressions; raises mlsql.compiler.sql.NotCompilable when a
    # version has no SQL form (too many trees, ...). None: scored by the UDF only.
    compile: Callable[[CompileRequest], CompiledModel] | None = None
    online: bool = False

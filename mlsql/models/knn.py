"""knn_classifier and knn_regressor: k nearest neighbours by Euclidean distance over the
encoded (standardized, one-hot) training rows, which the version keeps as .npy files (at most
`max_rows` of them). Scored on the workers by udfs/models/knn.py, brute force in numpy as
scikit-learn's KNeighborsClassifier/KNeighborsRegressor compute it (Flink ML's Knn: k =
num_neighbors). Fewer training rows than num_neighbors: all of them vote, as in Flink ML's Knn
(scikit-learn refuses)."""

from __future__ import annotations

import numpy as np

from mlsql.errors import TrainingError
from mlsql.models.base import CLASSIFICATION, REGRESSION, FitRequest, Fitted, ModelType
from mlsql.models.classes import class_codes
from mlsql.models.option_spec import Option, choice, positive_int

ALGORITHM = "knn"
ROWS_FILE = "knn_rows.npy"
TARGETS_FILE = "knn_targets.npy"
MAX_ROWS = 100_000


def fit_knn(request: FitRequest) -> Fitted:
    options = request.options
    name, k, limit = options["model_type"], options["num_neighbors"], options["max_rows"]
    x = np.ascontiguousarray(request.x, dtype=np.float64)
    if len(x) > limit:
        raise TrainingError(
            f"{name} keeps its training rows to score against: {len(x):,} training rows "
            f"exceed max_rows={limit:,}; raise 'max_rows' or train on a sample of the query")
    fitted: Fitted = {"algorithm": ALGORITHM, "num_neighbors": k,
                      "weights": options["weights"], "rows_file": ROWS_FILE,
                      "targets_file": TARGETS_FILE}
    if name == "knn_classifier":
        classes, targets = class_codes(request.y)
        fitted["classes"] = classes
        targets = targets.astype(np.int64)
    else:
        targets = request.y.astype(np.float64)
    np.save(request.directory / ROWS_FILE, x, allow_pickle=False)
    np.save(request.directory / TARGETS_FILE, targets, allow_pickle=False)
    request.history.record(1, None)  # fitting is keeping the rows: one step
    return fitted


_OPTIONS = (
    Option("num_neighbors", positive_int, 5, "neighbours that vote (Flink ML's k)"),
    Option("weights", choice("uniform", "distance"), "uniform",
           "'uniform': every neighbour counts the same; 'distance': by 1 / distance"),
    Option("max_rows", positive_int, MAX_ROWS,
           "training rows the model may keep (each scored row is compared with all)"),
)
MODEL_TYPES = (
    ModelType("knn_classifier", CLASSIFICATION, _OPTIONS, fit=fit_knn),
    ModelType("knn_regressor", REGRESSION, _OPTIONS, fit=fit_knn),
)

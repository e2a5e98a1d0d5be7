"""isolation_forest: scikit-learn's IsolationForest, unsupervised (no label): an anomaly score
per row (higher: more anomalous, scikit-learn's -score_samples, between 0 and 1) and a flag,
raised when the score reaches the threshold the contamination sets (0.5 for 'auto', else the
training rows' score quantile: scikit-learn's -offset_). Exported as flat node arrays whose
leaves hold each path's length (edges from the root + c(rows in the leaf)), walked in numpy
on the workers (udfs/models/isolation_forest.py). Features are one-hot encoded and not
standardized (a random split between a column's minimum and maximum ignores its scale)."""

from __future__ import annotations

from typing import Any

from mlsql.core.progress import Step
from mlsql.models import _tree_sql
from mlsql.models.base import ANOMALY, CompileRequest, FitRequest, Fitted, ModelType
from mlsql.models.option_spec import Option, positive_int, unit_interval
from udfs import features
from udfs.models.tree_arrays import average_path_length, from_sklearn, node_depths


def contamination(text: str) -> str | float:
    """'auto' or the expected share of anomalies in (0, 0.5]."""
    value = text.strip().lower()
    if value == "auto":
        return value
    try:
        share = float(value)
    except ValueError:
        share = -1.0
    if not 0.0 < share <= 0.5:
        raise ValueError("must be 'auto' (threshold 0.5) or the expected share of anomalies, "
                         "above 0 and at most 0.5, such as '0.01'")
    return share


def max_samples(text: str) -> str | int | float:
    """'auto' (256 rows, or all if fewer), a row count such as '512', or a share such as
    '0.5'."""
    value = text.strip().lower()
    if value == "auto":
        return value
    if value.isdigit() and int(value) >= 1:
        return int(value)
    try:
        share = float(value)
    except ValueError:
        share = -1.0
    if not 0.0 < share <= 1.0 or value.isdigit():
        raise ValueError("must be 'auto' (256 rows), a row count of at least 1 such as "
                         "'512', or a share of the rows in (0, 1] such as '0.5'")
    return share


def estimator(options: dict[str, Any]) -> Any:
    """The scikit-learn model the options describe (also what the tests fit directly)."""
    from sklearn.ensemble import IsolationForest

    return IsolationForest(n_estimators=options["num_trees"],
                           max_samples=options["max_samples"],
                           max_features=options["max_features"],
                           contamination=options["contamination"],
                           random_state=options["seed"])


def fit_isolation_forest(request: FitRequest) -> Fitted:
    total = request.options["num_trees"]
    model = estimator(request.options)
    if isinstance(model.max_samples, int) and model.max_samples > len(request.x):
        model.set_params(max_samples=len(request.x))  # scikit-learn would warn and do this
    model.fit(request.x)
    request.progress(Step(f"isolation forest: {total}/{total} trees", "forest", total, total,
                          "trees"))
    request.history.record(total, None)
    width = request.x.shape[1]
    trees = [e.tree_ for e in model.estimators_]
    # A path: its edges from the root plus c(rows left in its leaf), as in Liu et al.
    paths = [node_depths(t) + average_path_length(t.n_node_samples) for t in trees]
    columns = [f if len(f) != width else None for f in model.estimators_features_]
    arrays = from_sklearn(trees, [p[:, None] for p in paths], columns)
    arrays.save(request.directory)
    return {"algorithm": "isolation_forest", "tree_depth": arrays.depth,
            "num_trees": len(trees), "max_samples": int(model.max_samples_),
            "denominator": float(len(trees) * average_path_length(model.max_samples_)),
            "threshold": float(-model.offset_)}


def compile_isolation_forest(request: CompileRequest) -> Any:
    """2 ** -(the sum of the trees' path lengths / denominator), and the flag; forests over the
    node limit stay with the UDF (NotCompilable)."""
    from mlsql.compiler.sql import CompiledModel, double, score_ref

    trees = _tree_sql.load(request)
    (terms,) = _tree_sql.tree_terms(trees, request)
    denominator = float(request.payload["denominator"])
    score = (f"POWER(2E0, -({score_ref(0)}) / {double(denominator)})" if denominator != 0.0
             else f"5E-1 + 0E0 * ({score_ref(0)})")  # as the scorer: scikit-learn's 2 ** -1
    flag = f"{score} >= {double(float(request.payload['threshold']))}"
    return CompiledModel([" + ".join(f"({t})" for t in terms)], [score, flag],
                         score_terms=[terms])


MODEL_TYPES = (
    ModelType("isolation_forest", ANOMALY, (
        Option("num_trees", positive_int, 100, "isolation trees"),
        Option("max_samples", max_samples, "auto",
               "rows each tree isolates: 'auto' (256), a count or a share"),
        Option("max_features", unit_interval, 1.0, "share of the columns each tree sees"),
        Option("contamination", contamination, "auto",
               "expected share of anomalies, setting the flag's threshold; 'auto': 0.5"),
    ), fit=fit_isolation_forest, categorical_encoding=features.ONE_HOT, standardize=False,
        compile=compile_isolation_forest),
)

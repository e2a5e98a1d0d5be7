"""random_forest_classifier and random_forest_regressor: scikit-learn's random forests,
exported as flat node arrays (.npy, udfs/models/tree_arrays.py) that the workers walk in
numpy (udfs/models/random_forest.py); no pickle, no scikit-learn needed to score.

Features are one-hot encoded and not standardized: scikit-learn trees split numbers only, an
ordinal code would invent an order between categories, a NULL or unseen category is then all
zeros (never NaN), and thresholds stay in the column's own units (a tree is indifferent to
scale). The history has one row per tree: the loss of the forest of the first k trees on the
training rows and, with held-out rows, on those (computed once the forest is grown, so a
row's duration_ms is the time to score its tree; the growing is in the training seconds).
Forests within the node limit also compile to SQL (mlsql/models/_tree_sql.py).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from mlsql.core.progress import Step
from mlsql.models import _tree_sql
from mlsql.models.base import (
    CLASSIFICATION,
    REGRESSION,
    CompileRequest,
    FitRequest,
    Fitted,
    ModelType,
)
from mlsql.models.classes import class_codes, known_targets, targets
from mlsql.models.option_spec import Option, class_weight, positive_int, unit_interval
from udfs import features
from udfs.models.tree_arrays import from_sklearn

_PROGRESS_STEPS = 5  # the forest grows in this many warm-started chunks, each reported


def max_features(text: str) -> str | int | float | None:
    """'sqrt', 'log2', 'all', a share of the columns such as '0.5', or a count such as '3'."""
    value = text.strip().lower()
    if value in ("sqrt", "log2"):
        return value
    if value == "all":
        return None
    if value.isdigit():
        count = int(value)
        if count < 1:
            raise ValueError("must be 'sqrt', 'log2', 'all', a share in (0, 1] such as "
                             "'0.5' or a column count of at least 1")
        return count
    try:
        share = float(value)
    except ValueError:
        share = -1.0
    if not 0.0 < share <= 1.0:
        raise ValueError("must be 'sqrt', 'log2', 'all', a share in (0, 1] such as '0.5' "
                         "or a whole number of columns such as '3'")
    return share


def max_depth(text: str) -> int | None:
    """A positive depth limit, or -1 for none."""
    value = int(text)
    if value == -1:
        return None
    if value < 1:
        raise ValueError("must be a positive depth, or -1 for no limit")
    return value


def estimator(options: dict[str, Any], task: str) -> Any:
    """The scikit-learn forest the options describe (also what the tests fit directly)."""
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

    common: dict[str, Any] = {
        "n_estimators": options["num_trees"], "max_depth": options["max_depth"],
        "min_samples_leaf": options["min_samples_leaf"],
        "max_features": options["max_features"],
        "max_samples": None if options["subsample"] == 1.0 else options["subsample"],
        "random_state": options["seed"],
    }
    if task == CLASSIFICATION:
        return RandomForestClassifier(class_weight=options["class_weight"], **common)
    return RandomForestRegressor(**common)


def fit_random_forest(request: FitRequest) -> Fitted:
    options = request.options
    task = CLASSIFICATION if options["model_type"] == "random_forest_classifier" else REGRESSION
    fitted: Fitted = {"algorithm": "random_forest"}
    if task == CLASSIFICATION:
        classes, target = class_codes(request.y)
        fitted["classes"] = classes
    else:
        classes, target = None, request.y.astype(np.float64)
    total = options["num_trees"]
    model = estimator(options, task)
    # Growing the forest chunk by chunk (warm_start) gives the trees of one fit: scikit-learn
    # draws the seeds of the trees it already has before drawing new ones.
    model.set_params(warm_start=True)
    for chunk in range(1, _PROGRESS_STEPS + 1):
        grown = max(1, total * chunk // _PROGRESS_STEPS)
        if grown <= len(getattr(model, "estimators_", ())):
            continue
        model.set_params(n_estimators=grown)
        with warnings.catch_warnings():  # 'balanced' with warm_start: the rows stay the same
            warnings.filterwarnings("ignore", message="class_weight presets")
            model.fit(request.x, target)
        request.progress(Step(f"forest: {grown}/{total} trees", "forest", grown, total,
                              "trees"))
    model.set_params(warm_start=False)
    _record_history(model, request, target, classes)

    trees = [e.tree_ for e in model.estimators_]
    if task == CLASSIFICATION:
        values = [_class_shares(t.value[:, 0, :]) for t in trees]
    else:
        values = [t.value[:, 0, :1] for t in trees]
    arrays = from_sklearn(trees, values)
    arrays.save(request.directory)
    fitted["tree_depth"] = arrays.depth
    fitted["num_trees"] = len(trees)
    # Mean decrease in impurity (Gini or squared error), normalised to sum to 1.
    fitted["feature_importance_type"] = "impurity"
    fitted["feature_importance"] = dict(zip(
        features.feature_names(request.spec),
        (float(v) for v in model.feature_importances_), strict=True))
    return fitted


def _class_shares(value: np.ndarray) -> np.ndarray:
    """Per-node class counts (or shares) as shares summing to 1, as a tree's predict_proba."""
    total = value.sum(axis=1, keepdims=True)
    return value / np.where(total == 0.0, 1.0, total)


def _record_history(model: Any, request: FitRequest, target: np.ndarray,
                    classes: list[Any] | None) -> None:
    """One row per tree: the mean loss of the first k trees' average prediction."""
    sets = [(request.x, target)]
    if request.evaluation is not None and len(request.evaluation[0]):
        x_eval, y_eval = request.evaluation
        known = known_targets(y_eval, classes)
        if known.any():
            sets.append((x_eval[known], targets(y_eval[known], classes)))
    sums = [None] * len(sets)
    request.history.restart_clock()
    for k, tree in enumerate(model.estimators_, start=1):
        losses = []
        for i, (x, y) in enumerate(sets):
            part = tree.predict_proba(x) if classes is not None else tree.predict(x)
            sums[i] = part if sums[i] is None else sums[i] + part
            mean = sums[i] / k
            if classes is not None:
                picked = mean[np.arange(len(y)), y.astype(np.int64)]
                losses.append(float(-np.mean(np.log(np.clip(picked, 1e-15, 1.0)))))
            else:
                losses.append(float(np.mean((mean - y) ** 2)))
        request.history.record(k, losses[0], losses[1] if len(losses) > 1 else None)


def compile_random_forest(request: CompileRequest) -> Any:
    """Each class's (or the value's) sum over the trees, divided by their number: the scorer's
    mean; forests over the node limit stay with the UDF (NotCompilable)."""
    from mlsql.compiler.sql import CompiledModel, double, first_best, score_ref, typed_literal

    trees = _tree_sql.load(request)
    terms = _tree_sql.tree_terms(trees, request)
    scores = [" + ".join(f"({t})" for t in per_output) for per_output in terms]
    count = double(float(len(trees.roots)))
    means = [f"{score_ref(i)} / {count}" for i in range(len(terms))]
    classes = request.payload.get("classes")
    if classes is None:
        return CompiledModel(scores, means, score_terms=terms)
    literals = [typed_literal(c, request.label_type or "STRING") for c in classes]
    probability = means[1] if len(classes) == 2 else f"GREATEST({', '.join(means)})"
    return CompiledModel(scores, [first_best(means, literals, largest=True), probability],
                         score_terms=terms)


_COMMON = (
    Option("num_trees", positive_int, 100, "trees in the forest"),
    Option("max_depth", max_depth, None, "tree depth limit (-1: none, grown until pure)"),
    Option("min_samples_leaf", positive_int, 1, "training rows a leaf needs at least"),
    Option("subsample", unit_interval, 1.0,
           "share of the rows each tree's bootstrap sample draws"),
)
_CLASSIFIER = (
    *_COMMON,
    Option("max_features", max_features, "sqrt",
           "columns tried per split: 'sqrt', 'log2', 'all', a share or a count"),
    Option("class_weight", class_weight, None, "'balanced' reweights rare classes"),
)
_REGRESSOR = (
    *_COMMON,
    Option("max_features", max_features, 1.0,
           "columns tried per split: 'sqrt', 'log2', 'all' (default), a share or a count"),
)

MODEL_TYPES = (
    ModelType("random_forest_classifier", CLASSIFICATION, _CLASSIFIER, fit=fit_random_forest,
              categorical_encoding=features.ONE_HOT, standardize=False,
              compile=compile_random_forest),
    ModelType("random_forest_regressor", REGRESSION, _REGRESSOR, fit=fit_random_forest,
              categorical_encoding=features.ONE_HOT, standardize=False,
              compile=compile_random_forest),
)

"""Fit each model type on an encoded matrix and describe the result for udfs.predictors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from mlsql.errors import TrainingError
from udfs import features

Fitted = dict[str, Any]  # the algorithm's part of predictor.json
BOOSTER_FILE = "model.txt"


def encoding_for(model_type: str) -> tuple[str, bool]:
    """(categorical encoding, standardize numerics) for a model type."""
    if model_type.startswith("boosted_tree"):
        return features.ORDINAL, False
    return features.ONE_HOT, True


def fit(model_type: str, x: np.ndarray, y: np.ndarray | None, options: dict[str, Any],
        spec: dict[str, Any], directory: Path, progress: Callable[[str], None]) -> Fitted:
    if x.shape[1] == 0:
        raise TrainingError("the training query has no feature columns")
    fitters = {"logistic_reg": _logistic, "linear_reg": _linear,
               "boosted_tree_classifier": _boosted_trees, "boosted_tree_regressor":
               _boosted_trees, "kmeans": _kmeans}
    return fitters[model_type](x, y, options, spec, directory, progress)


def class_codes(y: np.ndarray) -> tuple[list[Any], np.ndarray]:
    classes, codes = np.unique(y, return_inverse=True)
    if len(classes) < 2:
        raise TrainingError(f"the label has a single class ({classes.tolist()}): a classifier "
                            "needs at least two")
    return [c.item() if hasattr(c, "item") else c for c in classes], codes


def _logistic(x, y, options, spec, directory, progress) -> Fitted:
    from sklearn.linear_model import LogisticRegression

    classes, codes = class_codes(y)
    l2 = options["l2_reg"]
    model = LogisticRegression(
        C=1.0 / l2 if l2 > 0 else np.inf, max_iter=options["max_iter"],
        class_weight=options["class_weight"], random_state=options["seed"])
    model.fit(x, codes)
    return {"algorithm": "logistic", "classes": classes, "coef": model.coef_.tolist(),
            "intercept": model.intercept_.tolist()}


def _linear(x, y, options, spec, directory, progress) -> Fitted:
    from sklearn.linear_model import LinearRegression, Ridge

    l2 = options["l2_reg"]
    model = Ridge(alpha=l2) if l2 > 0 else LinearRegression()
    model.fit(x, y.astype(np.float64))
    return {"algorithm": "linear", "coef": [np.atleast_1d(model.coef_).tolist()],
            "intercept": [float(model.intercept_)]}


def _boosted_trees(x, y, options, spec, directory, progress) -> Fitted:
    import lightgbm

    params: dict[str, Any] = {
        "learning_rate": options["learning_rate"], "num_leaves": options["num_leaves"],
        "max_depth": options["max_depth"], "min_data_in_leaf": options["min_data_in_leaf"],
        "seed": options["seed"], "verbosity": -1, "deterministic": True,
    }
    fitted: Fitted = {"algorithm": "lightgbm", "booster_file": BOOSTER_FILE}
    if y is not None and options["model_type"] == "boosted_tree_classifier":
        classes, target = class_codes(y)
        fitted["classes"] = classes
        if len(classes) == 2:
            params["objective"] = "binary"
        else:
            params.update(objective="multiclass", num_class=len(classes))
    else:
        target = y.astype(np.float64)
        params["objective"] = "regression"
    rounds = options["num_trees"]
    report_every = max(1, rounds // 5)

    def report(env: Any) -> None:
        done = env.iteration + 1
        if done % report_every == 0 or done == rounds:
            progress(f"boosting: {done}/{rounds} trees")

    dataset = lightgbm.Dataset(x, label=target,
                               categorical_feature=features.categorical_indices(spec) or "auto",
                               free_raw_data=True)
    booster = lightgbm.train(params, dataset, num_boost_round=rounds, callbacks=[report])
    booster.save_model(str(directory / BOOSTER_FILE))
    importance = booster.feature_importance(importance_type="gain")
    fitted["feature_importance"] = dict(
        zip(features.feature_names(spec), (float(v) for v in importance), strict=True))
    return fitted


def _kmeans(x, y, options, spec, directory, progress) -> Fitted:
    from sklearn.cluster import KMeans

    if len(x) < options["num_clusters"]:
        raise TrainingError(f"kmeans needs at least num_clusters={options['num_clusters']} "
                            f"rows, the query returned {len(x)}")
    model = KMeans(n_clusters=options["num_clusters"], max_iter=options["max_iter"],
                   random_state=options["seed"], n_init="auto")
    model.fit(x)
    return {"algorithm": "kmeans", "centroids": model.cluster_centers_.tolist()}

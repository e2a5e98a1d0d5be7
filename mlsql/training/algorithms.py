"""Fit each model type on an encoded matrix and describe the result for udfs.predictors.

Each fitter records its iterations in a History: LightGBM every boosting round with the
training and evaluation loss; scikit-learn's solvers only how many iterations they took
(n_iter_), one row whose losses mlsql.planner.train fills in from the fitted model.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from mlsql.errors import TrainingError
from mlsql.progress import Step
from mlsql.training.history import History
from udfs import features

Fitted = dict[str, Any]  # the algorithm's part of predictor.json
Rows = tuple[np.ndarray, np.ndarray | None]  # encoded features, labels
BOOSTER_FILE = "model.txt"
_LIGHTGBM_LOSS = {"binary": "binary_logloss", "multiclass": "multi_logloss",
                  "regression": "l2"}  # the task's loss (mlsql.training.history)


def encoding_for(model_type: str) -> tuple[str, bool]:
    """(categorical encoding, standardize numerics) for a model type."""
    if model_type.startswith("boosted_tree"):
        return features.ORDINAL, False
    return features.ONE_HOT, True


def fit(model_type: str, x: np.ndarray, y: np.ndarray | None, options: dict[str, Any],
        spec: dict[str, Any], directory: Path, progress: Callable[[str], None],
        history: History, evaluation: Rows | None = None) -> Fitted:
    """`evaluation`: the held-out rows, whose loss LightGBM records per round."""
    if x.shape[1] == 0:
        raise TrainingError("the training query has no feature columns")
    fitters = {"logistic_reg": _logistic, "linear_reg": _linear,
               "boosted_tree_classifier": _boosted_trees, "boosted_tree_regressor":
               _boosted_trees, "kmeans": _kmeans}
    history.restart_clock()
    return fitters[model_type](x, y, options, spec, directory, progress, history, evaluation)


def class_codes(y: np.ndarray) -> tuple[list[Any], np.ndarray]:
    classes, codes = np.unique(y, return_inverse=True)
    if len(classes) < 2:
        raise TrainingError(f"the label has a single class ({classes.tolist()}): a classifier "
                            "needs at least two")
    return [c.item() if hasattr(c, "item") else c for c in classes], codes


def _logistic(x, y, options, spec, directory, progress, history, evaluation) -> Fitted:
    from sklearn.linear_model import LogisticRegression

    classes, codes = class_codes(y)
    l2 = options["l2_reg"]
    model = LogisticRegression(
        C=1.0 / l2 if l2 > 0 else np.inf, max_iter=options["max_iter"],
        class_weight=options["class_weight"], random_state=options["seed"])
    model.fit(x, codes)
    history.record(int(np.max(model.n_iter_)), None)
    return {"algorithm": "logistic", "classes": classes, "coef": model.coef_.tolist(),
            "intercept": model.intercept_.tolist()}


def _linear(x, y, options, spec, directory, progress, history, evaluation) -> Fitted:
    from sklearn.linear_model import LinearRegression, Ridge

    l2 = options["l2_reg"]
    model = Ridge(alpha=l2) if l2 > 0 else LinearRegression()
    model.fit(x, y.astype(np.float64))
    history.record(1, None)  # a closed form (or one solver call): one iteration
    return {"algorithm": "linear", "coef": [np.atleast_1d(model.coef_).tolist()],
            "intercept": [float(model.intercept_)]}


def _boosted_trees(x, y, options, spec, directory, progress, history, evaluation) -> Fitted:
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
    params["metric"] = _LIGHTGBM_LOSS[params["objective"]]
    rounds = options["num_trees"]
    report_every = max(1, rounds // 5)

    def report(env: Any) -> None:
        done = env.iteration + 1
        losses = {name: value for name, _, value, _ in env.evaluation_result_list}
        history.record(done, losses.get("train"), losses.get("eval"))
        if done % report_every == 0 or done == rounds:
            progress(Step(f"boosting: {done}/{rounds} trees", "boosting", done, rounds,
                          "trees"))

    categorical = features.categorical_indices(spec) or "auto"
    dataset = lightgbm.Dataset(x, label=target, categorical_feature=categorical,
                               free_raw_data=True)
    valid_sets, valid_names = [dataset], ["train"]
    if evaluation is not None and len(evaluation[0]):
        x_eval, y_eval = evaluation
        known = _known_targets(y_eval, fitted.get("classes"))
        valid_sets.append(lightgbm.Dataset(
            x_eval[known], label=_targets(y_eval[known], fitted.get("classes")),
            categorical_feature=categorical, reference=dataset))
        valid_names.append("eval")
    booster = lightgbm.train(params, dataset, num_boost_round=rounds, valid_sets=valid_sets,
                             valid_names=valid_names, callbacks=[report])
    booster.save_model(str(directory / BOOSTER_FILE))
    importance = booster.feature_importance(importance_type="gain")
    fitted["feature_importance"] = dict(
        zip(features.feature_names(spec), (float(v) for v in importance), strict=True))
    return fitted


def _known_targets(y: np.ndarray, classes: list[Any] | None) -> np.ndarray:
    """Which held-out rows LightGBM can score: all for a regressor, else those whose label
    is a training class."""
    if classes is None:
        return np.ones(len(y), dtype=bool)
    return np.isin(y, np.asarray(classes, dtype=y.dtype))


def _targets(y: np.ndarray, classes: list[Any] | None) -> np.ndarray:
    if classes is None:
        return y.astype(np.float64)
    return np.searchsorted(np.asarray(classes, dtype=y.dtype), y)


def _kmeans(x, y, options, spec, directory, progress, history, evaluation) -> Fitted:
    from sklearn.cluster import KMeans

    if len(x) < options["num_clusters"]:
        raise TrainingError(f"kmeans needs at least num_clusters={options['num_clusters']} "
                            f"rows, the query returned {len(x)}")
    model = KMeans(n_clusters=options["num_clusters"], max_iter=options["max_iter"],
                   random_state=options["seed"], n_init="auto")
    model.fit(x)
    history.record(int(model.n_iter_), None)
    return {"algorithm": "kmeans", "centroids": model.cluster_centers_.tolist()}

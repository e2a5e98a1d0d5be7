"""xgboost_classifier and xgboost_regressor: XGBoost's gradient-boosted trees beside LightGBM
(boosted_tree_*), saved as XGBoost's own JSON model (model.json, no pickle) and scored on the
workers by XGBoost's Booster (udfs/models/xgboost.py). Like LightGBM: string features are
ordinal codes split natively as categories (NULL or unseen: XGBoost's missing value),
numbers are not standardized, and the history has every round's training and evaluation
loss (log-loss, or mean squared error: XGBoost's rmse squared). Feature importance is the
total gain of each feature's splits (XGBoost's 'total_gain', LightGBM's 'gain')."""

from __future__ import annotations

from typing import Any

import numpy as np

from mlsql.core.progress import Step
from mlsql.models.base import CLASSIFICATION, REGRESSION, FitRequest, Fitted, ModelType
from mlsql.models.classes import class_codes, known_targets, targets
from mlsql.models.option_spec import (
    DISTRIBUTABLE,
    NUM_WORKERS,
    Option,
    non_negative_float,
    positive_int,
    unit_interval,
)
from udfs import features

MODEL_FILE = "model.json"


def params(options: dict[str, Any]) -> dict[str, Any]:
    """XGBoost's training parameters for the options, less the objective (also what the
    tests pass to XGBoost directly)."""
    return {"eta": options["learning_rate"], "max_depth": options["max_depth"],
            "min_child_weight": options["min_child_weight"],
            "subsample": options["subsample"], "colsample_bytree": options["colsample_bytree"],
            "lambda": options["l2_reg"], "alpha": options["l1_reg"],
            "tree_method": "hist", "seed": options["seed"], "verbosity": 0}


def feature_types(spec: dict[str, Any]) -> list[str]:
    """XGBoost's type of each encoded column: 'c' (categorical code) or 'q' (number)."""
    categorical = set(features.categorical_indices(spec))
    return ["c" if i in categorical else "q" for i in range(len(features.feature_names(spec)))]


def matrix(x: np.ndarray, types: list[str], label: np.ndarray | None = None) -> Any:
    import xgboost

    return xgboost.DMatrix(x, label=label, feature_types=types,
                           enable_categorical="c" in types)


def training_params(options: dict[str, Any], classes: list[Any] | None) -> dict[str, Any]:
    """params() with the objective and its metric for `classes` (None: a regressor).
    Single-machine and distributed training (udfs/collective_training.py) both use it."""
    booster_params = params(options)
    if classes is None:
        booster_params.update(objective="reg:squarederror", eval_metric="rmse")
    elif len(classes) == 2:
        booster_params.update(objective="binary:logistic", eval_metric="logloss")
    else:
        booster_params.update(objective="multi:softprob", num_class=len(classes),
                              eval_metric="mlogloss")
    return booster_params


def fit_xgboost(request: FitRequest) -> Fitted:
    import xgboost

    options = request.options
    fitted: Fitted = {"algorithm": "xgboost", "model_file": MODEL_FILE}
    classes: list[Any] | None = None
    if options["model_type"] == "xgboost_classifier":
        classes, target = class_codes(request.y)
        fitted["classes"] = classes
    else:
        target = request.y.astype(np.float64)
    booster_params = training_params(options, classes)
    types = feature_types(request.spec)
    train = matrix(request.x, types, target)
    evals = [(train, "train")]
    if request.evaluation is not None and len(request.evaluation[0]):
        x_eval, y_eval = request.evaluation
        known = known_targets(y_eval, classes)
        if known.any():
            evals.append((matrix(x_eval[known], types, targets(y_eval[known], classes)),
                          "eval"))
    rounds = options["num_trees"]
    booster = xgboost.train(booster_params, train, num_boost_round=rounds, evals=evals,
                            verbose_eval=False,
                            callbacks=[_report(request, rounds, booster_params["eval_metric"])])
    booster.save_model(str(request.directory / MODEL_FILE))
    gains = booster.get_score(importance_type="total_gain")  # keys f0, f1, ... (used ones)
    fitted["feature_importance_type"] = "gain"  # total gain, as LightGBM's 'gain'
    fitted["feature_importance"] = {
        name: float(gains.get(f"f{i}", 0.0))
        for i, name in enumerate(features.feature_names(request.spec))}
    return fitted


def _report(request: FitRequest, rounds: int, metric: str) -> Any:
    """XGBoost's per-round callback: a history row each round and, five times in all, a
    progress step."""
    import xgboost

    class Report(xgboost.callback.TrainingCallback):
        def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
            done = epoch + 1
            losses = {name: _loss(log[metric][-1], metric) for name, log in evals_log.items()}
            request.history.record(done, losses.get("train"), losses.get("eval"))
            if done % max(1, rounds // 5) == 0 or done == rounds:
                request.progress(Step(f"boosting: {done}/{rounds} trees", "boosting", done,
                                      rounds, "trees"))
            return False

    return Report()


def _loss(value: float, metric: str) -> float:
    """The history's loss: log-loss as XGBoost reports it, mean squared error from rmse."""
    return float(value) ** 2 if metric == "rmse" else float(value)


_OPTIONS = (
    Option("num_trees", positive_int, 100, "boosting rounds"),
    Option("learning_rate", non_negative_float, 0.3, "shrinkage per tree (XGBoost's eta)"),
    Option("max_depth", positive_int, 6, "tree depth limit"),
    Option("min_child_weight", non_negative_float, 1.0,
           "hessian sum a child needs at least (about its rows, for squared error)"),
    Option("subsample", unit_interval, 1.0, "share of the rows each tree samples"),
    Option("colsample_bytree", unit_interval, 1.0, "share of the columns each tree samples"),
    Option("l2_reg", non_negative_float, 1.0, "L2 penalty on leaf weights (lambda)"),
    Option("l1_reg", non_negative_float, 0.0, "L1 penalty on leaf weights (alpha)"),
)

MODEL_TYPES = tuple(
    ModelType(name, task, _OPTIONS + DISTRIBUTABLE + (NUM_WORKERS,), fit=fit_xgboost,
              categorical_encoding=features.ORDINAL, standardize=False)
    for name, task in (("xgboost_classifier", CLASSIFICATION),
                       ("xgboost_regressor", REGRESSION)))

"""boosted_tree_classifier and boosted_tree_regressor: LightGBM, its text-format model in the
version directory; compiled to one nested CASE per tree up to a node limit. Scored on the
workers by udfs/models/lightgbm.py."""

from __future__ import annotations

from typing import Any

import numpy as np

from mlsql.core.progress import Step
from mlsql.models.base import (
    CLASSIFICATION,
    REGRESSION,
    CompileRequest,
    FitRequest,
    Fitted,
    ModelType,
)
from mlsql.models.classes import class_codes, known_targets, targets
from mlsql.models.option_spec import (
    DISTRIBUTABLE,
    NUM_WORKERS,
    Option,
    non_negative_float,
    positive_int,
)
from udfs import features

BOOSTER_FILE = "model.txt"
_LIGHTGBM_LOSS = {"binary": "binary_logloss", "multiclass": "multi_logloss",
                  "regression": "l2"}  # the task's loss (mlsql.models.history)


def lightgbm_params(options: dict[str, Any], classes: list[Any] | None) -> dict[str, Any]:
    """LightGBM's training parameters: the options, and the objective for `classes` (None:
    a regressor). Single-machine and distributed training (udfs/collective_training.py)
    both train with these."""
    params: dict[str, Any] = {
        "learning_rate": options["learning_rate"], "num_leaves": options["num_leaves"],
        "max_depth": options["max_depth"], "min_data_in_leaf": options["min_data_in_leaf"],
        "seed": options["seed"], "verbosity": -1, "deterministic": True,
    }
    if classes is None:
        params["objective"] = "regression"
    elif len(classes) == 2:
        params["objective"] = "binary"
    else:
        params.update(objective="multiclass", num_class=len(classes))
    params["metric"] = _LIGHTGBM_LOSS[params["objective"]]
    return params


def fit_boosted_trees(request: FitRequest) -> Fitted:
    import lightgbm

    options, y, history = request.options, request.y, request.history
    fitted: Fitted = {"algorithm": "lightgbm", "booster_file": BOOSTER_FILE}
    classes = None
    if y is not None and options["model_type"] == "boosted_tree_classifier":
        classes, target = class_codes(y)
        fitted["classes"] = classes
    else:
        target = y.astype(np.float64)
    params = lightgbm_params(options, classes)
    rounds = options["num_trees"]
    report_every = max(1, rounds // 5)

    def report(env: Any) -> None:
        done = env.iteration + 1
        losses = {name: value for name, _, value, _ in env.evaluation_result_list}
        history.record(done, losses.get("train"), losses.get("eval"))
        if done % report_every == 0 or done == rounds:
            request.progress(Step(f"boosting: {done}/{rounds} trees", "boosting", done,
                                  rounds, "trees"))

    categorical = features.categorical_indices(request.spec) or "auto"
    dataset = lightgbm.Dataset(request.x, label=target, categorical_feature=categorical,
                               free_raw_data=True)
    valid_sets, valid_names = [dataset], ["train"]
    if request.evaluation is not None and len(request.evaluation[0]):
        x_eval, y_eval = request.evaluation
        known = known_targets(y_eval, fitted.get("classes"))
        valid_sets.append(lightgbm.Dataset(
            x_eval[known], label=targets(y_eval[known], fitted.get("classes")),
            categorical_feature=categorical, reference=dataset))
        valid_names.append("eval")
    booster = lightgbm.train(params, dataset, num_boost_round=rounds, valid_sets=valid_sets,
                             valid_names=valid_names, callbacks=[report])
    booster.save_model(str(request.directory / BOOSTER_FILE))
    importance = booster.feature_importance(importance_type="gain")
    fitted["feature_importance"] = dict(
        zip(features.feature_names(request.spec), (float(v) for v in importance), strict=True))
    return fitted


def compile_boosted_trees(request: CompileRequest) -> Any:
    import lightgbm

    from mlsql.compiler.sql import NotCompilable
    from mlsql.compiler.trees import compile_trees, tree_count_and_nodes

    booster = lightgbm.Booster(
        model_file=str(request.directory / request.payload["booster_file"]))
    dump = booster.dump_model()
    trees, nodes = tree_count_and_nodes(dump)
    if nodes > request.max_tree_nodes:
        raise NotCompilable(f"{trees} trees with {nodes} nodes exceed the compiled-SQL "
                            f"limit of {request.max_tree_nodes} nodes")
    return compile_trees(dump, request.payload, request.inputs, request.label_type)


_TREES = (
    Option("num_trees", positive_int, 100, "boosting rounds"),
    Option("learning_rate", non_negative_float, 0.1, "shrinkage per tree"),
    Option("num_leaves", positive_int, 31, "leaves per tree"),
    Option("max_depth", int, -1, "tree depth limit (-1: none)"),
    Option("min_data_in_leaf", positive_int, 20, "rows a leaf needs at least"),
)

MODEL_TYPES = tuple(
    ModelType(name, task, _TREES + DISTRIBUTABLE + (NUM_WORKERS,), fit=fit_boosted_trees,
              categorical_encoding=features.ORDINAL, standardize=False,
              compile=compile_boosted_trees)
    for name, task in (("boosted_tree_classifier", CLASSIFICATION),
                       ("boosted_tree_regressor", REGRESSION)))

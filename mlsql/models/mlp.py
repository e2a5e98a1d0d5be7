"""mlp_classifier and mlp_regressor: scikit-learn's MLPClassifier/MLPRegressor (a small
fully connected network) on the encoded features; the layers' weights kept as .npy files and
scored on the workers by a numpy forward pass (udfs/models/mlp.py).

The regressor learns the label standardized (its training mean and standard deviation are
kept, and predictions are mapped back): a network started with small weights fits a target
of spread 1 in the iterations where it would still be climbing to one of spread 100.
"""

from __future__ import annotations

import warnings

import numpy as np

from mlsql.core.progress import Step
from mlsql.models.base import CLASSIFICATION, REGRESSION, FitRequest, Fitted, ModelType
from mlsql.models.classes import class_codes
from mlsql.models.option_spec import (
    Option,
    choice,
    non_negative_float,
    positive_float,
    positive_int,
)

ALGORITHM = "mlp"
MAX_LAYERS = 16
MAX_UNITS = 4096


def hidden_units(text: str) -> list[int]:
    """'[32, 16]' (BigQuery's HIDDEN_UNITS), '32, 16' or '32': the hidden layers' sizes."""
    inner = text.strip()
    if inner.startswith("[") and inner.endswith("]"):
        inner = inner[1:-1]
    try:
        sizes = [int(part) for part in inner.split(",")]
    except ValueError:
        sizes = []
    if not sizes or len(sizes) > MAX_LAYERS or not all(0 < s <= MAX_UNITS for s in sizes):
        raise ValueError(f"must be a list of 1 to {MAX_LAYERS} layer sizes, each from 1 to "
                         f"{MAX_UNITS}, such as '[32, 16]'")
    return sizes


def batch_size(text: str) -> int | str:
    if text.strip().lower() == "auto":
        return "auto"
    try:
        return positive_int(text)
    except ValueError:
        raise ValueError("must be 'auto' (200 rows, or all if fewer) or a positive "
                         "integer") from None


def fit_mlp(request: FitRequest) -> Fitted:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    options = request.options
    classifier = options["model_type"] == "mlp_classifier"
    settings = dict(hidden_layer_sizes=tuple(options["hidden_units"]),
                    activation=options["activation"], solver=options["solver"],
                    alpha=options["l2_reg"], batch_size=options["batch_size"],
                    learning_rate_init=options["learning_rate"],
                    max_iter=options["max_iter"], random_state=options["seed"])
    fitted: Fitted = {"algorithm": ALGORITHM, "activation": options["activation"]}
    if classifier:
        classes, target = class_codes(request.y)
        fitted["classes"] = classes
        model = MLPClassifier(**settings)
    else:
        y = request.y.astype(np.float64)
        mean, std = float(y.mean()), float(y.std())
        std = std if std > 0 else 1.0
        target = (y - mean) / std
        fitted.update(target_mean=mean, target_std=std)
        model = MLPRegressor(**settings)
    layers = "x".join(str(s) for s in options["hidden_units"])
    request.progress(Step(f"mlp: training a {layers} network, at most {options['max_iter']} "
                          "epochs", "epochs", 0, options["max_iter"], "epochs"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        model.fit(request.x, target)
    if any(issubclass(w.category, ConvergenceWarning) for w in caught):
        request.progress(f"mlp: stopped at max_iter={options['max_iter']} before the loss "
                         "settled (raise 'max_iter' to train longer)")
    _record_history(request, model, None if classifier else fitted["target_std"])
    request.progress(Step(f"mlp: trained {model.n_iter_} epochs", "epochs", model.n_iter_,
                          model.n_iter_, "epochs"))
    fitted["out_activation"] = model.out_activation_
    fitted["layers"] = []
    for i, (weights, bias) in enumerate(zip(model.coefs_, model.intercepts_, strict=True)):
        names = {"weights": f"mlp_weights_{i}.npy", "bias": f"mlp_bias_{i}.npy"}
        np.save(request.directory / names["weights"], weights, allow_pickle=False)
        np.save(request.directory / names["bias"], bias, allow_pickle=False)
        fitted["layers"].append(names)
    return fitted


def _record_history(request: FitRequest, model, target_std: float | None) -> None:
    """One row per epoch with the solver's objective (the task's loss plus the L2 penalty):
    log-loss, or the squared error in the label's units (scikit-learn's is half the mean
    squared error of the standardized target). L-BFGS keeps no curve: one row."""
    curve = getattr(model, "loss_curve_", None)
    if curve is None:
        request.history.record(int(model.n_iter_), None)
        return
    for epoch, loss in enumerate(curve, start=1):
        request.history.record(epoch, loss if target_std is None
                               else 2.0 * loss * target_std**2)


_OPTIONS = (
    Option("hidden_units", hidden_units, [100],
           "hidden layer sizes, e.g. '[32, 16]' (BigQuery's HIDDEN_UNITS)"),
    Option("activation", choice("relu", "tanh", "logistic", "identity"), "relu",
           "hidden layers' activation"),
    Option("solver", choice("adam", "sgd", "lbfgs"), "adam", "optimizer"),
    Option("max_iter", positive_int, 200, "epochs (L-BFGS: iterations)"),
    Option("learning_rate", positive_float, 0.001, "initial step size (adam, sgd)"),
    Option("l2_reg", non_negative_float, 0.0001, "L2 penalty (scikit-learn's alpha)"),
    Option("batch_size", batch_size, "auto", "rows per mini-batch (adam, sgd)"),
)
MODEL_TYPES = (
    ModelType("mlp_classifier", CLASSIFICATION, _OPTIONS, fit=fit_mlp),
    ModelType("mlp_regressor", REGRESSION, _OPTIONS, fit=fit_mlp),
)

"""linear_svc: scikit-learn's LinearSVC (squared hinge loss, one-vs-rest for several classes),
compiled to one SQL expression per decision row. Scored on the workers by
udfs/models/linear_svc.py.

LinearSVC has no probabilities. mlsql gives it calibrated ones without moving its decisions:
one scale `a` > 0, fitted on the training rows by minimizing the log-loss of
sigmoid(a * f) (binary) or softmax(a * f) (one-vs-rest decision values f), with Platt's
smoothed targets (a row of a class with n rows counts (n + 1) / (n + 2) for its class). A
single positive scale keeps the order of the decision values, so the predicted label (the
argmax of the probabilities) is LinearSVC's own, and `probability` rises with the decision
value.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mlsql.core.progress import Step
from mlsql.models.base import CLASSIFICATION, CompileRequest, FitRequest, Fitted, ModelType
from mlsql.models.classes import class_codes
from mlsql.models.option_spec import Option, choice, class_weight, positive_float, positive_int

ALGORITHM = "linear_svc"
_SCALE_BOUNDS = (-12.0, 12.0)  # log of the probability scale


def fit_linear_svc(request: FitRequest) -> Fitted:
    from sklearn.svm import LinearSVC

    options = request.options
    classes, codes = class_codes(request.y)
    model = LinearSVC(C=1.0 / options["l2_reg"], loss=options["loss"],
                      max_iter=options["max_iter"], class_weight=options["class_weight"],
                      random_state=options["seed"], dual="auto")
    request.progress(Step(f"linear_svc: fitting {len(classes)} classes", "fitting", 0, 1))
    model.fit(request.x, codes)
    request.history.record(int(np.max(model.n_iter_)), None)
    decision = model.decision_function(request.x)
    scale = probability_scale(decision, codes, len(classes))
    request.progress(Step("linear_svc: fitted", "fitting", 1, 1))
    return {"algorithm": ALGORITHM, "classes": classes, "coef": model.coef_.tolist(),
            "intercept": np.atleast_1d(model.intercept_).tolist(), "probability_scale": scale}


def probability_scale(decision: np.ndarray, codes: np.ndarray, n_classes: int) -> float:
    """The scale a > 0 minimizing the log-loss of sigmoid/softmax(a * decision) against
    Platt's smoothed targets."""
    from scipy.optimize import minimize_scalar

    counts = np.bincount(codes, minlength=n_classes).astype(np.float64)
    own = (counts[codes] + 1.0) / (counts[codes] + 2.0)
    if n_classes == 2:
        f = np.asarray(decision, dtype=np.float64).ravel()
        target = np.where(codes == 1, own, 1.0 - own)

        def loss(log_a: float) -> float:
            z = np.exp(log_a) * f
            # -[t log s(z) + (1 - t) log s(-z)] = logaddexp(0, -z) + (1 - t) z
            return float(np.mean(np.logaddexp(0.0, -z) + (1.0 - target) * z))
    else:
        f = np.asarray(decision, dtype=np.float64)
        target = np.repeat(((1.0 - own) / (n_classes - 1))[:, None], n_classes, axis=1)
        target[np.arange(len(codes)), codes] = own

        def loss(log_a: float) -> float:
            z = np.exp(log_a) * f
            top = z.max(axis=1, keepdims=True)
            log_p = z - top - np.log(np.exp(z - top).sum(axis=1, keepdims=True))
            return float(-np.mean((target * log_p).sum(axis=1)))

    found = minimize_scalar(loss, bounds=_SCALE_BOUNDS, method="bounded",
                            options={"xatol": 1e-6})
    return float(np.exp(found.x))


def scaled_payload(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload with the probability scale folded into the coefficients: a linear model
    whose scores are the logits."""
    scale = float(payload["probability_scale"])
    return {**payload,
            "coef": (np.asarray(payload["coef"], dtype=np.float64) * scale).tolist(),
            "intercept": (np.asarray(payload["intercept"], dtype=np.float64) * scale).tolist()}


def compile_linear_svc(request: CompileRequest) -> Any:
    from mlsql.compiler.linear import compile_linear

    return compile_linear(scaled_payload(request.payload), request.inputs, request.label_type)


MODEL_TYPES = (
    ModelType("linear_svc", CLASSIFICATION, (
        Option("l2_reg", positive_float, 1.0, "L2 penalty (scikit-learn's 1/C), above 0"),
        Option("max_iter", positive_int, 1000, "solver iterations"),
        Option("loss", choice("squared_hinge", "hinge"), "squared_hinge",
               "'squared_hinge' (LinearSVC's default) or 'hinge'"),
        Option("class_weight", class_weight, None, "'balanced' reweights rare classes"),
    ), fit=fit_linear_svc, compile=compile_linear_svc),
)

"""logistic_reg and linear_reg: scikit-learn's solvers in this process, or Newton steps and
normal equations computed by Flink (mlsql.training.distributed); compiled to one SQL
expression per score row. Scored on the workers by udfs/models/linear.py."""

from __future__ import annotations

from typing import Any

import numpy as np

from mlsql.models.base import (
    CLASSIFICATION,
    REGRESSION,
    CompileRequest,
    FitRequest,
    Fitted,
    ModelType,
)
from mlsql.models.classes import class_codes
from mlsql.models.option_spec import (
    DISTRIBUTABLE,
    Option,
    class_weight,
    non_negative_float,
    positive_int,
)


def fit_logistic(request: FitRequest) -> Fitted:
    from sklearn.linear_model import LogisticRegression

    options = request.options
    classes, codes = class_codes(request.y)
    l2 = options["l2_reg"]
    model = LogisticRegression(
        C=1.0 / l2 if l2 > 0 else np.inf, max_iter=options["max_iter"],
        class_weight=options["class_weight"], random_state=options["seed"])
    model.fit(request.x, codes)
    request.history.record(int(np.max(model.n_iter_)), None)
    return {"algorithm": "logistic", "classes": classes, "coef": model.coef_.tolist(),
            "intercept": model.intercept_.tolist()}


def fit_linear(request: FitRequest) -> Fitted:
    from sklearn.linear_model import LinearRegression, Ridge

    l2 = request.options["l2_reg"]
    model = Ridge(alpha=l2) if l2 > 0 else LinearRegression()
    model.fit(request.x, request.y.astype(np.float64))
    request.history.record(1, None)  # a closed form (or one solver call): one iteration
    return {"algorithm": "linear", "coef": [np.atleast_1d(model.coef_).tolist()],
            "intercept": [float(model.intercept_)]}


def compile_linear(request: CompileRequest) -> Any:
    """Linear and logistic regression (batch or online) as SQL."""
    from mlsql.compiler.linear import compile_linear as compile_payload

    return compile_payload(request.payload, request.inputs, request.label_type)


MODEL_TYPES = (
    ModelType("logistic_reg", CLASSIFICATION, (
        Option("max_iter", positive_int, 200, "solver iterations"),
        Option("l2_reg", non_negative_float, 1.0, "L2 penalty (scikit-learn's 1/C)"),
        Option("class_weight", class_weight, None, "'balanced' reweights rare classes"),
        *DISTRIBUTABLE,
    ), fit=fit_logistic, compile=compile_linear),
    ModelType("linear_reg", REGRESSION, (
        Option("l2_reg", non_negative_float, 0.0, "L2 penalty (ridge alpha)"),
        *DISTRIBUTABLE,
    ), fit=fit_linear, compile=compile_linear),
)

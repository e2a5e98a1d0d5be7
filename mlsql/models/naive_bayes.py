"""naive_bayes: scikit-learn's GaussianNB (one normal distribution per class and feature,
variances widened by var_smoothing times the largest feature variance), compiled to one SQL
log-likelihood per class. Scored on the workers by udfs/models/naive_bayes.py.

Numbers are imputed but not standardized, so that the model is GaussianNB fitted on the
columns themselves: var_smoothing is a share of the largest variance of the data as it is
(standardized, every variance is 1, and on scikit-learn's digits the accuracy fell from
GaussianNB's 0.856 to 0.794). A string's one-hot indicators are Gaussian features too, as
GaussianNB would see them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mlsql.errors import TrainingError
from mlsql.models.base import CLASSIFICATION, CompileRequest, FitRequest, Fitted, ModelType
from mlsql.models.classes import class_codes
from mlsql.models.option_spec import Option, non_negative_float

ALGORITHM = "gaussian_nb"


def fit_naive_bayes(request: FitRequest) -> Fitted:
    from sklearn.naive_bayes import GaussianNB

    classes, codes = class_codes(request.y)
    model = GaussianNB(var_smoothing=request.options["var_smoothing"])
    model.fit(request.x, codes)
    request.history.record(1, None)  # one pass over the rows: per-class means and variances
    if not np.all(model.var_ > 0):
        raise TrainingError("naive_bayes: a feature is constant within a class and "
                            "var_smoothing is 0; set 'var_smoothing' above 0 (default 1e-9)")
    return {"algorithm": ALGORITHM, "classes": classes,
            "class_prior": model.class_prior_.tolist(), "theta": model.theta_.tolist(),
            "var": model.var_.tolist()}


def compile_naive_bayes(request: CompileRequest) -> Any:
    from mlsql.compiler.naive_bayes import compile_gaussian_nb

    return compile_gaussian_nb(request.payload, request.inputs, request.label_type)


MODEL_TYPES = (
    ModelType("naive_bayes", CLASSIFICATION, (
        Option("var_smoothing", non_negative_float, 1e-9,
               "share of the largest feature variance added to every variance "
               "(scikit-learn's var_smoothing)"),
    ), fit=fit_naive_bayes, compile=compile_naive_bayes, standardize=False),
)

"""One estimator class per model type, made from mlsql.models' registry (so a new type gets
one with no code here): `LogisticRegression(label="is_fraud", class_weight="balanced")`.
Options are the type's CREATE MODEL options as keyword arguments, checked when the estimator
is made by the same parser as the statement's."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from mlsql import tuning
from mlsql.errors import OptionError
from mlsql.models import model_types
from mlsql.models.base import UNSUPERVISED
from mlsql.table_api.training import option_texts

# Flink ML's (or scikit-learn's) class name where the type name does not camel-case to it.
_CLASS_NAMES = {
    "logistic_reg": "LogisticRegression", "linear_reg": "LinearRegression",
    "online_logistic_reg": "OnlineLogisticRegression",
    "online_linear_reg": "OnlineLinearRegression", "kmeans": "KMeans",
    "online_kmeans": "OnlineKMeans", "linear_svc": "LinearSVC", "mlp_classifier":
    "MLPClassifier", "mlp_regressor": "MLPRegressor", "xgboost_classifier":
    "XGBoostClassifier", "xgboost_regressor": "XGBoostRegressor",
}


class Estimator:
    """The pipeline's last stage: a model type with its options. `features`: the columns
    the model reads (default: every column of the transformed table but the label)."""

    model_type: ClassVar[str] = ""

    def __init__(self, label: str | None = None, features: Sequence[str] | None = None,
                 **options: Any) -> None:
        name = type(self).__name__
        kind = model_types()[self.model_type]
        if kind.task in UNSUPERVISED and label is not None:
            raise OptionError(f"{name}: a {kind.task} model takes no label")
        if kind.task not in UNSUPERVISED and not label:
            raise OptionError(f"{name}: label=... names the column it learns to predict")
        if features is not None and (isinstance(features, str) or not features):
            raise OptionError(f"{name}: features is a non-empty list of column names")
        self.label = label
        self.features = None if features is None else list(features)
        self.options = dict(options)
        raw = option_texts(self.model_type, label, options)
        try:
            tuning.resolve_options(raw)
        except OptionError as error:
            raise OptionError(f"{name}: {error}") from None

    @property
    def online(self) -> bool:
        return model_types()[self.model_type].online

    def __repr__(self) -> str:
        settings = [f"label={self.label!r}"] if self.label else []
        if self.features is not None:
            settings.append(f"features={self.features!r}")
        settings += [f"{k}={v!r}" for k, v in self.options.items()]
        return f"{type(self).__name__}({', '.join(settings)})"


def class_name(model_type: str) -> str:
    return _CLASS_NAMES.get(model_type) or "".join(
        part.capitalize() for part in model_type.split("_"))


def _estimator_classes() -> dict[str, type[Estimator]]:
    classes = {}
    for type_name, kind in model_types().items():
        name = class_name(type_name)
        doc = f"The {type_name} model type ({kind.task}); options: " + (
            ", ".join(o.name for o in kind.options) or "none") + "."
        classes[name] = type(name, (Estimator,), {"model_type": type_name, "__doc__": doc,
                                                  "__module__": "mlsql.pipeline"})
    return classes


ESTIMATORS = _estimator_classes()

"""random_forest_classifier and random_forest_regressor against scikit-learn's forests with
the same hyperparameters and seed on the same (unstandardized) rows: forests of 50 full-depth
trees (the UDF only), and small ones under the node limit (compiled SQL too)."""

from __future__ import annotations

import numpy as np

from tests.model_cases.base import Case

_OPTIONS = {"num_trees": "50", "min_samples_leaf": "2", "seed": "7"}
_PARAMS = {"n_estimators": 50, "min_samples_leaf": 2, "random_state": 7}


_SMALL_OPTIONS = {"num_trees": "10", "max_depth": "3", "seed": "7"}
_SMALL_PARAMS = {"n_estimators": 10, "max_depth": 3, "random_state": 7}


def _classifier(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray) -> np.ndarray:
    from sklearn.ensemble import RandomForestClassifier

    return RandomForestClassifier(max_features="sqrt", **_PARAMS).fit(
        x_train, y_train).predict(x_test)


def _regressor(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray) -> np.ndarray:
    from sklearn.ensemble import RandomForestRegressor

    return RandomForestRegressor(max_features=1.0, **_PARAMS).fit(
        x_train, y_train).predict(x_test)


def _small_classifier(x_train: np.ndarray, y_train: np.ndarray,
                      x_test: np.ndarray) -> np.ndarray:
    from sklearn.ensemble import RandomForestClassifier

    return RandomForestClassifier(max_features="sqrt", **_SMALL_PARAMS).fit(
        x_train, y_train).predict(x_test)


def _small_regressor(x_train: np.ndarray, y_train: np.ndarray,
                     x_test: np.ndarray) -> np.ndarray:
    from sklearn.ensemble import RandomForestRegressor

    return RandomForestRegressor(max_features=1.0, **_SMALL_PARAMS).fit(
        x_train, y_train).predict(x_test)


CASES = (
    Case("random_forest_classifier", "wine", _classifier, "accuracy", options=_OPTIONS),
    Case("random_forest_regressor", "diabetes", _regressor, "r2_score", options=_OPTIONS),
    # 10 trees of depth 3: at most 150 nodes, x 2 classes (300) or one value: compiled.
    Case("random_forest_classifier", "breast_cancer", _small_classifier, "accuracy",
         options=_SMALL_OPTIONS, compiled=True,
         id="random_forest_classifier-breast_cancer-compiled"),
    Case("random_forest_regressor", "diabetes", _small_regressor, "r2_score",
         options=_SMALL_OPTIONS, compiled=True,
         id="random_forest_regressor-diabetes-compiled"),
)

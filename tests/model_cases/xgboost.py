"""xgboost_classifier and xgboost_regressor against XGBoost's scikit-learn estimators with the
same hyperparameters and seed on the same (unstandardized) rows."""

from __future__ import annotations

import numpy as np

from tests.model_cases.base import Case

_OPTIONS = {"num_trees": "40", "max_depth": "4", "learning_rate": "0.2",
            "subsample": "0.8", "colsample_bytree": "0.8"}
_PARAMS = {"n_estimators": 40, "max_depth": 4, "learning_rate": 0.2, "subsample": 0.8,
           "colsample_bytree": 0.8, "min_child_weight": 1.0, "reg_lambda": 1.0,
           "reg_alpha": 0.0, "tree_method": "hist", "random_state": 42}


def _classifier(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray) -> np.ndarray:
    import xgboost

    return xgboost.XGBClassifier(**_PARAMS).fit(x_train, y_train).predict(x_test)


def _regressor(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray) -> np.ndarray:
    import xgboost

    return xgboost.XGBRegressor(**_PARAMS).fit(x_train, y_train).predict(x_test)


CASES = (
    Case("xgboost_classifier", "breast_cancer", _classifier, "accuracy", options=_OPTIONS,
         jvm=True),
    Case("xgboost_classifier", "iris", _classifier, "accuracy", options=_OPTIONS,
         id="xgboost_classifier-iris", jvm=True),
    Case("xgboost_regressor", "diabetes", _regressor, "r2_score", options=_OPTIONS, jvm=True),
)

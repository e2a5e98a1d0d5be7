"""boosted_tree_classifier and boosted_tree_regressor against LightGBM with the same
parameters on the same (unstandardized) rows."""

from __future__ import annotations

import numpy as np

from tests.model_cases.base import Case

_OPTIONS = {"num_trees": "20", "num_leaves": "8", "learning_rate": "0.1",
            "min_data_in_leaf": "10"}
_PARAMS = {"n_estimators": 20, "num_leaves": 8, "learning_rate": 0.1, "min_child_samples": 10,
           "random_state": 42, "deterministic": True, "verbosity": -1}


def _classifier(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray) -> np.ndarray:
    import lightgbm

    return lightgbm.LGBMClassifier(**_PARAMS).fit(x_train, y_train).predict(x_test)


def _regressor(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray) -> np.ndarray:
    import lightgbm

    return lightgbm.LGBMRegressor(**_PARAMS).fit(x_train, y_train).predict(x_test)


# 20 trees of 8 leaves x 3 classes: 900 nodes, under the compiled-SQL limit.
CASES = (
    Case("boosted_tree_classifier", "wine", _classifier, "accuracy", options=_OPTIONS,
         compiled=True, jvm=True),
    Case("boosted_tree_regressor", "diabetes", _regressor, "r2_score", options=_OPTIONS,
         tolerance=0.01, compiled=True, jvm=True),
)

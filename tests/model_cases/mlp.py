"""mlp_classifier and mlp_regressor against scikit-learn's MLPClassifier and MLPRegressor on
the same standardized rows (UDF only). The regressor's reference learns the standardized
label too, as mlsql's does (TransformedTargetRegressor with a StandardScaler)."""

from __future__ import annotations

import warnings

import numpy as np

from tests.model_cases.base import Case, Reference


def _mlp(regressor: bool, **settings) -> Reference:
    def reference(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray) -> np.ndarray:
        from sklearn.compose import TransformedTargetRegressor
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.neural_network import MLPClassifier, MLPRegressor
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        if regressor:
            network = TransformedTargetRegressor(MLPRegressor(random_state=42, **settings),
                                                 transformer=StandardScaler())
        else:
            network = MLPClassifier(random_state=42, **settings)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return make_pipeline(StandardScaler(), network).fit(x_train, y_train).predict(x_test)

    return reference


CASES = (
    Case("mlp_classifier", "breast_cancer", _mlp(False, hidden_layer_sizes=(32, 16)),
         "accuracy", options={"hidden_units": "[32, 16]"}),
    # L-BFGS: full-batch steps, so the rows' order in Flink's extraction cannot matter
    Case("mlp_classifier", "iris", _mlp(False, hidden_layer_sizes=(16,), solver="lbfgs",
                                        max_iter=500),
         "accuracy", options={"hidden_units": "[16]", "solver": "lbfgs", "max_iter": "500"}),
    Case("mlp_regressor", "diabetes", _mlp(True, hidden_layer_sizes=(16,), alpha=1.0,
                                           learning_rate_init=0.01, max_iter=300),
         "r2_score", options={"hidden_units": "[16]", "l2_reg": "1.0",
                              "learning_rate": "0.01", "max_iter": "300"}),
)

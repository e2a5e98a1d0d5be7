"""A multilayer perceptron on the workers: a numpy forward pass over the layers' weights the
version keeps as .npy files (mlsql/models/mlp.py), as scikit-learn's MLP computes it."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np


def _logistic(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


_HIDDEN: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "identity": lambda z: z, "relu": lambda z: np.maximum(z, 0.0), "tanh": np.tanh,
    "logistic": _logistic,
}


class MlpScorer:
    """Hidden layers with the trained activation; the output layer's: logistic (two classes),
    softmax (more) or identity (regression, mapped back to the label's scale)."""

    def __init__(self, payload: dict[str, Any], directory: str) -> None:
        def load(name: str) -> np.ndarray:
            return np.load(os.path.join(directory, name), allow_pickle=False)

        self.layers = [(load(layer["weights"]), load(layer["bias"]))
                       for layer in payload["layers"]]
        self.hidden = _HIDDEN[payload["activation"]]
        self.out_activation = payload["out_activation"]
        self.target_mean = payload.get("target_mean", 0.0)
        self.target_std = payload.get("target_std", 1.0)

    def output(self, x: np.ndarray) -> np.ndarray:
        """The output layer's values: scikit-learn's predict_proba's last column (binary),
        its probabilities (multi-class) or the standardized prediction."""
        a = x
        for weights, bias in self.layers[:-1]:
            a = self.hidden(a @ weights + bias)
        weights, bias = self.layers[-1]
        z = a @ weights + bias
        if self.out_activation == "logistic":
            return _logistic(z)
        if self.out_activation == "softmax":
            z = z - z.max(axis=1, keepdims=True)
            e = np.exp(z)
            return e / e.sum(axis=1, keepdims=True)
        return z

    def scores(self, x: np.ndarray) -> np.ndarray:
        out = self.output(x)
        if self.out_activation == "logistic":
            return np.column_stack([1.0 - out[:, 0], out[:, 0]])
        if self.out_activation == "softmax":
            return out
        return out[:, 0] * self.target_std + self.target_mean


SCORERS = {"mlp": MlpScorer}

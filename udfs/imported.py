"""Models trained elsewhere, run with their own runtimes: ONNX, LightGBM, XGBoost, or a
Python class with a vectorized `predict(pandas.DataFrame) -> pandas.DataFrame`.

Numeric inputs arrive as float64 columns in the declared INPUT order; a model with a single
matrix input receives them as one (rows x inputs) matrix. The i-th declared OUTPUT column is
the model's i-th output; a (rows x k) output contributes its last column (for a binary
classifier's probabilities: the positive class).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd


class ImportedModel:
    def __init__(self, payload: dict[str, Any], directory: str) -> None:
        self.provider: str = payload["algorithm"]
        self.inputs: list[str] = [i["name"] for i in payload["inputs"]]
        self.output_names: list[str] = [o["name"] for o in payload["outputs"]]
        path = os.path.join(directory, payload["file"]) if payload.get("file") else None
        if self.provider == "onnx":
            import onnxruntime

            self._session = onnxruntime.InferenceSession(
                path, providers=["CPUExecutionProvider"])
        elif self.provider == "lightgbm":
            import lightgbm

            self._booster = lightgbm.Booster(model_file=path)
        elif self.provider == "xgboost":
            import xgboost

            self._booster = xgboost.Booster()
            self._booster.load_model(path)
        elif self.provider == "python":
            module_name, _, class_name = payload["class"].partition(":")
            self._instance = getattr(importlib.import_module(module_name), class_name)()
        else:
            raise ValueError(f"unknown provider {self.provider!r}")

    def raw_outputs(self, columns: Sequence[pd.Series | np.ndarray]) -> list[np.ndarray]:
        if self.provider == "python":
            frame = pd.DataFrame(dict(zip(self.inputs, columns, strict=True)))
            result = self._instance.predict(frame)
            return [np.asarray(result[name]) for name in self.output_names]
        matrix = np.column_stack([np.asarray(c, dtype=np.float64) for c in columns])
        if self.provider == "onnx":
            feeds = self._onnx_feeds(matrix)
            results = self._session.run(None, feeds)
        elif self.provider == "lightgbm":
            results = [self._booster.predict(matrix)]
        else:
            import xgboost

            results = [self._booster.predict(xgboost.DMatrix(matrix))]
        return [_one_column(results[i]) for i in range(len(self.output_names))]

    def _onnx_feeds(self, matrix: np.ndarray) -> dict[str, np.ndarray]:
        declared = self._session.get_inputs()
        def typed(values: np.ndarray, spec) -> np.ndarray:
            return values.astype(np.float64 if "double" in spec.type else np.float32)

        if len(declared) == 1:
            return {declared[0].name: typed(matrix, declared[0])}
        return {spec.name: typed(matrix[:, [i]], spec) for i, spec in enumerate(declared)}


def _one_column(values: Any) -> np.ndarray:
    if isinstance(values, list) and values and isinstance(values[0], dict):  # ONNX ZipMap
        last = list(values[0])[-1]
        return np.asarray([row[last] for row in values], dtype=np.float64)
    array = np.asarray(values)
    if array.ndim == 2:
        return array[:, -1]
    return array.reshape(len(array))

"""Load a model version's artifact and predict on feature columns.

A version directory holds `predictor.json` (algorithm, task, feature encoding, classes,
outputs and the algorithm's own parameters) and whatever files its fit wrote (e.g. LightGBM's
text-format model). The algorithm's scorer (udfs/models/) computes the scores; this class
encodes the input columns and turns scores into the task's output columns. No pickle
anywhere: the files are portable and safe to load.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from udfs import features, model_store
from udfs.models import scorer

PREDICTOR_FILE = model_store.PREDICTOR_JSON

_PANDAS_DTYPES = {
    "BOOLEAN": "bool", "TINYINT": "int8", "SMALLINT": "int16", "INT": "int32",
    "INTEGER": "int32", "BIGINT": "int64", "FLOAT": "float32", "DOUBLE": "float64",
}


class Predictor:
    def __init__(self, payload: dict[str, Any], directory: str) -> None:
        self.payload = payload
        self.directory = directory
        self.algorithm: str = payload["algorithm"]
        self.task: str = payload["task"]
        self.spec = payload["features"]
        self.outputs: list[dict[str, str]] = payload["outputs"]
        self.classes = payload.get("classes")
        self.scorer = scorer(payload, directory)

    @property
    def booster(self) -> Any:
        """The LightGBM booster of a lightgbm model, else None."""
        return getattr(self.scorer, "booster", None)

    def encode(self, columns: Sequence[pd.Series | np.ndarray]) -> np.ndarray:
        return features.encode(self.spec, columns)

    def scores(self, x: np.ndarray) -> np.ndarray:
        """Class probabilities (n x classes), regression values (n), centroid distances
        (n x clusters) or anomaly scores (n): udfs/models/base.py."""
        return np.asarray(self.scorer.scores(x), dtype=np.float64)

    def predict(self, columns: Sequence[pd.Series | np.ndarray]) -> pd.DataFrame:
        """The model's output columns for one batch of input columns (in input order)."""
        return self.output_frame(self.scores(self.encode(columns)))

    def output_frame(self, scores: np.ndarray) -> pd.DataFrame:
        """The output columns from `scores` (as returned by `scores`)."""
        names = [o["name"] for o in self.outputs]
        if self.task == "classification":
            best = scores.argmax(axis=1)
            labels = np.asarray(self.classes, dtype=object)[best]
            probability = scores[:, 1] if scores.shape[1] == 2 else scores.max(axis=1)
            data = {names[0]: labels, names[1]: probability}
        elif self.task == "regression":
            data = {names[0]: scores}
        elif self.task == "anomaly":
            data = {names[0]: scores, names[1]: scores >= float(self.payload["threshold"])}
        else:
            data = {names[0]: scores.argmin(axis=1), names[1]: scores.min(axis=1)}
        return _typed_frame(data, self.outputs)


class ImportedPredictor:
    """The Predictor interface over a model trained elsewhere (udfs/imported.py)."""

    task = "imported"

    def __init__(self, payload: dict[str, Any], directory: str) -> None:
        from udfs.imported import ImportedModel

        self.payload = payload
        self.outputs: list[dict[str, str]] = payload["outputs"]
        self._model = ImportedModel(payload, directory)

    def predict(self, columns: Sequence[pd.Series | np.ndarray]) -> pd.DataFrame:
        raw = self._model.raw_outputs(columns)
        return _typed_frame({o["name"]: values for o, values in
                             zip(self.outputs, raw, strict=True)}, self.outputs)


def load_predictor(directory: str) -> Predictor | ImportedPredictor:
    """The version's predictor; model_store.DamagedVersion, naming the file, if its files are
    not as published or its artifacts do not load."""
    model_store.check_version(Path(directory))
    with open(os.path.join(directory, PREDICTOR_FILE), encoding="utf-8") as f:
        payload = json.load(f)
    try:
        if payload.get("task") == "imported":
            return ImportedPredictor(payload, directory)
        return Predictor(payload, directory)
    except model_store.DamagedVersion:
        raise
    except Exception as error:  # an artifact the model library cannot read
        raise model_store.DamagedVersion(f"{directory}: the model's files do not load "
                                         f"({type(error).__name__}: {error})") from None


def _typed_frame(data: dict[str, Any], outputs: list[dict[str, str]]) -> pd.DataFrame:
    """Columns in the pandas dtypes Flink expects for the declared output types."""
    frame = pd.DataFrame(data)
    for output in outputs:
        dtype = _PANDAS_DTYPES.get(output["type"].split("(")[0].replace(" NOT NULL", ""))
        frame[output["name"]] = (frame[output["name"]].astype(dtype) if dtype
                                 else frame[output["name"]].astype(str))
    return frame

"""The vectorized ML_PREDICT function: one Arrow batch in, the model's outputs out."""

from __future__ import annotations

import pandas as pd
from pyflink.table.udf import FunctionContext, ScalarFunction

from udfs.predictors import Predictor, load_predictor


class ModelPredictFunction(ScalarFunction):
    """Loads the model version once per worker, in `open`, and scores whole batches."""

    def __init__(self, model_dir: str) -> None:
        self.model_dir = model_dir
        self._predictor: Predictor | None = None

    def open(self, function_context: FunctionContext) -> None:
        self._predictor = load_predictor(self.model_dir)

    def eval(self, *columns: pd.Series) -> pd.DataFrame:
        if self._predictor is None:  # not opened: called outside Flink
            self._predictor = load_predictor(self.model_dir)
        return self._predictor.predict(columns)

    def __getstate__(self) -> dict:
        return {"model_dir": self.model_dir, "_predictor": None}

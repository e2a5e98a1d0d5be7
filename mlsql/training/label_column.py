"""How a label leaves Flink and becomes the target array, the same at training and at
ML_EVALUATE."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mlsql.syntax.dialect import quote_identifier
from mlsql.training.model_options import REGRESSION

_INTEGER_TYPES = {"TINYINT", "SMALLINT", "INT", "BIGINT"}


def label_expression(name: str, task: str, label_type: str | None) -> str:
    """How the label leaves Flink: regression targets as DOUBLE, class labels as they are
    (strings of any length as STRING)."""
    quoted = quote_identifier(name)
    if task == REGRESSION:
        return f"CAST({quoted} AS DOUBLE)"
    return f"CAST({quoted} AS STRING)" if label_type == "STRING" else quoted


def label_values(values: pd.Series, label_type: str | None, task: str) -> np.ndarray:
    if task == REGRESSION:
        return values.to_numpy(dtype=np.float64)
    if label_type in _INTEGER_TYPES:
        return values.astype("int64").to_numpy()
    if label_type == "BOOLEAN":
        return values.astype(bool).to_numpy()
    return values.astype(str).to_numpy(dtype=object)

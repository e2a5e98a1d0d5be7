"""ML_EXPLAIN_PREDICT on Flink's workers: each row's prediction and why.

A row's raw score (a classifier's log-odds or margin, a regressor's prediction) is split into
a baseline and one attribution per input column, which add up to it exactly. The scorer
computes them (udfs/models/base.py, `contributions`); any scorer that has that method is
explainable, e.g.:

- LightGBM: exact tree SHAP values from LightGBM's own `predict(..., pred_contrib=True)`; the
  baseline is its expected raw score;
- linear and logistic regression: coefficient x standardized (encoded) value, a string
  column's one-hot entries summed; the baseline is the intercept.

A binary classifier explains the positive class's score, a multi-class one the predicted
class's, a regressor its prediction. The function returns the model's outputs (as ML_PREDICT)
and the k largest attributions by magnitude, the rest summed in `other_attribution`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pyflink.table.udf import FunctionContext, ScalarFunction

from udfs import features
from udfs.models import scorers
from udfs.predictors import Predictor, load_predictor

BASELINE = "baseline"
RAW_SCORE = "raw_score"
OTHER = "other_attribution"


class _Explainable:
    """`algorithm in EXPLAINABLE`: whether the algorithm's scorer has `contributions`."""

    def __contains__(self, algorithm: object) -> bool:
        known = scorers()
        return isinstance(algorithm, str) and algorithm in known and \
            callable(getattr(known[algorithm], "contributions", None))

    def __iter__(self):
        return iter(sorted(a for a in scorers() if a in self))


EXPLAINABLE = _Explainable()

@dataclass(frozen=True)
class Attributions:
    baseline: np.ndarray  # (rows,)
    values: np.ndarray  # (rows, input columns)
    raw_score: np.ndarray  # (rows,) = baseline + values.sum(axis=1)
    scores: np.ndarray  # what Predictor.scores returns, for the outputs


def explanation_columns(top_k: int) -> list[tuple[str, str]]:
    """The columns ML_EXPLAIN_PREDICT adds after the model's outputs: (name, Flink type)."""
    ranked = [(f"{kind}_{i}", flink_type) for i in range(1, top_k + 1)
              for kind, flink_type in (("feature", "STRING"), ("attribution", "DOUBLE"))]
    return [(BASELINE, "DOUBLE"), (RAW_SCORE, "DOUBLE"), *ranked, (OTHER, "DOUBLE")]


def attributions(predictor: Predictor, x: np.ndarray) -> Attributions:
    """Per row and input column, the contribution to the raw score of encoded rows `x`."""
    contributions = getattr(predictor.scorer, "contributions", None)
    if contributions is None:
        raise ValueError(f"a {predictor.algorithm} model has no attributions")
    scores = predictor.scores(x)
    encoded, baseline = contributions(x, scores)
    encoded = np.asarray(encoded, dtype=np.float64)
    baseline = np.asarray(baseline, dtype=np.float64)
    sources = features.source_columns(predictor.spec)
    values = np.zeros((len(x), len(predictor.spec["columns"])))
    np.add.at(values.T, sources, encoded.T)  # one-hot entries add up to their column
    return Attributions(baseline, values, baseline + encoded.sum(axis=1), scores)


def top_k_frame(explained: Attributions, names: Sequence[str], top_k: int) -> pd.DataFrame:
    """baseline, raw_score, feature_i/attribution_i (largest |attribution| first) and the sum
    of the others; NULL features and attributions past the model's column count."""
    values = explained.values
    rows, width = values.shape
    order = np.argsort(-np.abs(values), axis=1, kind="stable")
    shown = min(top_k, width)
    ranked = np.take_along_axis(values, order[:, :shown], axis=1)
    data: dict[str, object] = {BASELINE: explained.baseline, RAW_SCORE: explained.raw_score}
    labels = np.asarray(names, dtype=object)
    for i in range(top_k):
        if i < shown:
            data[f"feature_{i + 1}"] = labels[order[:, i]]
            data[f"attribution_{i + 1}"] = ranked[:, i]
        else:
            data[f"feature_{i + 1}"] = np.full(rows, None, dtype=object)
            data[f"attribution_{i + 1}"] = np.full(rows, np.nan)
    data[OTHER] = values.sum(axis=1) - ranked.sum(axis=1)
    return pd.DataFrame(data)


def explain(predictor: Predictor, columns: Sequence[pd.Series | np.ndarray],
            top_k: int) -> pd.DataFrame:
    """The model's outputs and the explanation columns for one batch of input columns."""
    explained = attributions(predictor, predictor.encode(columns))
    names = [c["name"] for c in predictor.spec["columns"]]
    outputs = predictor.output_frame(explained.scores)
    return pd.concat([outputs, top_k_frame(explained, names, top_k)], axis=1)


class ModelExplainFunction(ScalarFunction):
    """A vectorized UDF bound to one model version; loads it once per worker."""

    def __init__(self, version_dir: str, top_k: int) -> None:
        self.version_dir = version_dir
        self.top_k = top_k
        self._predictor: Predictor | None = None

    def open(self, function_context: FunctionContext) -> None:
        self._predictor = load_predictor(self.version_dir)

    def eval(self, *columns: pd.Series) -> pd.DataFrame:
        if self._predictor is None:  # not opened: called outside Flink
            self.open(None)
        return explain(self._predictor, features.as_series(columns), self.top_k)

    def __getstate__(self) -> dict:
        return {"version_dir": self.version_dir, "top_k": self.top_k, "_predictor": None}

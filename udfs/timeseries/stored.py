"""ARIMA_PLUS models (BigQuery's form: one model per series, trained by CREATE MODEL): a
fitted Track to and from the JSON a version stores (`series.json`, no pickle), and the
worker function of ML_DETECT_ANOMALIES(TABLE t, MODEL m).

The stored model is fixed; each new row of a series is judged against the one-step forecast
of the model carried over the series' new rows so far (its Kalman state from the end of
training). A worker that lost its states rebuilds them from the history Flink keeps: exactly
while a series has had fewer new rows than the history holds, after that from the end of
training over the rows the history still has (a filter forgets its start quickly)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pyflink.table.udf import FunctionContext, ScalarFunction

from udfs.timeseries.arima_track import Track, normal_quantile
from udfs.timeseries.key_cache import KeyCache

SERIES_FILE = "series.json"
STATE_KEYS = ("phi", "theta", "delta", "Z", "a", "P", "T", "V", "Pn")
KEPT_RESIDUALS = 64
DETECTION_FIELDS = ["is_anomaly", "lower_bound", "upper_bound", "anomaly_probability"]


def track_to_json(track: Track) -> dict[str, Any]:
    model = track.model
    residuals = np.asarray(model.get("residuals", []), dtype=float)[-KEPT_RESIDUALS:]
    return {
        "coef": {name: float(value) for name, value in model["coef"].items()},
        "sigma2": float(model["sigma2"]), "arma": [int(v) for v in model["arma"]],
        "aic": _number(model.get("aic")), "loglik": _number(model.get("loglik")),
        "residuals": [_number(v) for v in residuals],
        "state": {key: np.asarray(model["model"][key], dtype=float).tolist()
                  for key in STATE_KEYS} | {"h": float(model["model"]["h"])},
        "pattern": None if track.pattern is None else track.pattern.tolist(),
        "steps": track.steps, "fitted_rows": track.fitted_rows,
    }


def track_from_json(document: dict[str, Any]) -> Track:
    state = {key: np.asarray(document["state"][key], dtype=float) for key in STATE_KEYS}
    state["h"] = float(document["state"]["h"])
    model = {"coef": dict(document["coef"]), "sigma2": document["sigma2"],
             "arma": tuple(document["arma"]), "aic": document["aic"],
             "loglik": document["loglik"], "model": state,
             "residuals": np.asarray([math.nan if v is None else v
                                      for v in document["residuals"]], dtype=float)}
    pattern = document.get("pattern")
    return Track(model, None if pattern is None else np.asarray(pattern, dtype=float),
                 steps=int(document.get("steps", 0)),
                 fitted_rows=int(document.get("fitted_rows", 0)))


def load_series(directory: str | Path) -> dict[str, dict[str, Any]]:
    """A version's series by key."""
    document = json.loads((Path(directory) / SERIES_FILE).read_text())
    return {entry["key"]: entry for entry in document["series"]}


def anomaly_probability(value: float, mean: float, se: float) -> float:
    """BigQuery's: the share of the forecast distribution nearer its mean than the value."""
    if se <= 0.0:
        return 0.0 if value == mean else 1.0
    return math.erf(abs(value - mean) / (se * math.sqrt(2.0)))  # 2 Phi(|z|) - 1


class StoredSeriesFunction(ScalarFunction):
    """ML_DETECT_ANOMALIES(TABLE t, MODEL m [, MAP['anomaly_prob_threshold', p]])."""

    def __init__(self, directory: str, threshold: float) -> None:
        self.directory = directory
        self.threshold = threshold
        self._series: dict[str, dict[str, Any]] | None = None
        self._states: KeyCache[tuple[int, Track]] = KeyCache()

    def open(self, function_context: FunctionContext) -> None:
        self._series = load_series(self.directory)

    def eval(self, keys: pd.Series, history: pd.DataFrame) -> pd.DataFrame:
        rows = [self._row(key, row) for key, row in zip(keys, history.itertuples(index=False),
                                                        strict=True)]
        return pd.DataFrame(rows, columns=DETECTION_FIELDS)

    def _row(self, key: str | None, row: tuple) -> tuple:
        n, _, _, values = row
        stored = self._series.get(key) if key is not None else None
        if stored is None or values is None:
            return (None,) * len(DETECTION_FIELDS)
        n = int(n)
        values = np.asarray(values, dtype=float)
        cached = self._states.get(key)
        if cached is not None and cached[0] == n - 1:
            track = cached[1]
        else:
            track = track_from_json(stored)
            for value in values[:-1]:  # the new rows before this one that the history holds
                track.update(value)
        mean, se = (float(v[0]) for v in track.mean_and_se(1))
        value = float(values[-1])
        track.update(value)
        self._states.put(key, (n, track))
        if not math.isfinite(value):
            return (None,) * len(DETECTION_FIELDS)
        half = normal_quantile(self.threshold * 100.0) * se
        probability = anomaly_probability(value, mean, se)
        return (probability > self.threshold, mean - half, mean + half, probability)


def _number(value: Any) -> float | None:
    return float(value) if value is not None and math.isfinite(float(value)) else None

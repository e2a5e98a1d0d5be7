"""Fit an arima_plus model: one ARIMA per series of a training frame (columns k, ts, v), as
the JSON document a version stores, and forecasts from that document."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from udfs.timeseries.arima_track import ArimaSpec, Track, normal_quantile
from udfs.timeseries.stored import track_from_json, track_to_json


@dataclass(frozen=True)
class SeriesOptions:
    order: tuple[int, int, int] | None  # None: auto-ARIMA per series
    period: int
    min_length: int
    max_length: int


def fit_series(frame: pd.DataFrame, options: SeriesOptions,
               progress: Callable[[str], None]) -> dict[str, Any]:
    """{"series": [...], "skipped": {...}}: each series' model, its last time and spacing."""
    spec = ArimaSpec(order=options.order, seasonal_order=(0, 0, 0), period=options.period,
                     stl=False)
    fitted, skipped = [], {"too_short": 0, "not_fitted": 0}
    groups = list(frame.sort_values(["k", "ts"], kind="stable").groupby("k", sort=True))
    step = max(1, len(groups) // 10)
    for i, (key, rows) in enumerate(groups):
        values = rows["v"].to_numpy(dtype=float)[-options.max_length:]
        times = rows["ts"].to_numpy(dtype="datetime64[ms]").astype(np.int64)
        times = times[-options.max_length:]
        if np.isfinite(values).sum() < options.min_length:
            skipped["too_short"] += 1
            continue
        track = spec.fit(values)
        if track is None:
            skipped["not_fitted"] += 1
            continue
        fitted.append({"key": str(key), "rows": int(values.size),
                       "last_time_ms": int(times[-1]),
                       "spacing_ms": float(np.median(np.diff(times))) if times.size > 1
                       else 0.0, **track_to_json(track)})
        if (i + 1) % step == 0 or i + 1 == len(groups):
            progress(f"fitted {i + 1:,} of {len(groups):,} series")
    return {"series": fitted, "skipped": skipped}


def forecast_rows(series: list[dict[str, Any]], horizon: int,
                  confidence: float) -> list[tuple[Any, ...]]:
    """(key, forecast time 'YYYY-MM-DD HH:MM:SS.fff', value, standard error, confidence,
    lower, upper) for each series and step; bounds of the central `confidence` interval."""
    rows = []
    for entry in series:
        track: Track = track_from_json(entry)
        mean, se = track.mean_and_se(horizon)
        half = normal_quantile(confidence * 100.0) * se
        lower, upper = mean - half, mean + half
        for step in range(horizon):
            stamp = pd.Timestamp(round(entry["last_time_ms"]
                                           + entry["spacing_ms"] * (step + 1)), unit="ms")
            rows.append((entry["key"], stamp.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3],
                         float(mean[step]), float(se[step]), confidence, float(lower[step]),
                         float(upper[step])))
    return rows


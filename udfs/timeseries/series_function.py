"""ML_FORECAST and ML_DETECT_ANOMALIES on Flink's Python workers.

Each call gets, per row, the key, the key's row count `n` and its last rows (the JVM
aggregate SERIES_HISTORY, in the order of the OVER clause). The model that serves row `n`
is fixed by `n` and the key alone: it is fitted at the last refit point r <= n
(minTrainingSize, then every updateInterval rows from a row set by a hash of the key) on
rows (r - maxTrainingSize, r], and carried forward by the Kalman filter over rows (r, n]. A
worker keeps each key's model between rows, so a row costs one filter step; a worker without
it (a restart, a rebalanced key) rebuilds it from the history, which always reaches back to
r - maxTrainingSize, and gets the same numbers.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pyflink.table.udf import ScalarFunction

from udfs.timeseries.arima_track import ArimaSpec, Track
from udfs.timeseries.key_cache import KeyCache

FORECAST, ANOMALIES = "forecast", "anomalies"


@dataclass(frozen=True)
class SeriesPlan:
    kind: str  # FORECAST or ANOMALIES
    spec: ArimaSpec
    min_training: int
    max_training: int
    update_interval: int
    horizon: int
    level: float  # the interval's confidence, in percent
    eval_window: int

    @property
    def capacity(self) -> int:
        """Rows of history a call needs: back to the fit window of the model serving the
        previous row."""
        return self.max_training + self.update_interval

    def refit_point(self, n: int, offset: int = 0) -> int | None:
        """The row count whose fit serves row `n`: minTrainingSize, then minTrainingSize +
        offset + every updateInterval rows."""
        if n < self.min_training:
            return None
        regular = self.min_training + offset
        if n < regular:
            return self.min_training
        return n - (n - regular) % self.update_interval

    def offset_of(self, key: str) -> int:
        """The key's place in the refit cycle: keys that start together (a backfill, a
        benchmark's round robin) refit on different rows instead of all on the same one,
        which would stall the worker for one fit per key at once. A stable hash, so that
        every worker gives a key the same schedule."""
        return zlib.crc32(key.encode()) % self.update_interval


@dataclass
class _KeyState:
    rows: int  # rows of the key the track has seen
    track: Track | None
    result: object = None  # the last row's result (peers of a RANGE frame share it)


class SeriesFunction(ScalarFunction):
    def __init__(self, plan: SeriesPlan) -> None:
        self.plan = plan
        self._keys: KeyCache[_KeyState] = KeyCache()

    def eval(self, keys: pd.Series, history: pd.DataFrame) -> pd.DataFrame:
        results = [self._row(key, row) for key, row in zip(keys, history.itertuples(index=False),
                                                           strict=True)]
        if self.plan.kind == ANOMALIES:
            return pd.DataFrame(results, columns=ANOMALY_FIELDS)
        return pd.DataFrame(results, columns=FORECAST_FIELDS)

    def _row(self, key: str, row: tuple) -> tuple:
        n, _, times, values = row
        if values is None or n is None:
            return self._empty()
        n = int(n)
        values = np.asarray(values, dtype=float)
        times = np.asarray(times, dtype=np.int64)
        state = self._keys.get(key)
        if state is not None and state.rows == n:
            return state.result
        plan = self.plan
        offset = plan.offset_of(key)
        if state is None or state.rows != n - 1:
            state = self._rebuild(n - 1, n, values, offset)
        # ML_DETECT_ANOMALIES judges the row by the model that served the previous one.
        judged = _judgement(state.track, plan) if plan.kind == ANOMALIES else None
        value = values[-1]
        if plan.refit_point(n, offset) == n:
            state.track = plan.spec.fit(self._window(n, n, values))
        elif state.track is not None:
            state.track.update(value)
        state.rows = n
        if plan.kind == ANOMALIES:
            state.result = _anomaly(times[-1], value, *judged)
        else:
            state.result = self._forecast(state.track, times)
        self._keys.put(key, state)
        return state.result

    def _rebuild(self, n: int, newest: int, values: np.ndarray, offset: int) -> _KeyState:
        """The state after row `n`, from the history that ends at row `newest`."""
        refit = self.plan.refit_point(n, offset)
        if refit is None:
            return _KeyState(n, None)
        track = self.plan.spec.fit(self._window(refit, newest, values))
        if track is not None:
            first = newest - values.size + 1
            for row in range(refit + 1, n + 1):
                track.update(values[row - first])
        return _KeyState(n, track)

    def _window(self, end: int, newest: int, values: np.ndarray) -> np.ndarray:
        """Rows (end - maxTrainingSize, end] of a history that ends at row `newest`."""
        last = values.size - (newest - end)
        return values[max(0, last - self.plan.max_training):last]

    def _forecast(self, track: Track | None, times: np.ndarray) -> tuple:
        if track is None:
            return self._empty()
        plan = self.plan
        mean, lower, upper = track.forecast(plan.horizon, plan.level)
        spacing = (times[-1] - times[0]) / (times.size - 1) if times.size > 1 else 0.0
        steps = [pd.Timestamp(round(times[-1] + spacing * (i + 1)), unit="ms")
                 for i in range(plan.horizon)]
        return (steps, _floats(mean), _floats(lower), _floats(upper),
                _rmse(track, plan.eval_window), track.aic)

    def _empty(self) -> tuple:
        return (None,) * len(ANOMALY_FIELDS if self.plan.kind == ANOMALIES
                             else FORECAST_FIELDS)


ANOMALY_FIELDS = ["timestamp", "actual_value", "forecast_value", "lower_bound", "upper_bound",
                  "is_anomaly", "rmse", "aic"]
FORECAST_FIELDS = ["times", "values", "lower", "upper", "rmse", "aic"]


def _judgement(track: Track | None, plan: SeriesPlan) -> tuple:
    """The one-step forecast of the next row (mean, lower, upper), rmse and aic, or Nones."""
    if track is None:
        return None, None, None
    return track.forecast(1, plan.level), _rmse(track, plan.eval_window), track.aic


def _anomaly(time_ms: int, value: float, one_step, rmse, aic) -> tuple:
    stamp = pd.Timestamp(int(time_ms), unit="ms")
    actual = float(value) if math.isfinite(value) else None
    if one_step is None:
        return (stamp, actual, None, None, None, None, None, None)
    mean, lower, upper = (float(part[0]) for part in one_step)
    flagged = None if actual is None else bool(actual < lower or actual > upper)
    return (stamp, actual, mean, lower, upper, flagged, rmse, aic)


def _rmse(track: Track, window: int) -> float | None:
    errors = track.latest_errors(window)
    errors = errors[np.isfinite(errors)]
    return float(np.sqrt(np.mean(errors * errors))) if errors.size else None


def _floats(values: np.ndarray) -> list[float | None]:
    return [float(v) if math.isfinite(v) else None for v in values]

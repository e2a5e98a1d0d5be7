"""The workers' side of ML_FORECAST / ML_DETECT_ANOMALIES: a row's result depends on the
key's history alone, whether the worker carried the model from the previous row or rebuilt
it (after a restore, on another worker), and the robust detector's z-score."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest

from udfs.timeseries.arima_track import ArimaSpec
from udfs.timeseries.robust import robust_z
from udfs.timeseries.series_function import ANOMALIES, FORECAST, SeriesFunction, SeriesPlan


def _histories(values: np.ndarray, capacity: int):
    """What SERIES_HISTORY hands the function at each row: n and the last rows."""
    for n in range(1, values.size + 1):
        first = max(0, n - capacity)
        times = np.arange(first, n, dtype=np.int64) * 60_000
        yield pd.DataFrame({"rows": [n], "width": [1], "times": [times],
                            "history": [values[first:n]]})


@pytest.mark.parametrize(("kind", "order"), [(FORECAST, (1, 0, 1)), (ANOMALIES, (0, 1, 1)),
                                             (ANOMALIES, None)])
def test_a_carried_model_and_a_rebuilt_one_give_the_same_numbers(kind, order):
    rng = np.random.default_rng(7)
    values = np.empty(100)
    level = 0.0
    for i in range(100):  # stationary for d = 0, a random walk's increments for d = 1
        level = (0.6 * level + rng.normal()) if order != (0, 1, 1) else level + rng.normal()
        values[i] = 20 + level
    values[60] = math.nan  # a missing value on the way
    plan = SeriesPlan(kind=kind, spec=ArimaSpec(order, (0, 0, 0), 1, False), min_training=20,
                      max_training=30, update_interval=7, horizon=3, level=95.0,
                      eval_window=5)
    carried = SeriesFunction(plan)
    produced = 0
    for history in _histories(values, plan.capacity):
        keys = pd.Series(["k"])
        expected = carried.eval(keys, history).iloc[0].tolist()
        if order is not None or int(history["rows"].iloc[0]) % 4 == 0:  # auto-ARIMA is slow
            rebuilt = SeriesFunction(plan).eval(keys, history).iloc[0].tolist()
            assert repr(rebuilt) == repr(expected)
        produced += expected[2] is not None
    assert produced >= 100 - 21


def test_auto_arima_fits_a_drift_and_the_carried_model_keeps_it():
    rng = np.random.default_rng(3)
    values = np.cumsum(rng.normal(0.8, 1.0, 250))  # a random walk with a slope of 0.8 a row
    track = ArimaSpec(None, (0, 0, 0), 1, False).fit(values[:240])
    p, q, _, _, _, d, _ = track.model["arma"]
    assert (d, q) == (1, 0) and track.drift == pytest.approx(0.8, abs=0.15)
    for value in values[240:]:
        track.update(value)
    # ARIMA(p,1,0) with drift c: the next step is y_n + c + sum(phi_i (dy_{n+1-i} - c)).
    phi = [track.model["coef"][f"ar{i}"] for i in range(1, p + 1)]
    steps = np.diff(values)[::-1]
    expected = values[-1] + track.drift + sum(f * (steps[i] - track.drift)
                                              for i, f in enumerate(phi))
    assert track.forecast(1, 95.0)[0][0] == pytest.approx(expected, rel=1e-9)


def test_keys_are_kept_apart_and_results_start_at_min_training():
    plan = SeriesPlan(kind=FORECAST, spec=ArimaSpec((1, 0, 0), (0, 0, 0), 1, False),
                      min_training=10, max_training=20, update_interval=5, horizon=1,
                      level=90.0, eval_window=3)
    function = SeriesFunction(plan)
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=30), 100 + rng.normal(size=30)
    first = {}
    for key, values in (("a", a), ("b", b)):
        for history in _histories(values, plan.capacity):
            row = function.eval(pd.Series([key]), history).iloc[0]
            n = int(history["rows"].iloc[0])
            if row["values"] is not None:
                first.setdefault(key, n)
                assert abs(row["values"][0] - values[:n].mean()) < 5 * values.std()
    assert first == {"a": 10, "b": 10}


def test_robust_z_is_the_scaled_distance_from_the_median():
    baseline = np.array([10.0, 11.0, 9.0, 10.0, 12.0, 8.0, 10.0])
    mad = np.median(np.abs(baseline - 10.0))  # 1.0
    assert robust_z(baseline, 13.0) == pytest.approx(3.0 / (1.4826 * mad))
    flat = np.array([5.0, 5.0, 5.0, 5.0, 6.0])  # MAD 0: the mean absolute deviation instead
    assert robust_z(flat, 7.0) == pytest.approx(2.0 / (1.2533 * 0.2))
    assert robust_z(np.full(4, 3.0), 3.0) == 0.0 and robust_z(np.full(4, 3.0), 4.0) == math.inf
    assert robust_z(baseline, math.nan) is None


def test_stl_takes_the_season_out_before_the_fit_and_puts_it_back_in_the_forecast():
    rng = np.random.default_rng(3)
    period, rows = 12, 240
    season = 10 * np.sin(2 * np.pi * np.arange(rows + period) / period)
    values = 50 + season + rng.normal(size=rows + period)
    train, future = values[:rows], values[rows:]
    errors = {}
    for stl in (False, True):
        track = ArimaSpec((1, 0, 0), (0, 0, 0), period, stl).fit(train)
        mean, lower, upper = track.forecast(period, 95.0)
        errors[stl] = float(np.sqrt(np.mean((mean - future) ** 2)))
        if stl:
            assert ((future >= lower) & (future <= upper)).mean() >= 0.75
    assert errors[True] < 0.3 * errors[False], errors  # the season explains most of it


def test_keys_refit_on_rows_of_their_own_after_the_first_fit():
    plan = SeriesPlan(kind=FORECAST, spec=ArimaSpec((1, 0, 0), (0, 0, 0), 1, False),
                      min_training=32, max_training=64, update_interval=16, horizon=1,
                      level=99.0, eval_window=4)
    schedules = {}
    for key in (f"card{i}" for i in range(40)):
        offset = plan.offset_of(key)
        points = [n for n in range(1, 200) if plan.refit_point(n, offset) == n]
        assert points[0] == 32 and all(b - a <= 16 for a, b in itertools.pairwise(points))
        assert all(plan.refit_point(n, offset) >= n - 15 for n in range(32, 200))
        schedules[key] = points[1] % 16
    assert len(set(schedules.values())) > 8  # spread over the cycle, not all on one row

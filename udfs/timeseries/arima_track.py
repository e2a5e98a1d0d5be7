"""One key's ARIMA model: fitted by statsforecast on a window of rows, then carried forward
one row at a time by statsforecast's own Kalman filter (`arima_like`), which updates the
model's state in place exactly as a refit-free pass over the longer series would.

With STL on, the model is fitted to the series less its seasonal component (statsforecast's
`mstl`), and the last period of that component is added back to every forecast.
"""

from __future__ import annotations

import copy
import functools
import math
import warnings
from dataclasses import dataclass, field

import numpy as np
from scipy.stats import norm


@functools.cache
def statsforecast_arima():
    """statsforecast's ARIMA module, imported on first use: importing it takes about half a
    second (statsforecast loads fugue and its core), which every mlsql process that plans a
    statement, and never fits a model, would otherwise pay at start."""
    from statsforecast import arima

    return arima


@dataclass(frozen=True)
class ArimaSpec:
    """The orders (None: chosen by auto-ARIMA at each fit), the seasonal period and STL."""

    order: tuple[int, int, int] | None
    seasonal_order: tuple[int, int, int]
    period: int
    stl: bool

    def fit(self, values: np.ndarray) -> Track | None:
        """A model fitted on `values` with its state after the last of them; None where the
        library cannot fit one (too few rows for the orders, a non-stationary AR part)."""
        values = _interpolated(values)
        if values is None:
            return None
        seasonal = None
        target = values
        if self.stl and self.period > 1 and values.size >= 2 * self.period:
            seasonal = statsforecast_arima().mstl(values, self.period)["seasonal"].to_numpy()
            target = values - seasonal
        model = _attempt(lambda: self._fit(target, seasonal is None, self.order))
        if model is None and self.order is not None:
            # The given orders do not fit this window (CSS found a non-stationary AR part, as
            # R's arima would refuse): auto-ARIMA chooses for this window alone.
            model = _attempt(lambda: self._fit(target, seasonal is None, None))
        if model is None:
            return None
        pattern = seasonal[-self.period:] if seasonal is not None else None
        return Track(model, pattern)

    def _fit(self, target: np.ndarray, use_seasonal: bool,
             order: tuple[int, int, int] | None) -> dict:
        period = self.period if use_seasonal else 1
        if order is None:
            # Drift (a slope on the row's index, as R's auto.arima allows) where d + D is 1.
            return statsforecast_arima().auto_arima_f(target, period=max(period, 1),
                                                      seasonal=period > 1)
        seasonal_order = self.seasonal_order if period > 1 else (0, 0, 0)
        return statsforecast_arima().Arima(
            target, order=order, seasonal={"order": seasonal_order, "period": max(period, 1)},
            include_mean=True, method="CSS-ML")


@functools.cache
def normal_quantile(level: float) -> float:
    """z of the central `level` % interval (scipy's ppf costs more than the filter step)."""
    return float(norm.ppf(0.5 + level / 200.0))


def _attempt(fit) -> dict | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            model = fit()
        except (ValueError, np.linalg.LinAlgError, ZeroDivisionError, FloatingPointError):
            return None
    return model if model is not None and np.isfinite(model["sigma2"]) else None


def _interpolated(values: np.ndarray) -> np.ndarray | None:
    """Missing values filled linearly for the fit (statsforecast's ARIMA takes none; the
    Kalman filter skips them afterwards); None with fewer than 4 present."""
    present = np.isfinite(values)
    if present.sum() < 4:
        return None
    if present.all():
        return values
    index = np.arange(values.size)
    return np.interp(index, index[present], values[present])


@dataclass
class Track:
    """A fitted model and its Kalman state after the last row it has seen."""

    model: dict
    pattern: np.ndarray | None  # STL: the last period of the seasonal component
    steps: int = 0  # rows seen since the fit (places the seasonal pattern and the drift)
    errors: list[float] = field(default_factory=list)  # one-step errors since the fit
    fitted_rows: int = 0  # rows the fit saw: the drift's index of its last row

    def __post_init__(self) -> None:
        self.model = copy.deepcopy(self.model)
        self.intercept = float(self.model["coef"].get("intercept", 0.0))
        self.drift = float(self.model["coef"].get("drift", 0.0))
        if "x" in self.model:
            self.fitted_rows = len(self.model["x"])
        # predict_arima reads regressors other than the intercept from `newxreg`; the drift's
        # part of each forecast is added here instead, from the row's index.
        self._without_drift = self.model | {
            "coef": {k: v for k, v in self.model["coef"].items() if k != "drift"}}

    @property
    def aic(self) -> float | None:
        aic = self.model.get("aic")
        return float(aic) if aic is not None and np.isfinite(aic) else None

    def latest_errors(self, count: int) -> np.ndarray:
        """The last `count` one-step errors: the fit's (its innovations), then those since."""
        since = np.asarray(self.errors[-count:], dtype=float)
        if since.size >= count:
            return since
        residuals = np.asarray(self.model.get("residuals", []), dtype=float)
        return np.concatenate([residuals[residuals.size - (count - since.size):], since])

    def mean_and_se(self, horizon: int) -> tuple[np.ndarray, np.ndarray]:
        """The next `horizon` values' forecasts and standard errors."""
        mean, se = statsforecast_arima().predict_arima(self._without_drift, horizon, se_fit=True)
        mean = (np.asarray(mean, dtype=float).ravel() + self._seasonal(horizon)
                + self._trend(horizon))
        return mean, np.asarray(se, dtype=float).ravel()

    def forecast(self, horizon: int, level: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The next `horizon` values, and the bounds of the central `level` % interval."""
        mean, se = self.mean_and_se(horizon)
        half = normal_quantile(level) * se
        return mean, mean - half, mean + half

    def update(self, value: float) -> None:
        """Carry the state over one more row (a missing value only widens the intervals)."""
        state = self.model["model"]
        # The one-step forecast, as predict_arima makes it: Z'(T a), plus the mean and season.
        level = self.intercept + self._seasonal(1)[0] + self._trend(1)[0]
        predicted = (float(state["Z"] @ (state["T"] @ state["a"])) + level
                     if math.isfinite(value) else math.nan)
        adjusted = value - level
        statsforecast_arima().arima_like(np.array([adjusted]), state["phi"], state["theta"],
                                         state["delta"], state["a"], state["P"], state["Pn"], 0,
                                         False)
        self.steps += 1
        if math.isfinite(predicted):
            self.errors.append(value - predicted)

    def _trend(self, horizon: int) -> np.ndarray:
        """The drift's part of the next `horizon` values (statsforecast indexes rows from 1)."""
        if not self.drift:
            return np.zeros(horizon)
        return self.drift * (self.fitted_rows + self.steps + 1 + np.arange(horizon))

    def _seasonal(self, horizon: int) -> np.ndarray:
        if self.pattern is None:
            return np.zeros(horizon)
        period = self.pattern.size
        return self.pattern[(self.steps + np.arange(horizon)) % period]

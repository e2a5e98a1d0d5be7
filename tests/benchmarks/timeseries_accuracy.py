"""Auto-selected ARIMA orders: mlsql's (statsforecast's auto_arima_f, as arima_plus and the OVER
form without orders choose them) against pmdarima's auto_arima and statsmodels' own choice, by
the error of 12 held-out forecasts on datasets statsmodels bundles. Prints each case's orders,
RMSE, time and the ratios (ours / pmdarima's, ours / statsmodels'; the target: at most 1.05
of either).

statsmodels has no auto-ARIMA; its choice here is what its tools give: d from its KPSS test
(difference while p < 0.05, at most twice), p and q by arma_order_select_ic (AIC, p <= 5,
q <= 2) on the differenced series, then its ARIMA with a constant (d = 0) or a slope (d = 1).
Seasonal cases have no statsmodels figure.

    python tests/benchmarks/timeseries_accuracy.py [--with-slow]

pmdarima's seasonal search takes about a minute a case here; --with-slow adds sunspots with
an 11-row season.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pmdarima
import statsmodels.api as sm
from statsmodels.tsa.arima.model import ARIMA
from statsmodels.tsa.stattools import arma_order_select_ic, kpss

from udfs.timeseries.arima_track import ArimaSpec

HELD_OUT = 12


def datasets(with_slow: bool) -> list[tuple[str, np.ndarray, int]]:
    co2 = sm.datasets.co2.load_pandas().data["co2"].resample("MS").mean().ffill().to_numpy()
    sunspots = sm.datasets.sunspots.load_pandas().data["SUNACTIVITY"].to_numpy()
    cases = [("co2 monthly, season 12", co2[-252:], 12),
             ("co2 monthly, no season (misspecified on purpose)", co2[-252:], 1),
             ("sunspots yearly", sunspots[-312:], 1)]
    if with_slow:
        cases.append(("sunspots yearly, season 11", sunspots[-312:], 11))
    return cases


def rmse(forecast: np.ndarray, truth: np.ndarray) -> float:
    return float(np.sqrt(np.mean((np.asarray(forecast) - truth) ** 2)))


def statsmodels_choice(train: np.ndarray) -> tuple[tuple[int, int, int], np.ndarray]:
    differences, series = 0, train
    while differences < 2 and kpss(series, nlags="auto")[1] < 0.05:
        series, differences = np.diff(series), differences + 1
    p, q = arma_order_select_ic(series, max_ar=5, max_ma=2, ic="aic").aic_min_order
    order = (int(p), differences, int(q))
    trend = {0: "c", 1: "t"}.get(differences, "n")
    return order, ARIMA(train, order=order, trend=trend).fit().forecast(HELD_OUT)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--with-slow", action="store_true")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    ratios = []
    for name, series, period in datasets(args.with_slow):
        train, truth = series[:-HELD_OUT], series[-HELD_OUT:]
        started = time.perf_counter()
        track = ArimaSpec(None, (0, 0, 0), period, False).fit(train)
        ours_seconds = time.perf_counter() - started
        ours = rmse(track.forecast(HELD_OUT, 95.0)[0], truth)
        p, q, seasonal_p, seasonal_q, _, d, seasonal_d = track.model["arma"]
        started = time.perf_counter()
        reference = pmdarima.auto_arima(train, seasonal=period > 1, m=period,
                                        suppress_warnings=True, error_action="ignore")
        theirs_seconds = time.perf_counter() - started
        theirs = rmse(reference.predict(HELD_OUT), truth)
        drift = track.model["coef"].get("drift")
        line = (f"{name}: mlsql ({p},{d},{q})({seasonal_p},{seasonal_d},{seasonal_q})[{period}]"
                f"{f' drift {drift:.3f}' if drift is not None else ''} RMSE {ours:.3f} in "
                f"{ours_seconds:.2f} s; pmdarima {reference.order}{reference.seasonal_order} "
                f"RMSE {theirs:.3f} in {theirs_seconds:.1f} s, ratio {ours / theirs:.3f}")
        against_statsmodels = None
        if period == 1:
            order, forecast = statsmodels_choice(train)
            against_statsmodels = ours / rmse(forecast, truth)
            line += (f"; statsmodels {order} RMSE {rmse(forecast, truth):.3f}, "
                     f"ratio {against_statsmodels:.3f}")
        ratios.append((ours / theirs, against_statsmodels))
        print(line)
    print(f"timeseries_accuracy: cases={len(ratios)} ours/pmdarima="
          f"{' '.join(f'{r:.3f}' for r, _ in ratios)} ours/statsmodels="
          f"{' '.join('-' if r is None else f'{r:.3f}' for _, r in ratios)}")


if __name__ == "__main__":
    main()

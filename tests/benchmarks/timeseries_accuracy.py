"""Auto-selected ARIMA orders: mlsql's (statsforecast's auto_arima_f, as arima_plus and the OVER
form without orders choose them) against pmdarima's auto_arima, by the error of 12 held-out
forecasts on datasets statsmodels bundles. Prints each case's orders, RMSE, time and the ratio
(ours / pmdarima; the target: at most 1.05).

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
        ratios.append(ours / theirs)
        print(f"{name}: mlsql ({p},{d},{q})({seasonal_p},{seasonal_d},{seasonal_q})[{period}] "
              f"RMSE {ours:.3f} in {ours_seconds:.2f} s; pmdarima {reference.order}"
              f"{reference.seasonal_order} RMSE {theirs:.3f} in {theirs_seconds:.1f} s; "
              f"ratio {ours / theirs:.3f}")
    print(f"timeseries_accuracy: cases={len(ratios)} "
          f"ratios={' '.join(f'{r:.3f}' for r in ratios)}")


if __name__ == "__main__":
    main()

"""ML_DETECT_ANOMALIES_ROBUST on Flink's Python workers: each row against the `window` rows
before it, per value, by the median and the median absolute deviation (MAD).

A value's robust z-score is (x - median) / (1.4826 * MAD), 1.4826 making MAD estimate the
standard deviation of normal data; where MAD is 0 (over half the window equal), the mean
absolute deviation times 1.2533 stands in, and where that is 0 too, any other value scores
infinity. A row is flagged when its largest |z| passes the threshold. No state: the history
holds the window, so every row's result depends on those rows alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pyflink.table.udf import ScalarFunction

MAD_TO_SD = 1.4826
MEAN_AD_TO_SD = 1.2533
ROBUST_FIELDS = ["timestamp", "is_anomaly", "anomaly_score", "z_scores", "medians"]


@dataclass(frozen=True)
class RobustPlan:
    window: int
    threshold: float
    width: int  # values per row

    @property
    def capacity(self) -> int:
        return self.window + 1


class RobustFunction(ScalarFunction):
    def __init__(self, plan: RobustPlan) -> None:
        self.plan = plan

    def eval(self, history: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame([self._row(row) for row in history.itertuples(index=False)],
                            columns=ROBUST_FIELDS)

    def _row(self, row: tuple) -> tuple:
        _, width, times, values = row
        if values is None or len(times) <= self.plan.window:
            stamp = pd.Timestamp(int(times[-1]), unit="ms") if times is not None else None
            return (stamp, None, None, None, None)
        rows = np.asarray(values, dtype=float).reshape(-1, int(width))
        baseline, current = rows[:-1], rows[-1]
        scores = [robust_z(baseline[:, i], current[i]) for i in range(rows.shape[1])]
        finite = [abs(s) for s in scores if s is not None]
        score = max(finite) if finite else None
        flagged = None if score is None else bool(score > self.plan.threshold)
        medians = [_number(np.nanmedian(baseline[:, i])) for i in range(rows.shape[1])]
        return (pd.Timestamp(int(times[-1]), unit="ms"), flagged, score, scores, medians)


def robust_z(baseline: np.ndarray, value: float) -> float | None:
    baseline = baseline[np.isfinite(baseline)]
    if not math.isfinite(value) or baseline.size == 0:
        return None
    median = float(np.median(baseline))
    scale = MAD_TO_SD * float(np.median(np.abs(baseline - median)))
    if scale == 0.0:
        scale = MEAN_AD_TO_SD * float(np.mean(np.abs(baseline - median)))
    if scale == 0.0:
        return 0.0 if value == median else math.copysign(math.inf, value - median)
    return (value - median) / scale


def _number(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None

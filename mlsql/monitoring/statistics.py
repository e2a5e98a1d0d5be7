"""Two distributions of one column compared, as ML_VALIDATE_DATA_SKEW / _DRIFT report them.

On the non-NULL shares of the buckets (numeric) or categories:
- JENSEN_SHANNON_DIVERGENCE, base 2, in [0, 1] (scipy's `jensenshannon` distance squared);
  BigQuery ML's and TFDV's statistic for numeric columns;
- L_INFTY, the largest difference of one category's share (BigQuery ML's for categories);
- POPULATION_STABILITY_INDEX, sum (q - p) ln(q / p), each share at least PSI_FLOOR so that
  an empty bucket does not make it infinite (the credit-risk convention);
and NULL_RATE_CHANGE, |null share now - null share then|, and (categories)
UNSEEN_CATEGORY_RATE, the share of current rows whose category the reference never had.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy.spatial.distance import jensenshannon

from mlsql.monitoring.profile import CATEGORICAL, Distribution

JSD = "JENSEN_SHANNON_DIVERGENCE"
L_INFTY = "L_INFTY"
PSI = "POPULATION_STABILITY_INDEX"
NULL_RATE = "NULL_RATE_CHANGE"
UNSEEN = "UNSEEN_CATEGORY_RATE"
PSI_FLOOR = 1e-4


@dataclass(frozen=True)
class Thresholds:
    """BigQuery ML's option names and defaults, and mlsql's for its own statistics."""

    categorical: float = 0.3  # categorical_default_threshold
    numerical: float = 0.3  # numerical_default_threshold
    categorical_metric: str = L_INFTY  # categorical_metric_type: L_INFTY or JSD
    psi: float = 0.25  # psi_threshold: "significant shift" by the usual rule of thumb
    null_rate: float = 0.1  # null_rate_threshold
    unseen: float = 0.05  # unseen_category_threshold
    per_column: Mapping[str, float] | None = None  # thresholds: the main statistic's own


@dataclass(frozen=True)
class Finding:
    column: str
    metric: str
    threshold: float
    value: float | None  # None where the current data has no non-NULL value

    @property
    def is_anomaly(self) -> bool | None:
        return None if self.value is None else self.value > self.threshold


def metrics(column: str, reference: Distribution, thresholds: Thresholds
            ) -> list[tuple[str, float]]:
    """The statistics reported for one column with their thresholds, its main one first."""
    categorical = reference.kind == CATEGORICAL
    main = thresholds.categorical_metric if categorical else JSD
    threshold = (thresholds.per_column or {}).get(
        column, thresholds.categorical if categorical else thresholds.numerical)
    reported = [(main, threshold), (PSI, thresholds.psi), (NULL_RATE, thresholds.null_rate)]
    if categorical:
        reported.append((UNSEEN, thresholds.unseen))
    return reported


def compare(column: str, reference: Distribution, current: Distribution,
            thresholds: Thresholds) -> list[Finding]:
    """The findings for one column, its main statistic first."""
    keys = sorted(set(reference.counts) | set(current.counts))
    p = _shares(reference, keys)
    q = _shares(current, keys)
    present = current.rows - current.nulls
    unseen = sum(n for k, n in current.counts.items() if k not in reference.counts)
    values: dict[str, float | None] = {
        JSD: None if p is None or q is None else float(jensenshannon(p, q, base=2) ** 2),
        L_INFTY: None if p is None or q is None else float(np.abs(p - q).max()),
        PSI: None if p is None or q is None else _psi(p, q),
        NULL_RATE: _null_rate_change(reference, current),
        UNSEEN: unseen / present if present else None,
    }
    return [Finding(column, metric, threshold, values[metric])
            for metric, threshold in metrics(column, reference, thresholds)]


def reference_shares(reference: Distribution) -> dict[str, float]:
    """The reference's non-NULL share of each of its buckets (a numeric column: every bucket,
    empty ones too) or categories, as `compare` computes them; empty without a non-NULL
    value."""
    total = sum(reference.counts.values())
    if total == 0:
        return {}
    keys = ([str(i) for i in range(len(reference.edges) + 1)] if reference.kind != CATEGORICAL
            else list(reference.counts))
    shares = _shares(reference, keys)
    assert shares is not None
    return {key: float(share) for key, share in zip(keys, shares, strict=True)}


def _shares(distribution: Distribution, keys: list[str]) -> np.ndarray | None:
    counts = np.array([distribution.counts.get(k, 0) for k in keys], dtype=np.float64)
    total = counts.sum()
    return counts / total if total > 0 else None


def _psi(p: np.ndarray, q: np.ndarray) -> float:
    p = np.maximum(p, PSI_FLOOR)
    q = np.maximum(q, PSI_FLOOR)
    return float(((q - p) * np.log(q / p)).sum())


def _null_rate_change(reference: Distribution, current: Distribution) -> float | None:
    if reference.rows == 0 or current.rows == 0:
        return None
    return abs(current.nulls / current.rows - reference.nulls / reference.rows)

"""A column's distribution as ML_VALIDATE_DATA_SKEW / _DRIFT compare it.

A numeric column is a histogram over bucket edges (from the reference data's quantiles, or
equal widths over its range), open at both ends so that every value has a bucket; a
categorical column is its categories' counts. NULLs are counted apart from the buckets. A
model version stores one such distribution per input and per output of its training rows
(PROFILE_FILE), so no training row is kept.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mlsql.compiler.sql import double
from mlsql.syntax.dialect import quote_literal

PROFILE_FILE = "profile.json"
NUMERIC = "numeric"
CATEGORICAL = "categorical"
BINS = 20  # quantile buckets of a numeric column (fewer where values repeat)
MAX_CATEGORIES = 10_000  # a categorical column's most frequent categories kept
OUTPUT_SAMPLE_ROWS = 100_000  # training rows scored for the outputs' distributions


@dataclass
class Distribution:
    """Counts of one column: numeric buckets by index (as strings), or categories."""

    kind: str
    rows: int = 0
    nulls: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    edges: list[float] = field(default_factory=list)  # numeric: the inner bucket edges
    other: int = 0  # categorical: rows of categories beyond MAX_CATEGORIES

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind, "rows": self.rows, "nulls": self.nulls,
                                "counts": self.counts}
        if self.kind == NUMERIC:
            data["edges"] = self.edges
        elif self.other:
            data["other"] = self.other
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Distribution:
        return cls(data["kind"], int(data["rows"]), int(data["nulls"]),
                   {str(k): int(v) for k, v in data["counts"].items()},
                   [float(e) for e in data.get("edges", [])], int(data.get("other", 0)))


def quantile_edges(values: np.ndarray, bins: int = BINS) -> list[float]:
    """The inner edges of up to `bins` buckets holding about equal shares of `values`."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return []
    return [float(e) for e in np.unique(np.quantile(finite, np.linspace(0, 1, bins + 1)[1:-1]))]


def width_edges(low: float | None, high: float | None, bins: int = BINS) -> list[float]:
    """The inner edges of `bins` equal-width buckets over [low, high]."""
    if low is None or high is None or not high > low:
        return []
    return [float(e) for e in np.linspace(low, high, bins + 1)[1:-1]]


def bucket_index(values: np.ndarray, edges: Sequence[float]) -> np.ndarray:
    """Bucket i holds edges[i-1] <= x < edges[i] (bucket 0 below the first edge)."""
    return np.searchsorted(np.asarray(edges, dtype=np.float64), values, side="right")


def describe(column: pd.Series, kind: str, edges: Sequence[float] | None = None
             ) -> Distribution:
    """`column`'s distribution; numeric buckets over `edges`, or its own quantiles."""
    present = column[column.notna()]
    distribution = Distribution(kind, len(column), int(len(column) - len(present)))
    if kind == NUMERIC:
        values = present.to_numpy(dtype=np.float64)
        distribution.edges = list(quantile_edges(values) if edges is None else edges)
        counts = np.bincount(bucket_index(values, distribution.edges),
                             minlength=len(distribution.edges) + 1)
        distribution.counts = {str(i): int(n) for i, n in enumerate(counts) if n}
    else:
        frequencies = present.astype(str).value_counts()
        kept = frequencies.iloc[:MAX_CATEGORIES]
        distribution.counts = {str(k): int(v) for k, v in kept.items()}
        distribution.other = int(frequencies.iloc[MAX_CATEGORIES:].sum())
    return distribution


def profile(features: pd.DataFrame, kinds: Mapping[str, str], outputs: pd.DataFrame,
            output_kinds: Mapping[str, str]) -> dict[str, Any]:
    """A version's PROFILE_FILE: its training rows' inputs and its outputs on them."""
    return {"format": 1, "rows": len(features),
            "inputs": {name: describe(features[name], kind).to_json()
                       for name, kind in kinds.items()},
            "outputs": {name: describe(outputs[name], kind).to_json()
                        for name, kind in output_kinds.items()}}


def output_kinds(task: str, outputs: Sequence[Mapping[str, str]]) -> dict[str, str]:
    """Which of a model's outputs are categories (a class, a cluster, a flag) and which
    numbers (a probability, a value, a distance, a score)."""
    kinds = {}
    for index, output in enumerate(outputs):
        categorical = (index == 0 and task in ("classification", "clustering")) or \
            output["type"] not in ("DOUBLE", "FLOAT")
        kinds[output["name"]] = CATEGORICAL if categorical else NUMERIC
    return kinds


def bucket_sql(column_sql: str, distribution: Distribution) -> str:
    """The STRING bucket of a value as `describe` counts it; NULL for NULL. (Numeric buckets
    are numbered as INT and cast: string literals of different lengths in a CASE would be
    padded to one CHAR length.)"""
    if distribution.kind == CATEGORICAL:
        return f"CAST({column_sql} AS STRING)"
    value = f"CAST({column_sql} AS DOUBLE)"
    whens = " ".join(f"WHEN {value} < {double(edge)} THEN {i}"
                     for i, edge in enumerate(distribution.edges))
    return (f"CAST(CASE WHEN {value} IS NULL THEN CAST(NULL AS INT) {whens} "
            f"ELSE {len(distribution.edges)} END AS STRING)")


def counts_sql(source_sql: str, buckets: Mapping[str, str]) -> str:
    """Rows (col, bucket, n) counting each named bucket expression over the source: one
    scan, the columns unnested."""
    rows = ", ".join(f"ROW(CAST({quote_literal(name)} AS STRING), {expression})"
                     for name, expression in buckets.items())
    return (f"SELECT u.col AS col, u.bucket AS bucket, COUNT(*) AS n "
            f"FROM {source_sql} CROSS JOIN UNNEST(ARRAY[{rows}]) AS u(col, bucket) "
            "GROUP BY u.col, u.bucket")

"""Turn feature columns into a numeric matrix, identically at training and scoring time.

The encoding is described by a JSON-serialisable spec fitted on the training rows:
numeric columns are imputed with the training mean (and standardized for linear models and
k-means); string columns are one-hot encoded (linear models, k-means) or ordinal-coded for
LightGBM's native categorical splits. NULLs and categories unseen in training are handled.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

NUMERIC = "numeric"
CATEGORICAL = "categorical"
ONE_HOT = "one_hot"
ORDINAL = "ordinal"
MAX_CATEGORIES = 200


def fit_spec(frame: pd.DataFrame, kinds: Mapping[str, str], encoding: str,
             standardize: bool) -> dict[str, Any]:
    """Fit the encoding of `frame`'s columns (kinds: column name -> numeric|categorical)."""
    columns = []
    for name, kind in kinds.items():
        values = frame[name]
        if kind == NUMERIC:
            numbers = values.to_numpy(dtype=np.float64, na_value=np.nan)
            finite = numbers[~np.isnan(numbers)]
            mean = float(finite.mean()) if finite.size else 0.0
            std = float(finite.std()) if finite.size else 1.0
            columns.append({"name": name, "kind": NUMERIC, "mean": mean,
                            "std": std if std > 0 else 1.0})
        else:
            counts = values.dropna().astype(str).value_counts()
            categories = sorted(counts.index[:MAX_CATEGORIES].tolist())
            columns.append({"name": name, "kind": CATEGORICAL, "categories": categories})
    return {"columns": columns, "encoding": encoding, "standardize": standardize}


# Distinct values per string column that column_sums reports in full; a column with more
# reports its most frequent ones only, so merged counts near the cut are approximate.
SUMMED_CATEGORIES = 10_000


def column_sums(frame: pd.DataFrame, kinds: Mapping[str, str],
                rows: np.ndarray | None = None) -> dict[str, Any]:
    """What fit_spec needs from one share of the rows (`rows`: a mask, default all), as JSON
    data that adds up across shares (spec_from_sums): each number column's count, sum and
    sum of squares over its non-missing values, each string column's value counts."""
    sums: dict[str, Any] = {}
    for name, kind in kinds.items():
        values = frame[name] if rows is None else frame[name][rows]
        if kind == NUMERIC:
            numbers = values.to_numpy(dtype=np.float64, na_value=np.nan)
            finite = numbers[~np.isnan(numbers)]
            sums[name] = [int(finite.size), float(finite.sum()), float((finite**2).sum())]
        else:
            counts = values.dropna().astype(str).value_counts()[:SUMMED_CATEGORIES]
            sums[name] = dict(zip(counts.index.tolist(), counts.tolist(), strict=True))
    return sums


def spec_from_sums(shares: Sequence[Mapping[str, Any]], kinds: Mapping[str, str],
                   encoding: str, standardize: bool) -> dict[str, Any]:
    """fit_spec over all the shares whose column_sums these are: the same means and
    categories (the spread from the sums, not the two-pass formula)."""
    columns = []
    for name, kind in kinds.items():
        if kind == NUMERIC:
            count = sum(share[name][0] for share in shares)
            total = sum(share[name][1] for share in shares)
            squares = sum(share[name][2] for share in shares)
            mean = total / count if count else 0.0
            std = float(np.sqrt(max(squares / count - mean**2, 0.0))) if count else 1.0
            columns.append({"name": name, "kind": NUMERIC, "mean": mean,
                            "std": std if std > 0 else 1.0})
        else:
            counts: dict[str, int] = {}
            for share in shares:
                for value, count in share[name].items():
                    counts[value] = counts.get(value, 0) + count
            ranked = sorted(counts, key=lambda value: -counts[value])
            columns.append({"name": name, "kind": CATEGORICAL,
                            "categories": sorted(ranked[:MAX_CATEGORIES])})
    return {"columns": columns, "encoding": encoding, "standardize": standardize}


def feature_names(spec: Mapping[str, Any]) -> list[str]:
    names = []
    for column in spec["columns"]:
        if column["kind"] == CATEGORICAL and spec["encoding"] == ONE_HOT:
            names.extend(f"{column['name']}={c}" for c in column["categories"])
        else:
            names.append(column["name"])
    return names


def source_columns(spec: Mapping[str, Any]) -> np.ndarray:
    """For each encoded feature, the position of the spec column it encodes."""
    widths = [len(c["categories"]) if c["kind"] == CATEGORICAL and spec["encoding"] == ONE_HOT
              else 1 for c in spec["columns"]]
    return np.repeat(np.arange(len(widths)), widths)


def categorical_indices(spec: Mapping[str, Any]) -> list[int]:
    """Positions of ordinal-coded categorical columns in the encoded matrix."""
    if spec["encoding"] != ORDINAL:
        return []
    return [i for i, c in enumerate(spec["columns"]) if c["kind"] == CATEGORICAL]


def as_series(columns: Sequence[Any]) -> tuple[pd.Series, ...]:
    """A pandas UDF's arguments as Series of one length: Flink passes an argument that its
    planner folded to a constant (a view's `CAST(NULL AS DOUBLE)`, a VALUES row) as that one
    Python value, not a column. (With every argument constant, Flink's Arrow writer fails
    before the UDF runs: a PyFlink limitation.)"""
    length = next((len(c) for c in columns if isinstance(c, pd.Series | np.ndarray)), 1)
    return tuple(c if isinstance(c, pd.Series) else pd.Series(np.asarray(c))
                 if isinstance(c, np.ndarray) else pd.Series([c] * length, dtype=object)
                 for c in columns)


def encode(spec: Mapping[str, Any], columns: Sequence[pd.Series | np.ndarray]) -> np.ndarray:
    """Encode one array per spec column (in spec order) into a float64 matrix."""
    parts: list[np.ndarray] = []
    standardize = spec["standardize"]
    for column, values in zip(spec["columns"], columns, strict=True):
        if column["kind"] == NUMERIC:
            x = _as_float(values)
            x = np.where(np.isnan(x), column["mean"], x)
            if standardize:
                x = (x - column["mean"]) / column["std"]
            parts.append(x[:, None])
        else:
            codes = _category_codes(values, column["categories"])
            if spec["encoding"] == ONE_HOT:
                one_hot = np.zeros((len(codes), len(column["categories"])))
                known = codes >= 0
                one_hot[np.flatnonzero(known), codes[known]] = 1.0
                parts.append(one_hot)
            else:
                parts.append(np.where(codes >= 0, codes, np.nan).astype(np.float64)[:, None])
    if not parts:
        return np.zeros((0, 0))
    return np.hstack(parts)


def _as_float(values: pd.Series | np.ndarray) -> np.ndarray:
    if isinstance(values, pd.Series):
        return values.to_numpy(dtype=np.float64, na_value=np.nan)
    return np.asarray(values, dtype=np.float64)


def _category_codes(values: pd.Series | np.ndarray, categories: list[str]) -> np.ndarray:
    """Index of each value in `categories`; -1 for NULL or unseen."""
    series = values if isinstance(values, pd.Series) else pd.Series(values)
    strings = series.astype(object).where(series.notna(), None)
    codes = pd.Categorical(strings, categories=categories).codes
    return np.asarray(codes, dtype=np.int64)

"""Feature hashing as vectorized (pandas) UDFs: values into a fixed number of buckets, with no
vocabulary. Ships to the workers: numpy, pandas, and scikit-learn's MurmurHash3."""

from __future__ import annotations

import numpy as np
import pandas as pd

from udfs.text import bucket_of, flink_ml_hash


class FeatureHashingFunction:
    """ML_FEATURE_HASHING's dense form: how many of a row's inputs (their text; NULLs
    skipped) fall in each HASH_CODE bucket."""

    def __init__(self, buckets: int) -> None:
        self.buckets = buckets

    def __call__(self, values: pd.Series) -> pd.Series:
        rows = []
        for row in values:
            counts = np.zeros(self.buckets)
            for value in [] if row is None else row:
                if value is not None:
                    counts[bucket_of(value, self.buckets)] += 1.0
            rows.append(counts.tolist())
        return pd.Series(rows, dtype=object)


def java_text(value: object) -> str:
    """A value as Java's toString writes it (Flink ML hashes 'column=value')."""
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, float | np.floating):
        number = float(value)
        if number == 0 or 1e-3 <= abs(number) < 1e7 or not np.isfinite(number):
            return {"inf": "Infinity", "-inf": "-Infinity", "nan": "NaN"}.get(
                repr(number), repr(number))
        mantissa, exponent = np.format_float_scientific(number, unique=True,
                                                        trim="0").split("e")
        return f"{mantissa}E{int(exponent)}"
    return str(value)


class FlinkMlFeatureHasherFunction:
    """Flink ML's FeatureHasher as a sparse vector of (index, value) pairs: a numeric input
    adds its value at the index of its column's name, a categorical one (a string, a boolean,
    or a column named in `categorical`) 1 at the index of 'name=value'; the index is
    |MurmurHash3| mod num_features; NULLs are skipped."""

    def __init__(self, names: list[str], categorical: list[str], num_features: int) -> None:
        self.names = names
        self.categorical = set(categorical)
        self.num_features = num_features

    def __call__(self, *columns: pd.Series) -> pd.Series:
        rows = []
        for values in zip(*columns, strict=True):
            sums: dict[int, float] = {}
            for name, value in zip(self.names, values, strict=True):
                if value is None or (isinstance(value, float) and np.isnan(value)
                                     and name in self.categorical):
                    continue
                if name in self.categorical or isinstance(value, str | bool | np.bool_):
                    key, amount = f"{name}={java_text(value)}", 1.0
                else:
                    key, amount = name, float(value)
                index = abs(flink_ml_hash(key)) % self.num_features
                sums[index] = sums.get(index, 0.0) + amount
            rows.append(sorted(sums.items()))
        return pd.Series(rows, dtype=object)

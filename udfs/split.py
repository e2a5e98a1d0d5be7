"""The evaluation split: decided by each row's content, so it does not depend on the order in
which Flink's parallel workers delivered the rows, and can be reproduced outside mlsql."""

from __future__ import annotations

import numpy as np
import pandas as pd

_BUCKETS = 1_000_000


def eval_mask(features: pd.DataFrame, fraction: float, seed: int) -> np.ndarray:
    """True for the rows held out for evaluation (about `fraction` of them).

    `features` holds numeric columns as float64 and categorical ones as strings, as mlsql
    extracts them. Identical rows land on the same side.
    """
    if fraction <= 0 or features.empty:
        return np.zeros(len(features), dtype=bool)
    hashes = pd.util.hash_pandas_object(features, index=False).to_numpy(dtype=np.uint64)
    mixed = hashes ^ np.uint64((seed * 0x9E3779B97F4A7C15) % 2**64)
    mixed = (mixed * np.uint64(0xBF58476D1CE4E5B9)) >> np.uint64(20)
    return (mixed % np.uint64(_BUCKETS)) < np.uint64(int(fraction * _BUCKETS))

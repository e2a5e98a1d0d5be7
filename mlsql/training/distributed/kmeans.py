"""kmeans computed by Flink: Lloyd steps as GROUP BY over the nearest centroid.

The starting centroids are scikit-learn's k-means (k-means++ seeding) on a uniform sample of
about SAMPLE_ROWS encoded rows; each Lloyd step is then one Flink pass that assigns every row to its
nearest centroid and returns, per cluster, the row count, the feature sums and the distances.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from mlsql.compiler.sql import BARRIER, double, first_best
from mlsql.core.progress import Step
from mlsql.errors import TrainingError
from mlsql.models.history import History
from mlsql.runtime.environment import FlinkRuntime
from mlsql.runtime.flink_types import Column
from mlsql.training.distributed.common import (
    PassCheck,
    check_size,
    encoded_features,
    feature_inputs,
    fingerprint,
    fit_spec,
    query_frame,
    row_source,
)
from mlsql.training.extract import extract
from mlsql.training.fit import DISTRIBUTED, Fit

SAMPLE_ROWS = 100_000
MAX_DISTANCE_TERMS = 5_000  # clusters x encoded features, computed for every row
TOLERANCE = 1e-4  # scikit-learn's: of the mean feature variance, on the centroids' movement


def fit_kmeans(runtime: FlinkRuntime, query_sql: str, columns: list[Column],
               label: Column | None, label_type: str | None, options: dict[str, Any],
               progress: Callable[[str], None]) -> Fit:
    source = row_source(query_sql, None)
    inputs = feature_inputs(columns)
    progress("distributed training: column statistics")
    spec, rows = fit_spec(runtime, source, columns, inputs)
    clusters = options["num_clusters"]
    if rows < clusters:
        raise TrainingError(f"kmeans needs at least num_clusters={clusters} rows, the query "
                            f"returned {rows}")
    encoded = encoded_features(spec, inputs)
    check_size("kmeans", clusters * len(encoded), MAX_DISTANCE_TERMS)
    names = [f"f{i}" for i in range(len(encoded))]
    base = f"SELECT {', '.join(f'{e} AS {n}' for e, n in zip(encoded, names, strict=True))} " \
           f"FROM {source}"

    fraction = min(1.0, SAMPLE_ROWS / rows)
    progress(f"distributed training: k-means++ on a {fraction:.1%} sample")
    sample = extract(runtime, f"SELECT * FROM ({base}) WHERE RAND({options['seed']}) < "
                              f"{double(fraction)}", [Column(n, "", "") for n in names], names,
                     lambda _: None).to_numpy(dtype=np.float64)
    if len(sample) < clusters:
        raise TrainingError(f"the sample for kmeans' starting centroids has {len(sample)} "
                            f"rows, fewer than num_clusters={clusters}")
    from sklearn.cluster import KMeans

    centroids = KMeans(n_clusters=clusters, random_state=options["seed"],
                       n_init="auto").fit(sample).cluster_centers_
    tolerance = TOLERANCE * float(sample.var(axis=0).mean())

    same_rows = PassCheck()
    history = History()
    for step in range(1, options["max_iter"] + 1):
        per_cluster = _lloyd_step(runtime, base, names, centroids)
        same_rows.check(int(per_cluster["n"].sum()), float(per_cluster["fingerprint"].sum()))
        counts = per_cluster["n"].to_numpy(dtype=np.float64)
        means = centroids.copy()
        filled = counts > 0
        means[filled] = per_cluster[names].to_numpy()[filled] / counts[filled, None]
        shift = float(((means - centroids) ** 2).sum())
        mean_squared = float(per_cluster["sse"].sum() / rows)
        history.record(step, mean_squared)
        progress(Step(f"distributed training: Lloyd step {step}, mean squared distance "
                      f"{mean_squared:.6f}, centroid shift {shift:.2e}", "lloyd", step, None,
                      "steps"))
        if shift <= tolerance or step == options["max_iter"]:
            break
        centroids = means
    metrics = _metrics(per_cluster, means, rows)
    return Fit(spec, {"algorithm": "kmeans", "centroids": centroids.tolist()}, rows, 0,
               DISTRIBUTED, metrics=metrics, history=history)


def _lloyd_step(runtime: FlinkRuntime, base: str, names: list[str],
                centroids: np.ndarray) -> pd.DataFrame:
    """Per centroid (all of them, empty ones with zeros): n, feature sums, sse, distance sum."""
    distances = []
    for k, centroid in enumerate(centroids):
        terms = [f"POWER({n} - {double(c)}, 2)" for n, c in zip(names, centroid, strict=True)]
        distances.append(f"({' + '.join(terms)}){BARRIER} AS d{k}")
    refs = [f"d{k}" for k in range(len(centroids))]
    nearest = first_best(refs, [str(k) for k in range(len(refs))], largest=False)
    closest = f"LEAST({', '.join(refs)})" if len(refs) > 1 else refs[0]
    sums = ", ".join(f"SUM({n}) AS {n}" for n in names)
    frame = query_frame(runtime, (
        f"SELECT c, COUNT(*) AS n, SUM(dd) AS sse, SUM(SQRT(dd)) AS dist, {sums}, "
        f"{fingerprint(names)} FROM ("
        f"SELECT *, {nearest} AS c, {closest} AS dd FROM (SELECT *, {', '.join(distances)} "
        f"FROM ({base}))) GROUP BY c"))
    full = pd.DataFrame({"c": range(len(centroids))})
    return full.merge(frame, on="c", how="left").fillna(0.0)


def _metrics(per_cluster: pd.DataFrame, means: np.ndarray, rows: int) -> dict[str, float]:
    """Mean squared distance, and the Davies-Bouldin index from each cluster's mean distance
    to its centroid (scikit-learn measures to the cluster's mean; equal at convergence)."""
    result = {"mean_squared_distance": float(per_cluster["sse"].sum() / rows)}
    counts = per_cluster["n"].to_numpy(dtype=np.float64)
    filled = counts > 0
    if 1 < filled.sum() < rows:
        spread = per_cluster["dist"].to_numpy()[filled] / counts[filled]
        centers = means[filled]
        separation = np.sqrt(((centers[:, None, :] - centers[None, :, :]) ** 2).sum(axis=2))
        np.fill_diagonal(separation, np.inf)
        ratios = (spread[:, None] + spread[None, :]) / separation
        result["davies_bouldin_index"] = float(ratios.max(axis=1).mean())
    return result


TRAINERS = {"kmeans": fit_kmeans}

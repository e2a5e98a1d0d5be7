"""Bucketize by split points, and by quantiles fitted at training. Results are STRINGs, so
a model reads them as categories:

    ML_BUCKETIZE(x, ARRAY[s1, ..., sn] [, ARRAY[null_name, name1, ..., name_n+1]])
        'bin_1' for x < s1, 'bin_k' for s(k-1) <= x < sk, 'bin_{n+1}' for x >= sn;
        'bin_NULL' for NULL or NaN (Confluent's rules: the split points must ascend; duplicates
        are dropped; names, when given, start with the NULL bucket's)
    ML_QUANTILE_BUCKETIZE(x, n) OVER ()   (TRANSFORM only)
        n buckets split at the training rows' quantiles 1/n, ..., (n-1)/n (PERCENTILE, linear
        interpolation: scikit-learn's KBinsDiscretizer(strategy='quantile') edges); stored as
        ML_BUCKETIZE with those split points (equal ones merged).
    ML_BUCKETIZE(x, ARRAY[s1, ..., sn], 'index')
        the bucket's number as a DOUBLE instead: 0 for x < s1 ... n for x >= sn (Flink ML's
        bucket index); NULL for NULL or NaN
    ML_BUCKETIZE(x, ARRAY[e0, ..., en], 'index', 'error' | 'skip' | 'keep')
        Flink ML's Bucketizer: the array holds every bucket's edges, the outer ones included
        (CAST('-Infinity' AS DOUBLE) and CAST('Infinity' AS DOUBLE) for open ends); bucket k
        (a DOUBLE) holds e(k) <= x < e(k+1), the last bucket also its upper edge. A value
        outside the edges, NaN or NULL is invalid: 'error' fails the job ("The input contains
        invalid value. ..."), 'keep' gives n, 'skip' gives NULL (the Pipeline API's
        Bucketizer drops the row).
    ML_KBINS_DISCRETIZER(x, bins [, 'uniform' | 'quantile' | 'kmeans' [, sub_samples]])
        OVER ()   (TRANSFORM only) Flink ML's KBinsDiscretizer: bin edges from the training
        rows' min and max ('uniform'), their sorted values at i * n / bins ('quantile', the
        default; equal edges merged) or a 1-D k-means's centroids ('kmeans'; 'uniform' when
        there are no more distinct values than bins), over at most sub_samples (200,000)
        values; stored as ML_BUCKETIZE(x, ARRAY[inner edges], 'index'), a value below the
        first edge in bin 0 and above the last in the last bin; a constant column is bin 0.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from mlsql.feature_functions.base import (
    HANDLE_INVALID,
    Arguments,
    FeatureArgumentError,
    FeatureFunction,
    FitRequest,
    FitResult,
    Params,
    SqlOf,
    array_text,
    as_double,
    constant_where_present,
    handled_invalid,
    is_missing,
    number_text,
    present_double,
)
from mlsql.syntax import ir
from mlsql.syntax.dialect import quote_literal


class Bucketize(FeatureFunction):
    name = "ML_BUCKETIZE"
    usage = "ML_BUCKETIZE(x, ARRAY[split, ...] [, ARRAY['null_name', 'name', ...]])"

    def explicit(self, args: Arguments, call: ir.FeatureCall) -> Params:
        self.count(args, call, 2, 4)
        if len(args) == 4:
            return self._edges(args)
        splits = self.literal_array(args[1], "split points", float)
        if not splits:
            raise FeatureArgumentError(f"{self.name} needs at least one split point",
                                       args[1].position)
        if any(b < a for a, b in itertools.pairwise(splits)):
            raise FeatureArgumentError(f"{self.name}'s split points must be in ascending "
                                       "order", args[1].position)
        splits = sorted(set(splits))
        names = [f"bin_{i}" for i in range(len(splits) + 2)]
        names[0] = "bin_NULL"
        if len(args) == 3 and args[2].is_literal and args[2].value == "index":
            return {"splits": splits, "names": None}
        if len(args) == 3:
            names = self.literal_array(args[2], "bucket names", str)
            if len(names) != len(splits) + 2:
                raise FeatureArgumentError(
                    f"{self.name} needs {len(splits) + 2} bucket names (the NULL bucket's "
                    f"first), found {len(names)}", args[2].position)
        return {"splits": splits, "names": names}

    def _edges(self, args: Arguments) -> Params:
        """The Flink ML form's parameters: (x, ARRAY[edges], 'index', handle_invalid)."""
        if not (args[2].is_literal and args[2].value == "index"):
            raise FeatureArgumentError(f"{self.name}'s third argument must be 'index' where a "
                                       f"fourth (handle_invalid) follows, found {args[2].text}",
                                       args[2].position)
        edges = self.literal_array(args[1], "bucket edges", float)
        if len(edges) < 2 or any(b <= a for a, b in itertools.pairwise(edges)) or any(
                math.isnan(e) for e in edges):
            raise FeatureArgumentError(f"{self.name}'s bucket edges must be at least two "
                                       f"strictly increasing numbers, found {args[1].text}",
                                       args[1].position)
        handle_invalid = self.choice(args[3], "handle_invalid", HANDLE_INVALID)
        return {"edges": edges, "handle_invalid": handle_invalid}

    def elements(self, args: Arguments, params: Params, sql_of: SqlOf) -> list[str]:
        x = as_double(sql_of(args[0]))
        if "edges" in params:
            return [self._flink_ml_bucket(x, params["edges"], params["handle_invalid"])]
        if params["names"] is None:  # the bucket's index
            arms = [f"WHEN {x} < {number_text(s)} THEN {number_text(float(i))}"
                    for i, s in enumerate(params["splits"])]
            return [f"CASE WHEN {is_missing(x)} THEN CAST(NULL AS DOUBLE) {' '.join(arms)} "
                    f"ELSE {number_text(float(len(params['splits'])))} END"]
        names = [quote_literal(n) for n in params["names"]]
        arms = [f"WHEN {x} < {number_text(s)} THEN {names[i + 1]}"
                for i, s in enumerate(params["splits"])]
        return [f"CASE WHEN {is_missing(x)} THEN {names[0]} {' '.join(arms)} "
                f"ELSE {names[-1]} END"]


    @staticmethod
    def _flink_ml_bucket(x: str, edges: list[float], handle_invalid: str) -> str:
        buckets = len(edges) - 1
        arms = " ".join(f"WHEN {x} < {number_text(e)} THEN {number_text(float(i))}"
                        for i, e in enumerate(edges[1:-1]))
        index = (f"CASE {arms} ELSE {number_text(float(buckets - 1))} END" if arms
                 else number_text(0.0))
        valid = [f"NOT {is_missing(x)}"]
        valid += [f"{x} >= {number_text(edges[0])}"] if edges[0] != -math.inf else []
        valid += [f"{x} <= {number_text(edges[-1])}"] if edges[-1] != math.inf else []
        message = ("'The input contains invalid value. See handleInvalid parameter for more "
                   "options.'")
        return handled_invalid(" AND ".join(valid), index, handle_invalid,
                               number_text(float(buckets)), message, x)


class QuantileBucketize(Bucketize):
    name = "ML_QUANTILE_BUCKETIZE"
    fittable = True
    usage = "ML_QUANTILE_BUCKETIZE(x, buckets) OVER () inside TRANSFORM, or ML_BUCKETIZE"
    fitted_usage = "ML_QUANTILE_BUCKETIZE(x, buckets) OVER ()"

    def explicit(self, args: Arguments, call: ir.FeatureCall) -> Params:
        raise FeatureArgumentError(
            f"{self.name} fits its split points at training: use {self.fitted_usage} inside "
            "CREATE MODEL ... TRANSFORM (...), or ML_BUCKETIZE(x, ARRAY[split, ...])",
            call.position)

    def fit_options(self, args: Arguments, call: ir.FeatureCall) -> Params:
        self.count(args, call, 2, 2, self.fitted_usage)
        buckets = self.integer(args[1], "number of buckets", 2)
        return {"buckets": buckets}

    def requests(self, args: Arguments, options: Params, sql_of: SqlOf) -> FitRequest:
        n = options["buckets"]
        points = ", ".join(number_text(k / n) for k in range(1, n))
        return FitRequest({"splits": (f"PERCENTILE({present_double(sql_of(args[0]))}, "
                                      f"ARRAY[{points}])", n - 1)})

    def fitted_text(self, args: Arguments, options: Params, result: FitResult) -> str:
        splits = sorted({float(v) for v in result.aggregates["splits"] or [] if v is not None})
        if not splits:  # no non-NULL training value: one bucket
            splits = [0.0]
        return f"ML_BUCKETIZE({args[0].text}, {array_text(splits)})"


class KBinsDiscretize(FeatureFunction):
    name = "ML_KBINS_DISCRETIZER"
    fittable = True
    fitted_usage = ("ML_KBINS_DISCRETIZER(x, bins [, 'uniform' | 'quantile' | 'kmeans' "
                    "[, sub_samples]]) OVER ()")
    usage = f"{fitted_usage} inside TRANSFORM, or ML_BUCKETIZE(x, ARRAY[...], 'index')"
    STRATEGIES = ("uniform", "quantile", "kmeans")
    SUB_SAMPLES = 200_000

    def explicit(self, args: Arguments, call: ir.FeatureCall) -> Params:
        raise FeatureArgumentError(
            f"{self.name} fits its bin edges at training: use {self.fitted_usage} inside "
            "CREATE MODEL ... TRANSFORM (...), or ML_BUCKETIZE(x, ARRAY[edge, ...], 'index')",
            call.position)

    def fit_options(self, args: Arguments, call: ir.FeatureCall) -> Params:
        self.count(args, call, 2, 4, self.fitted_usage)
        bins = self.integer(args[1], "number of bins", 2)
        strategy = self.choice(args[2], "strategy", self.STRATEGIES) if len(args) > 2 \
            else "quantile"
        sub_samples = self.integer(args[3], "sub_samples", 2) if len(args) > 3 \
            else self.SUB_SAMPLES
        return {"bins": bins, "strategy": strategy, "sub_samples": sub_samples}

    def requests(self, args: Arguments, options: Params, sql_of: SqlOf) -> FitRequest:
        return FitRequest(sample=(present_double(sql_of(args[0])), options["sub_samples"]))

    def fitted_text(self, args: Arguments, options: Params, result: FitResult) -> str:
        edges = kbins_edges(result.sample, options["bins"], options["strategy"])
        inner = edges[1:-1] if edges else []
        if not inner:  # a constant column, or one bin left: every value in bin 0
            return constant_where_present(args[0].text, "0E0")
        return f"ML_BUCKETIZE({args[0].text}, {array_text(inner)}, 'index')"


def kbins_edges(values: list[float], bins: int, strategy: str) -> list[float] | None:
    """Flink ML's KBinsDiscretizer bin edges, first and last included; None for a constant
    column (or no values)."""
    data = np.sort(np.asarray(values, dtype=float))
    if not len(data) or data[0] == data[-1]:
        return None
    if strategy == "uniform" or (strategy == "kmeans" and len(np.unique(data)) <= bins):
        width = (data[-1] - data[0]) / bins
        return [float(e) for e in itertools.accumulate([data[0]] + [width] * bins)]
    starts = [float(data[int(i * len(data) / bins)]) for i in range(bins)]
    if strategy == "quantile":
        return sorted({*starts, float(data[-1])})
    centroids = _kmeans_1d(data, np.array(starts))
    middles = [(a + b) / 2 for a, b in itertools.pairwise(centroids)]
    return [float(data[0]), *[m for m in middles if not math.isnan(m)], float(data[-1])]


def _kmeans_1d(data: np.ndarray, centroids: np.ndarray, tolerance: float = 1e-4,
               max_iterations: int = 300) -> list[float]:
    """Lloyd's iterations on sorted values until the mean distance moves by <= tolerance; a
    cluster that loses every value keeps no centroid (NaN, sorted last)."""
    previous = math.inf
    for _ in range(max_iterations):
        distances = np.abs(data[:, None] - centroids[None, :])
        nearest = np.nanargmin(distances, axis=1)
        loss = float(np.nanmin(distances, axis=1).mean())
        counts = np.bincount(nearest, minlength=len(centroids))
        sums = np.bincount(nearest, weights=data, minlength=len(centroids))
        with np.errstate(invalid="ignore", divide="ignore"):
            centroids = sums / counts
        if abs(loss - previous) <= tolerance:
            break
        previous = loss
    return sorted(centroids.tolist(), key=lambda c: (math.isnan(c), c))


FEATURE_FUNCTIONS = (Bucketize(), QuantileBucketize(), KBinsDiscretize())

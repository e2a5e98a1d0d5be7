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
"""

from __future__ import annotations

import itertools

from mlsql.feature_functions.base import (
    Arguments,
    FeatureArgumentError,
    FeatureFunction,
    FitRequest,
    FitResult,
    Params,
    SqlOf,
    array_text,
    as_double,
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
        self.count(args, call, 2, 3)
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
        if len(args) == 3:
            names = self.literal_array(args[2], "bucket names", str)
            if len(names) != len(splits) + 2:
                raise FeatureArgumentError(
                    f"{self.name} needs {len(splits) + 2} bucket names (the NULL bucket's "
                    f"first), found {len(names)}", args[2].position)
        return {"splits": splits, "names": names}

    def elements(self, args: Arguments, params: Params, sql_of: SqlOf) -> list[str]:
        x = as_double(sql_of(args[0]))
        names = [quote_literal(n) for n in params["names"]]
        arms = [f"WHEN {x} < {number_text(s)} THEN {names[i + 1]}"
                for i, s in enumerate(params["splits"])]
        return [f"CASE WHEN {is_missing(x)} THEN {names[0]} {' '.join(arms)} "
                f"ELSE {names[-1]} END"]


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


FEATURE_FUNCTIONS = (Bucketize(), QuantileBucketize())

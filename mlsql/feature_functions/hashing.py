"""Feature hashing: values into a fixed number of buckets, with no vocabulary.

    ML_FEATURE_HASHING(ARRAY[a, b, ...], num_features)   ARRAY<DOUBLE> of num_features: how
        many of the inputs hash to each bucket. An input is hashed as CAST(x AS STRING) with
        Flink's HASH_CODE (the absolute value of Java's String.hashCode), bucket = hash mod
        num_features (made non-negative); NULL inputs are skipped. (scikit-learn's
        FeatureHasher uses MurmurHash3 and alternating signs: the same idea, other buckets.)
"""

from __future__ import annotations

from mlsql.feature_functions.base import (
    Arguments,
    FeatureArgumentError,
    FeatureFunction,
    Params,
    SqlOf,
)
from mlsql.feature_functions.encoders import as_string
from mlsql.syntax import ir
from udfs.text import bucket_of

MAX_FEATURES = 4096


__all__ = ["FeatureHashing", "bucket_of", "bucket_sql"]


def bucket_sql(sql: str, buckets: int) -> str:
    return f"MOD(MOD(HASH_CODE({as_string(sql)}), {buckets}) + {buckets}, {buckets})"


class FeatureHashing(FeatureFunction):
    name = "ML_FEATURE_HASHING"
    array = True
    usage = "ML_FEATURE_HASHING(ARRAY[a, b, ...], num_features)"

    def explicit(self, args: Arguments, call: ir.FeatureCall) -> Params:
        self.count(args, call, 2, 2)
        self.expressions(args[0], "input")
        buckets = self.integer(args[1], "num_features")
        if buckets > MAX_FEATURES:
            raise FeatureArgumentError(f"{self.name}'s num_features is at most {MAX_FEATURES}",
                                       args[1].position)
        return {"buckets": buckets}

    def elements(self, args: Arguments, params: Params, sql_of: SqlOf) -> list[str]:
        n = params["buckets"]
        hashed = [bucket_sql(sql_of(e), n) for e in args[0].elements or ()]
        return [" + ".join(f"CASE WHEN {h} = {j} THEN 1E0 ELSE 0E0 END" for h in hashed)
                for j in range(n)]

    def width(self, params: Params) -> list[int]:
        return list(range(params["buckets"]))


FEATURE_FUNCTIONS = (FeatureHashing(),)

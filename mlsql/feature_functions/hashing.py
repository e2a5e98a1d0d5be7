"""Feature hashing: values into a fixed number of buckets, with no vocabulary.

    ML_FEATURE_HASHING(ARRAY[a, b, ...], num_features)   ARRAY<DOUBLE> of num_features: how
        many of the inputs hash to each bucket. An input is hashed as CAST(x AS STRING) with
        Flink's HASH_CODE (the absolute value of Java's String.hashCode), bucket = hash mod
        num_features (made non-negative); NULL inputs are skipped. (scikit-learn's
        FeatureHasher uses MurmurHash3 and alternating signs: the same idea, other buckets.)
        Plain SQL up to 256 (bucket, input) pairs, a pandas UDF above (whose cost grows with
        the inputs, not with num_features).
    ML_FEATURE_HASHING(ARRAY[a, b, ...], num_features, 'flink-ml', ARRAY['a', 'b', ...]
                       [, ARRAY['categorical', ...]])
        MAP<INT, DOUBLE>: Flink ML's FeatureHasher, a sparse vector of up to 2147483647
        features (Flink ML's default 262,144). The second array names the inputs (Flink ML
        hashes the column's name); a numeric input adds its value at |MurmurHash3(name)| mod
        num_features, a categorical one (a STRING or BOOLEAN, or named in the third array) 1
        at that of 'name=value' (Java's text of the value). NULL inputs are skipped. The
        inputs may differ in type (each is its own UDF argument). A pandas UDF.
"""

from __future__ import annotations

from typing import Any

from mlsql.feature_functions.base import (
    Arguments,
    FeatureArgumentError,
    FeatureFunction,
    Params,
    SqlOf,
)
from mlsql.feature_functions.encoders import as_string
from mlsql.feature_functions.python_udfs import MAX_SPARSE_FEATURES, register_udf
from mlsql.syntax import ir
from udfs.hashing import FeatureHashingFunction, FlinkMlFeatureHasherFunction
from udfs.text import bucket_of

MAX_FEATURES = 4096  # an ARRAY's elements are columns in TRANSFORM


# Up to this many (bucket, input) terms the dense form is SQL (each a CASE: planning grows
# with their number, 34 s at 300 buckets of 2 inputs); more, a pandas UDF.
MAX_SQL_TERMS = 256

__all__ = ["FeatureHashing", "bucket_of", "bucket_sql"]


def bucket_sql(sql: str, buckets: int) -> str:
    return f"MOD(MOD(HASH_CODE({as_string(sql)}), {buckets}) + {buckets}, {buckets})"


class FeatureHashing(FeatureFunction):
    name = "ML_FEATURE_HASHING"
    array = True
    usage = ("ML_FEATURE_HASHING(ARRAY[a, b, ...], num_features [, 'flink-ml', "
             "ARRAY['a', 'b', ...] [, ARRAY['categorical', ...]]])")

    def explicit(self, args: Arguments, call: ir.FeatureCall) -> Params:
        self.count(args, call, 2, 5)
        inputs = self.expressions(args[0], "input")
        buckets = self.integer(args[1], "num_features")
        if len(args) == 2:
            if buckets > MAX_FEATURES:
                raise FeatureArgumentError(
                    f"{self.name}'s num_features is at most {MAX_FEATURES} as an array; more "
                    f"as Flink ML's sparse MAP (the 'flink-ml' form)", args[1].position)
            return {"buckets": buckets, "sparse": False}
        self.count(args, call, 4, 5)
        self.choice(args[2], "rule", ("flink-ml",))
        names = self.literal_array(args[3], "input names", str)
        if len(names) != len(inputs):
            raise FeatureArgumentError(f"{self.name} names {len(names)} inputs of "
                                       f"{len(inputs)}", args[3].position)
        categorical = self.literal_array(args[4], "categorical names", str) \
            if len(args) > 4 else []
        if not set(categorical) <= set(names):  # Flink ML's message
            raise FeatureArgumentError("CategoricalCols must be included in inputCols!",
                                       args[4].position)
        if buckets > MAX_SPARSE_FEATURES:
            raise FeatureArgumentError(f"{self.name}'s num_features is at most "
                                       f"{MAX_SPARSE_FEATURES}", args[1].position)
        return {"buckets": buckets, "sparse": True, "names": names,
                "categorical": categorical}

    def expands(self, params: Params) -> bool:
        return not params["sparse"]

    def render(self, args: Arguments, params: Params, sql_of: SqlOf, runtime: Any) -> str:
        buckets, elements = params["buckets"], args[0].elements or ()
        if params["sparse"]:
            names, categorical = params["names"], params["categorical"]
            name = register_udf(runtime, self.name, "flink_ml_feature_hasher",
                                f"{buckets}|{names}|{categorical}",
                                FlinkMlFeatureHasherFunction(names, categorical, buckets),
                                "MAP<INT, DOUBLE>")
            return f"{name}({', '.join(sql_of(e) for e in elements)})"
        if buckets * len(elements) <= MAX_SQL_TERMS:  # plain SQL: no Python worker
            return super().render(args, params, sql_of, runtime)
        name = register_udf(runtime, self.name, "feature_hashing", str(buckets),
                            FeatureHashingFunction(buckets), "ARRAY<DOUBLE>")
        strings = ", ".join(as_string(sql_of(e)) for e in elements)
        return f"{name}(ARRAY[{strings}])"

    def elements(self, args: Arguments, params: Params, sql_of: SqlOf) -> list[str]:
        n = params["buckets"]
        hashed = [bucket_sql(sql_of(e), n) for e in args[0].elements or ()]
        return [" + ".join(f"CASE WHEN {h} = {j} THEN 1E0 ELSE 0E0 END" for h in hashed)
                for j in range(n)]

    def expand(self, args: Arguments, params: Params, sql_of: SqlOf, runtime: Any) -> list[str]:
        if params["buckets"] * len(args[0].elements or ()) <= MAX_SQL_TERMS:
            return self.elements(args, params, sql_of)
        array = self.render(args, params, sql_of, runtime)
        return [f"({array})[{i + 1}]" for i in range(params["buckets"])]

    def width(self, params: Params) -> list[int]:
        return list(range(params["buckets"]))


FEATURE_FUNCTIONS = (FeatureHashing(),)

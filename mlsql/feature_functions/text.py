"""Text: tokenize, n-grams, hashed term frequencies and IDF weighting.

    ML_TOKENIZE(text)   ARRAY<STRING>: the text lower-cased, split on whitespace (Flink ML's
        Tokenizer); NULL gives NULL. Plain SQL (SPLIT).
    ML_NGRAMS(tokens, n [, separator])   ARRAY<STRING>: runs of n tokens joined by separator
        (default ' '); fewer than n tokens: empty. A pandas UDF (udfs/text.py).
    ML_HASHING_TF(tokens, num_features)   ARRAY<DOUBLE>: token counts per bucket, a token's
        bucket being as in ML_FEATURE_HASHING (HASH_CODE mod num_features). A pandas
        UDF.
    ML_IDF(tf, ARRAY[df_1, ...], num_docs)   ARRAY<DOUBLE>: tf_i * ln((num_docs + 1) /
        (df_i + 1)) (Flink ML's and Spark's IDF; scikit-learn's smooth idf adds 1). Plain SQL.
    ML_IDF(tf, num_features) OVER ()   (TRANSFORM only): num_docs = the rows with a tf array,
        df_i = the rows whose tf_i > 0.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from typing import Any

from mlsql.feature_functions.base import (
    Arguments,
    FeatureArgumentError,
    FeatureFunction,
    FitRequest,
    FitResult,
    Params,
    SqlOf,
    array_text,
    number_text,
)
from mlsql.feature_functions.hashing import MAX_FEATURES
from mlsql.syntax import ir
from udfs.text import HashingTfFunction, NGramsFunction

# The feature functions that run as pandas UDFs (no SQL form).
PYTHON_UDF_FUNCTIONS = ("ML_NGRAMS", "ML_HASHING_TF")
UDF_PREFIX = "__mlsql_text_"  # their registered names


class Tokenize(FeatureFunction):
    name = "ML_TOKENIZE"
    usage = "ML_TOKENIZE(text)"

    def explicit(self, args: Arguments, call: ir.FeatureCall) -> Params:
        self.count(args, call, 1, 1)
        return {}

    def render(self, args: Arguments, params: Params, sql_of: SqlOf, runtime: Any) -> str:
        text = f"CAST({sql_of(args[0])} AS STRING)"
        return f"SPLIT(REGEXP_REPLACE(TRIM(LOWER({text})), '\\s+', ' '), ' ')"


def _register(runtime: Any, kind: str, settings: str, function: Callable[..., Any],
              result_type: str) -> str:
    if runtime is None:
        raise FeatureArgumentError(f"ML_{kind.upper()} runs as a Python UDF, which needs a "
                                   "session", ir.Position(1, 1))
    name = f"{UDF_PREFIX}{kind}_{hashlib.sha1(settings.encode()).hexdigest()[:10]}"
    runtime.ensure_pandas_function(name, function, result_type)
    return name


class NGrams(FeatureFunction):
    name = "ML_NGRAMS"
    usage = "ML_NGRAMS(tokens, n [, 'separator'])"

    def explicit(self, args: Arguments, call: ir.FeatureCall) -> Params:
        self.count(args, call, 2, 3)
        n = self.integer(args[1], "n")
        separator = self.string(args[2], "separator") if len(args) > 2 else " "
        return {"n": n, "separator": separator}

    def render(self, args: Arguments, params: Params, sql_of: SqlOf, runtime: Any) -> str:
        n, separator = params["n"], params["separator"]
        name = _register(runtime, "ngrams", f"{n}|{separator}", NGramsFunction(n, separator),
                         "ARRAY<STRING>")
        return f"{name}({sql_of(args[0])})"


class HashingTf(FeatureFunction):
    name = "ML_HASHING_TF"
    array = True
    usage = "ML_HASHING_TF(tokens, num_features)"

    def explicit(self, args: Arguments, call: ir.FeatureCall) -> Params:
        self.count(args, call, 2, 2)
        buckets = self.integer(args[1], "num_features")
        if buckets > MAX_FEATURES:
            raise FeatureArgumentError(f"{self.name}'s num_features is at most {MAX_FEATURES}",
                                       args[1].position)
        return {"buckets": buckets}

    def render(self, args: Arguments, params: Params, sql_of: SqlOf, runtime: Any) -> str:
        buckets = params["buckets"]
        name = _register(runtime, "hashing_tf", str(buckets), HashingTfFunction(buckets),
                         "ARRAY<DOUBLE>")
        return f"{name}({sql_of(args[0])})"

    def width(self, params: Params) -> list[int]:
        return list(range(params["buckets"]))

    def expand(self, args: Arguments, params: Params, sql_of: SqlOf, runtime: Any) -> list[str]:
        array = self.render(args, params, sql_of, runtime)
        return [f"({array})[{i + 1}]" for i in range(params["buckets"])]


class Idf(FeatureFunction):
    name = "ML_IDF"
    array = True
    fittable = True
    usage = "ML_IDF(tf, ARRAY[document_frequency, ...], num_docs [, min_doc_freq])"
    fitted_usage = "ML_IDF(tf, num_features [, min_doc_freq]) OVER ()"

    def explicit(self, args: Arguments, call: ir.FeatureCall) -> Params:
        self.count(args, call, 3, 4)
        frequencies = self.literal_array(args[1], "document frequencies", float)
        docs = self.number(args[2], "num_docs")
        if not frequencies or min(frequencies) < 0 or docs < max(frequencies):
            raise FeatureArgumentError(f"{self.name} needs 0 <= document frequency <= "
                                       "num_docs", args[1].position)
        least = self.integer(args[3], "min_doc_freq", 0) if len(args) > 3 else 0
        # Flink ML's IDF: a term in fewer than min_doc_freq documents weighs 0
        return {"weights": [math.log((docs + 1) / (df + 1)) if df >= least else 0.0
                            for df in frequencies]}

    def elements(self, args: Arguments, params: Params, sql_of: SqlOf) -> list[str]:
        tf = sql_of(args[0])
        return [f"CAST(({tf})[{i + 1}] AS DOUBLE) * {number_text(w)}"
                for i, w in enumerate(params["weights"])]

    def width(self, params: Params) -> list[int]:
        return list(range(len(params["weights"])))

    def fit_options(self, args: Arguments, call: ir.FeatureCall) -> Params:
        self.count(args, call, 2, 3, self.fitted_usage)
        buckets = self.integer(args[1], "num_features")
        if buckets > MAX_FEATURES:
            raise FeatureArgumentError(f"{self.name}'s num_features is at most {MAX_FEATURES}",
                                       args[1].position)
        least = self.integer(args[2], "min_doc_freq", 0) if len(args) > 2 else 0
        return {"buckets": buckets, "min_doc_freq": least}

    def requests(self, args: Arguments, options: Params, sql_of: SqlOf) -> FitRequest:
        tf = sql_of(args[0])
        aggregates = {"docs": f"COUNT({tf})"}
        for i in range(options["buckets"]):
            aggregates[f"df{i}"] = (f"SUM(CASE WHEN ({tf})[{i + 1}] > 0 THEN CAST(1 AS BIGINT) "
                                    "ELSE CAST(0 AS BIGINT) END)")
        return FitRequest(aggregates)

    def fitted_text(self, args: Arguments, options: Params, result: FitResult) -> str:
        values = result.aggregates
        frequencies = [float(values[f"df{i}"] or 0) for i in range(options["buckets"])]
        least = options.get("min_doc_freq", 0)
        return (f"{self.name}({args[0].text}, {array_text(frequencies)}, "
                f"{number_text(float(values['docs'] or 0))}{f', {least}' if least else ''})")



FEATURE_FUNCTIONS = (Tokenize(), NGrams(), HashingTf(), Idf())

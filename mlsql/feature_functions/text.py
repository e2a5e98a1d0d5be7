"""Text: tokenize, n-grams, hashed term frequencies and IDF weighting.

    ML_TOKENIZE(text)   ARRAY<STRING>: the text lower-cased, split on whitespace (Flink ML's
        Tokenizer); NULL gives NULL. Plain SQL (SPLIT).
    ML_REGEX_TOKENIZE(text, pattern [, gaps [, min_token_length [, to_lowercase]]])
        ARRAY<STRING>: Flink ML's RegexTokenizer: the text (lower-cased unless to_lowercase is
        FALSE) split at the Java regex `pattern` (gaps TRUE, the default) or its matches
        (gaps FALSE), keeping tokens of at least min_token_length (1) characters; NULL gives
        NULL. Plain SQL (Flink's REGEXP functions are Java's regex).
    ML_NGRAMS(tokens, n [, separator])   ARRAY<STRING>: runs of n tokens joined by separator
        (default ' '); fewer than n tokens: empty. A pandas UDF (udfs/text.py).
    ML_HASHING_TF(tokens, num_features)   ARRAY<DOUBLE>: token counts per bucket, a token's
        bucket being as in ML_FEATURE_HASHING (HASH_CODE mod num_features). A pandas
        UDF.
    ML_HASHING_TF(tokens, num_features, binary, 'flink-ml' [, sparse])   MAP<INT, DOUBLE>:
        Flink ML's HashingTF, a sparse vector (index -> count, or 1 with binary TRUE) of up
        to 2147483647 features (Flink ML's default 262,144), a token's index being its
        MurmurHash3 (Flink ML's hash) mod num_features; with sparse FALSE the ARRAY<DOUBLE>
        (up to 4,096). A pandas UDF.
    ML_IDF(tf, ARRAY[df_1, ...], num_docs)   ARRAY<DOUBLE>: tf_i * ln((num_docs + 1) /
        (df_i + 1)) (Flink ML's and Spark's IDF; scikit-learn's smooth idf adds 1). Plain SQL.
    ML_IDF(tf, num_features) OVER ()   (TRANSFORM only): num_docs = the rows with a tf array,
        df_i = the rows whose tf_i > 0.
"""

from __future__ import annotations

import math
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
from mlsql.feature_functions.python_udfs import MAX_SPARSE_FEATURES, register_udf
from mlsql.syntax import ir
from mlsql.syntax.dialect import quote_literal
from udfs.text import FlinkMlHashingTfFunction, HashingTfFunction, NGramsFunction


class Tokenize(FeatureFunction):
    name = "ML_TOKENIZE"
    usage = "ML_TOKENIZE(text)"

    def explicit(self, args: Arguments, call: ir.FeatureCall) -> Params:
        self.count(args, call, 1, 1)
        return {}

    def render(self, args: Arguments, params: Params, sql_of: SqlOf, runtime: Any) -> str:
        text = f"CAST({sql_of(args[0])} AS STRING)"
        return f"SPLIT(REGEXP_REPLACE(TRIM(LOWER({text})), '\\s+', ' '), ' ')"


class RegexTokenize(FeatureFunction):
    name = "ML_REGEX_TOKENIZE"
    usage = ("ML_REGEX_TOKENIZE(text, 'pattern' [, gaps [, min_token_length "
             "[, to_lowercase]]])")

    def explicit(self, args: Arguments, call: ir.FeatureCall) -> Params:
        self.count(args, call, 2, 5)
        return {"pattern": self.string(args[1], "pattern"),
                "gaps": self.flag(args[2], "gaps") if len(args) > 2 else True,
                "min_length": self.integer(args[3], "min_token_length")
                if len(args) > 3 else 1,
                "lower": self.flag(args[4], "to_lowercase") if len(args) > 4 else True}

    def render(self, args: Arguments, params: Params, sql_of: SqlOf, runtime: Any) -> str:
        text = f"CAST({sql_of(args[0])} AS STRING)"
        if params["lower"]:
            text = f"LOWER({text})"
        pattern = quote_literal(params["pattern"])
        # The tokens joined by \x01 (a character no text token holds), then split at it
        pieces = (f"REGEXP_REPLACE({text}, {pattern}, CHR(1))" if params["gaps"]
                  else f"ARRAY_JOIN(REGEXP_EXTRACT_ALL({text}, {pattern}, 0), CHR(1))")
        shortest = params["min_length"]
        if shortest > 1:  # drop the tokens shorter than that
            short = f"'(?<=^|\\x01)[^\\x01]{{0,{shortest - 1}}}(?=\\x01|$)'"
            pieces = f"REGEXP_REPLACE({pieces}, {short}, '')"
        return f"ARRAY_REMOVE(SPLIT({pieces}, CHR(1)), '')"


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
        name = register_udf(runtime, self.name, "ngrams", f"{n}|{separator}",
                            NGramsFunction(n, separator), "ARRAY<STRING>")
        return f"{name}({sql_of(args[0])})"


class HashingTf(FeatureFunction):
    name = "ML_HASHING_TF"
    array = True
    usage = "ML_HASHING_TF(tokens, num_features [, binary, 'flink-ml'])"

    def explicit(self, args: Arguments, call: ir.FeatureCall) -> Params:
        self.count(args, call, 2, 5)
        buckets = self.integer(args[1], "num_features")
        params: Params = {"buckets": buckets, "flink_ml": len(args) > 2, "sparse": False}
        if params["flink_ml"]:  # Flink ML's hash, as a sparse vector unless asked otherwise
            self.count(args, call, 4, 5)
            self.choice(args[3], "rule", ("flink-ml",))
            params["binary"] = self.flag(args[2], "binary")
            params["sparse"] = self.flag(args[4], "sparse") if len(args) > 4 else True
        limit = MAX_SPARSE_FEATURES if params["sparse"] else MAX_FEATURES
        if buckets > limit:
            more = ("" if params["sparse"] else f"; more as a sparse MAP: {self.name}(tokens, "
                    "n, FALSE, 'flink-ml')")
            raise FeatureArgumentError(f"{self.name}'s num_features is at most {limit}{more}",
                                       args[1].position)
        return params

    def expands(self, params: Params) -> bool:
        return not params["sparse"]

    def render(self, args: Arguments, params: Params, sql_of: SqlOf, runtime: Any) -> str:
        buckets = params["buckets"]
        if params["flink_ml"]:
            binary, sparse = params["binary"], params["sparse"]
            name = register_udf(runtime, self.name, "hashing_tf_flink_ml",
                                f"{buckets}|{binary}|{sparse}",
                                FlinkMlHashingTfFunction(buckets, binary, dense=not sparse),
                                "MAP<INT, DOUBLE>" if sparse else "ARRAY<DOUBLE>")
            return f"{name}({sql_of(args[0])})"
        name = register_udf(runtime, self.name, "hashing_tf", str(buckets),
                            HashingTfFunction(buckets), "ARRAY<DOUBLE>")
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



FEATURE_FUNCTIONS = (Tokenize(), RegexTokenize(), NGrams(), HashingTf(), Idf())

"""Term counts over a fitted vocabulary: Flink ML's CountVectorizer.

    ML_COUNT_VECTORIZER(tokens, ARRAY['term', ...] [, min_tf [, binary [, sparse]]])
        MAP<INT, DOUBLE>: each vocabulary term's count in the token array, at its index in
        the list (a sparse vector, as HashingTF's), kept where it reaches min_tf (1: a count;
        below 1, a fraction of the array's tokens); 1 instead of the count with binary TRUE;
        with sparse FALSE the ARRAY<DOUBLE> of the vocabulary's size (at most 4,096). A NULL
        array gives NULL. A pandas UDF (udfs/text.py).
    ML_COUNT_VECTORIZER(tokens [, vocabulary_size [, min_df [, max_df [, min_tf [, binary
            [, sparse]]]]]]) OVER ()   (TRANSFORM only)
        The vocabulary: the terms of at least min_df (1) and at most max_df training arrays
        (below 1: a fraction of the rows), most frequent first (equal counts by term), the
        first vocabulary_size (262,144).
"""

from __future__ import annotations

from typing import Any

from mlsql.errors import MlsqlError
from mlsql.feature_functions.base import (
    Arguments,
    FeatureArgumentError,
    FeatureFunction,
    FitRequest,
    FitResult,
    Params,
    SqlOf,
    Vocabulary,
    array_text,
    number_text,
)
from mlsql.feature_functions.hashing import MAX_FEATURES
from mlsql.feature_functions.python_udfs import register_udf
from mlsql.syntax import ir
from udfs.text import CountVectorizerFunction

DEFAULT_VOCABULARY_SIZE = 1 << 18
NO_MAX_DF = float(2**63 - 1)  # Flink ML's default: Long.MAX_VALUE


def df_order_problem(min_df: float, max_df: float, rows: int | None = None) -> str | None:
    """Flink ML's message when max_df < min_df: checked at once where both are counts or both
    fractions (rows None), else once the training rows are counted."""
    if rows is None:
        comparable = (min_df >= 1.0) == (max_df >= 1.0)
        return "maxDF must be >= minDF." if comparable and max_df < min_df else None
    least, most = (df if df >= 1.0 else df * rows for df in (min_df, max_df))
    return "maxDF must be >= minDF." if most < least else None


class CountVectorizer(FeatureFunction):
    name = "ML_COUNT_VECTORIZER"
    array = True
    fittable = True
    usage = ("ML_COUNT_VECTORIZER(tokens, ARRAY['term', ...] [, min_tf [, binary "
             "[, sparse]]])")
    fitted_usage = ("ML_COUNT_VECTORIZER(tokens [, vocabulary_size [, min_df [, max_df "
                    "[, min_tf [, binary [, sparse]]]]]]) OVER ()")

    def explicit(self, args: Arguments, call: ir.FeatureCall) -> Params:
        self.count(args, call, 2, 5)
        vocabulary = self.literal_array(args[1], "vocabulary", str)
        params = self._counting(args, 2)
        if not params["sparse"] and len(vocabulary) > MAX_FEATURES:
            raise FeatureArgumentError(f"{self.name} with sparse FALSE is an ARRAY of at most "
                                       f"{MAX_FEATURES} terms", args[1].position)
        return {"vocabulary": vocabulary, **params}

    def _counting(self, args: Arguments, first: int) -> Params:
        """min_tf, binary and sparse, from args[first] on."""
        min_tf = self.number(args[first], "min_tf") if len(args) > first else 1.0
        if min_tf < 0:
            raise FeatureArgumentError(f"{self.name}'s min_tf must be >= 0",
                                       args[first].position)
        binary = self.flag(args[first + 1], "binary") if len(args) > first + 1 else False
        sparse = self.flag(args[first + 2], "sparse") if len(args) > first + 2 else True
        return {"min_tf": min_tf, "binary": binary, "sparse": sparse}

    def expands(self, params: Params) -> bool:
        return not params["sparse"]

    def render(self, args: Arguments, params: Params, sql_of: SqlOf, runtime: Any) -> str:
        vocabulary, min_tf, binary = params["vocabulary"], params["min_tf"], params["binary"]
        sparse = params["sparse"]
        name = register_udf(runtime, self.name, "count_vectorizer",
                            f"{min_tf}|{binary}|{sparse}|{vocabulary!r}",
                            CountVectorizerFunction(vocabulary, min_tf, binary,
                                                    dense=not sparse),
                            "MAP<INT, DOUBLE>" if sparse else "ARRAY<DOUBLE>")
        return f"{name}({sql_of(args[0])})"

    def width(self, params: Params) -> list[int]:
        return list(range(len(params["vocabulary"])))

    def expand(self, args: Arguments, params: Params, sql_of: SqlOf, runtime: Any) -> list[str]:
        array = self.render(args, params, sql_of, runtime)
        return [f"({array})[{i + 1}]" for i in range(len(params["vocabulary"]))]

    def fit_options(self, args: Arguments, call: ir.FeatureCall) -> Params:
        self.count(args, call, 1, 7, self.fitted_usage)
        size = (self.integer(args[1], "vocabulary_size") if len(args) > 1
                else DEFAULT_VOCABULARY_SIZE)
        if size > DEFAULT_VOCABULARY_SIZE:
            raise FeatureArgumentError(f"{self.name}'s vocabulary_size is at most "
                                       f"{DEFAULT_VOCABULARY_SIZE:,}", args[1].position)
        min_df = self.number(args[2], "min_df") if len(args) > 2 else 1.0
        max_df = self.number(args[3], "max_df") if len(args) > 3 else NO_MAX_DF
        if min(min_df, max_df) < 0 or (problem := df_order_problem(min_df, max_df)):
            raise FeatureArgumentError(f"{self.name}: " + (
                "min_df and max_df must be >= 0" if min(min_df, max_df) < 0 else problem),
                args[2].position)
        return {"vocabulary_size": size, "min_df": min_df, "max_df": max_df,
                **self._counting(args, 4)}

    def requests(self, args: Arguments, options: Params, sql_of: SqlOf) -> FitRequest:
        filtered = options["min_df"] != 1.0 or options["max_df"] != NO_MAX_DF
        # Filtered by document counts, every term is fetched (the top ones may be dropped)
        wanted = DEFAULT_VOCABULARY_SIZE if filtered else options["vocabulary_size"]
        return FitRequest({"documents": "COUNT(*)"},
                          vocabulary=Vocabulary(sql_of(args[0]), wanted, elements=True))

    def fitted_text(self, args: Arguments, options: Params, result: FitResult) -> str:
        rows = int(result.aggregates["documents"] or 0)
        min_df, max_df = options["min_df"], options["max_df"]
        if problem := df_order_problem(min_df, max_df, rows):
            raise MlsqlError(problem)
        least, most = (df if df >= 1.0 else df * rows for df in (min_df, max_df))
        terms = [term for term, documents in result.vocabulary if least <= documents <= most]
        terms = terms[:options["vocabulary_size"]]
        extra = [number_text(options["min_tf"]), str(options["binary"]).upper(),
                 str(options["sparse"]).upper()]
        return f"{self.name}({args[0].text}, {array_text(terms)}, {', '.join(extra)})"


FEATURE_FUNCTIONS = (CountVectorizer(),)

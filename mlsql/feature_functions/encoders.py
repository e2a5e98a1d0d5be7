"""Label and one-hot encoding against a vocabulary.

    ML_LABEL_ENCODER(x, ARRAY['a', 'b', ...])    BIGINT: k for the k-th vocabulary value;
        0 for NULL and for any value not in the vocabulary
    ML_ONE_HOT_ENCODER(x, ARRAY['a', 'b', ...])  ARRAY<DOUBLE> of n + 1: a 1 at the value's
        place, the last place is the "other" bucket (NULL and unseen values)

Fitted (`OVER ()`, TRANSFORM only): `ML_LABEL_ENCODER(x [, top_k [, min_count]]) OVER ()` and
the same for ML_ONE_HOT_ENCODER: the vocabulary is the top_k (default 32,000) most frequent
non-NULL values seen at least min_count (default 1) times in the training rows, then sorted
(BigQuery's rule); the rest fall in bucket 0 / "other". Values are compared as STRINGs.
In TRANSFORM, a one-hot column `AS c` expands to `c_1`, ..., `c_n` and `c_other`.
"""

from __future__ import annotations

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
)
from mlsql.syntax import ir
from mlsql.syntax.dialect import quote_literal

DEFAULT_TOP_K = 32_000


def as_string(sql: str) -> str:
    return f"CAST({sql} AS STRING)"


class _Encoder(FeatureFunction):
    fittable = True

    def explicit(self, args: Arguments, call: ir.FeatureCall) -> Params:
        self.count(args, call, 2, 2)
        vocabulary = self.literal_array(args[1], "vocabulary", str)
        if len(set(vocabulary)) != len(vocabulary):
            raise FeatureArgumentError(f"{self.name}'s vocabulary repeats a value",
                                       args[1].position)
        return {"vocabulary": vocabulary}

    def fit_options(self, args: Arguments, call: ir.FeatureCall) -> Params:
        self.count(args, call, 1, 3, self.fitted_usage)
        top_k = self.integer(args[1], "top_k") if len(args) > 1 else DEFAULT_TOP_K
        min_count = self.integer(args[2], "min_count") if len(args) > 2 else 1
        return {"top_k": top_k, "min_count": min_count}

    def requests(self, args: Arguments, options: Params, sql_of: SqlOf) -> FitRequest:
        return FitRequest(vocabulary=Vocabulary(as_string(sql_of(args[0])), options["top_k"],
                                                options["min_count"]))

    def fitted_text(self, args: Arguments, options: Params, result: FitResult) -> str:
        values = sorted(value for value, _ in result.vocabulary)
        return f"{self.name}({args[0].text}, {array_text(values)})"


class LabelEncoder(_Encoder):
    name = "ML_LABEL_ENCODER"
    usage = "ML_LABEL_ENCODER(x, ARRAY['value', ...])"
    fitted_usage = "ML_LABEL_ENCODER(x [, top_k [, min_count]]) OVER ()"

    def elements(self, args: Arguments, params: Params, sql_of: SqlOf) -> list[str]:
        x = as_string(sql_of(args[0]))
        arms = " ".join(f"WHEN {quote_literal(v)} THEN CAST({i + 1} AS BIGINT)"
                        for i, v in enumerate(params["vocabulary"]))
        if not arms:
            return ["CAST(0 AS BIGINT)"]
        return [f"COALESCE(CASE {x} {arms} END, CAST(0 AS BIGINT))"]


class OneHotEncoder(_Encoder):
    name = "ML_ONE_HOT_ENCODER"
    array = True
    usage = "ML_ONE_HOT_ENCODER(x, ARRAY['value', ...])"
    fitted_usage = "ML_ONE_HOT_ENCODER(x [, top_k [, min_count]]) OVER ()"

    def elements(self, args: Arguments, params: Params, sql_of: SqlOf) -> list[str]:
        x = as_string(sql_of(args[0]))
        vocabulary = params["vocabulary"]
        parts = [f"CASE WHEN {x} = {quote_literal(v)} THEN 1E0 ELSE 0E0 END"
                 for v in vocabulary]
        known = ", ".join(quote_literal(v) for v in vocabulary)
        other = (f"CASE WHEN {x} IS NOT NULL AND {x} IN ({known}) THEN 0E0 ELSE 1E0 END"
                 if vocabulary else "1E0")
        return [*parts, other]

    def width(self, params: Params) -> list[int]:
        return list(range(len(params["vocabulary"]) + 1))

    def element_names(self, params: Params, alias: str) -> list[str]:
        return [f"{alias}_{i + 1}" for i in range(len(params["vocabulary"]))] + [
            f"{alias}_other"]


FEATURE_FUNCTIONS = (LabelEncoder(), OneHotEncoder())

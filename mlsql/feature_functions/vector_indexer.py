"""Categorical elements of a vector: Flink ML's VectorIndexer, one element column at a time.

    ML_VECTOR_INDEXER(x, ARRAY[value, ...] [, handle_invalid])   DOUBLE: the index of x's value
        in the list (from 0); a value not in it (or NULL): 'error' (the default) fails the job
        ("The input contains unseen double: 2.0. See handleInvalid parameter for more
        options."), 'skip' gives NULL (the Pipeline API drops the row), 'keep' gives the
        list's length.
    ML_VECTOR_INDEXER(x)   DOUBLE: x as it is (an element with too many values to index).
    ML_VECTOR_INDEXER(x [, max_categories [, handle_invalid]]) OVER ()   (TRANSFORM only)
        An element with at most max_categories (20) distinct training values is indexed, 0.0
        first when present and the others in ascending order (Flink ML's and Spark's rule:
        zero stays zero); one with more is kept as it is.
"""

from __future__ import annotations

from mlsql.errors import MlsqlError
from mlsql.feature_functions.base import (
    HANDLE_INVALID,
    Arguments,
    FeatureFunction,
    FitRequest,
    FitResult,
    Params,
    SqlOf,
    Vocabulary,
    array_text,
    as_double,
    handled_invalid,
    number_text,
)
from mlsql.feature_functions.encoders import VOCABULARY_LIMIT
from mlsql.syntax import ir
from mlsql.syntax.dialect import quote_literal

DEFAULT_MAX_CATEGORIES = 20


class VectorIndexer(FeatureFunction):
    name = "ML_VECTOR_INDEXER"
    fittable = True
    usage = "ML_VECTOR_INDEXER(x [, ARRAY[value, ...] [, 'error' | 'skip' | 'keep']])"
    fitted_usage = "ML_VECTOR_INDEXER(x [, max_categories [, handle_invalid]]) OVER ()"

    def explicit(self, args: Arguments, call: ir.FeatureCall) -> Params:
        self.count(args, call, 1, 3)
        categories = self.literal_array(args[1], "categories", float) if len(args) > 1 else None
        handle_invalid = (self.choice(args[2], "handle_invalid", HANDLE_INVALID)
                          if len(args) > 2 else "error")
        return {"categories": categories, "handle_invalid": handle_invalid}

    def elements(self, args: Arguments, params: Params, sql_of: SqlOf) -> list[str]:
        x = as_double(sql_of(args[0]))
        categories = params["categories"]
        if categories is None:
            return [x]
        if not categories:
            index, valid = "CAST(NULL AS DOUBLE)", "FALSE"
        else:
            arms = " ".join(f"WHEN {number_text(v)} THEN {number_text(float(i))}"
                            for i, v in enumerate(categories))
            index = f"CASE {x} {arms} END"
            valid = f"{x} IN ({', '.join(number_text(v) for v in categories)})"
        message = (f"CONCAT('The input contains unseen double: ', COALESCE(CAST({x} AS STRING), "
                   "'null'), '. See handleInvalid parameter for more options.')")
        return [handled_invalid(valid, index, params["handle_invalid"],
                                number_text(float(len(categories))), message, x)]

    def fit_options(self, args: Arguments, call: ir.FeatureCall) -> Params:
        self.count(args, call, 1, 3, self.fitted_usage)
        most = (self.integer(args[1], "max_categories", 2) if len(args) > 1
                else DEFAULT_MAX_CATEGORIES)
        handle_invalid = (self.choice(args[2], "handle_invalid", HANDLE_INVALID)
                          if len(args) > 2 else "error")
        return {"max_categories": most, "handle_invalid": handle_invalid}

    def requests(self, args: Arguments, options: Params, sql_of: SqlOf) -> FitRequest:
        # One value more than max_categories tells the element is continuous
        wanted = min(options["max_categories"], VOCABULARY_LIMIT) + 1
        return FitRequest(vocabulary=Vocabulary(as_double(sql_of(args[0])), wanted))

    def fitted_text(self, args: Arguments, options: Params, result: FitResult) -> str:
        values = sorted(float(value) for value, _ in result.vocabulary)
        if len(values) > options["max_categories"]:
            return f"{self.name}({args[0].text})"
        if len(values) > VOCABULARY_LIMIT:
            raise MlsqlError(f"{self.name}: {args[0].text} has more than {VOCABULARY_LIMIT:,} "
                             "distinct values; give a max_categories below that")
        if 0.0 in values:  # zero stays zero
            values = [0.0] + [v for v in values if v != 0.0]
        return (f"{self.name}({args[0].text}, {array_text(values)}, "
                f"{quote_literal(options['handle_invalid'])})")


FEATURE_FUNCTIONS = (VectorIndexer(),)

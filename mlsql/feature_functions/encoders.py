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

Flink ML's StringIndexer, which the Pipeline API's StringIndexer writes:
    ML_STRING_INDEXER(x, ARRAY['a', 'b', ...] [, 'error' | 'skip' | 'keep'])
        DOUBLE: k - 1 for the k-th vocabulary value. NULL and any value not in the vocabulary
        are invalid: 'error' (the default) fails the job ("The input contains unseen string:
        e. ..."), 'keep' gives the vocabulary's size, 'skip' NULL (the Pipeline API drops
        the row). Numbers are compared as their STRING form ('2.0'), as Flink ML does.
    ML_STRING_INDEXER(x [, order [, max_index_num [, handle_invalid]]]) OVER ()
        the vocabulary of the training rows' non-NULL values in `order`: 'arbitrary' (the
        default: here most frequent first), 'alphabetAsc', 'alphabetDesc', 'frequencyAsc' or
        'frequencyDesc' (equal counts in alphabetical order). A max_index_num below
        2147483647 needs 'frequencyDesc' and keeps the max_index_num - 1 most frequent
        values when there are more than max_index_num.
    ML_INDEX_TO_STRING(i, ARRAY['a', 'b', ...])
        STRING: the vocabulary's value at index i (from 0), StringIndexer's inverse (Flink ML's
        IndexToStringModel); any other i, NULL included, fails the job ("The input contains
        unseen index: 4.").
"""

from __future__ import annotations

from mlsql.errors import MlsqlError
from mlsql.feature_functions.base import (
    HANDLE_INVALID,
    Arguments,
    FeatureArgumentError,
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
    raised_error,
)
from mlsql.syntax import ir
from mlsql.syntax.dialect import quote_literal

DEFAULT_TOP_K = 32_000


def as_string(sql: str) -> str:
    return f"CAST({sql} AS STRING)"


def distinct_vocabulary(function: FeatureFunction, arg: ir.FeatureArgument) -> list[str]:
    """An ARRAY['value', ...] argument whose values do not repeat."""
    vocabulary = function.literal_array(arg, "vocabulary", str)
    if len(set(vocabulary)) != len(vocabulary):
        raise FeatureArgumentError(f"{function.name}'s vocabulary repeats a value",
                                   arg.position)
    return vocabulary


class _Encoder(FeatureFunction):
    fittable = True

    def explicit(self, args: Arguments, call: ir.FeatureCall) -> Params:
        self.count(args, call, 2, 2)
        return {"vocabulary": distinct_vocabulary(self, args[1])}

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
    usage = ("ML_ONE_HOT_ENCODER(x, ARRAY['value', ...]), or over indices "
             "ML_ONE_HOT_ENCODER(x, categories, 'flink-ml')")
    fitted_usage = ("ML_ONE_HOT_ENCODER(x [, top_k [, min_count]]) OVER (), or over indices "
                    "ML_ONE_HOT_ENCODER(x, 'flink-ml' [, drop_last]) OVER ()")

    def explicit(self, args: Arguments, call: ir.FeatureCall) -> Params:
        if len(args) == 3:  # Flink ML's: (x, categories, 'flink-ml')
            self.choice(args[2], "rule", ("flink-ml",))
            return {"categories": self.integer(args[1], "number of categories", 0)}
        return super().explicit(args, call)

    def fit_options(self, args: Arguments, call: ir.FeatureCall) -> Params:
        if len(args) > 1 and args[1].is_literal and isinstance(args[1].value, str):
            self.count(args, call, 2, 3, self.fitted_usage)
            self.choice(args[1], "rule", ("flink-ml",))
            drop_last = self.flag(args[2], "drop_last") if len(args) > 2 else True
            return {"flink_ml": True, "drop_last": drop_last}
        return super().fit_options(args, call)

    def requests(self, args: Arguments, options: Params, sql_of: SqlOf) -> FitRequest:
        if not options.get("flink_ml"):
            return super().requests(args, options, sql_of)
        x = as_double(sql_of(args[0]))
        return FitRequest({"max": f"MAX({x})",
                           "not_index": f"MIN(CASE WHEN {_not_an_index(x)} THEN "
                                        f"{as_string(sql_of(args[0]))} END)"})

    def fitted_text(self, args: Arguments, options: Params, result: FitResult) -> str:
        if not options.get("flink_ml"):
            return super().fitted_text(args, options, result)
        not_index = result.aggregates["not_index"]
        if not_index is not None:
            raise MlsqlError(_not_an_index_message(not_index))
        top = result.aggregates["max"]
        if top is None:
            raise MlsqlError(f"{self.name}: {args[0].text} has no index in the training rows")
        categories = int(top) + (0 if options["drop_last"] else 1)
        return f"{self.name}({args[0].text}, {categories}, 'flink-ml')"

    def elements(self, args: Arguments, params: Params, sql_of: SqlOf) -> list[str]:
        if "categories" in params:
            return self._flink_ml_elements(sql_of(args[0]), params["categories"])
        x = as_string(sql_of(args[0]))
        vocabulary = params["vocabulary"]
        parts = [f"CASE WHEN {x} = {quote_literal(v)} THEN 1E0 ELSE 0E0 END"
                 for v in vocabulary]
        known = ", ".join(quote_literal(v) for v in vocabulary)
        other = (f"CASE WHEN {x} IS NOT NULL AND {x} IN ({known}) THEN 0E0 ELSE 1E0 END"
                 if vocabulary else "1E0")
        return [*parts, other]

    @staticmethod
    def _flink_ml_elements(sql: str, categories: int) -> list[str]:
        """Flink ML's: a 1 at the index, none for the index `categories` (the one drop_last
        left out); any other value fails the job, as Flink ML's does."""
        x = as_double(sql)
        parts = [f"CASE WHEN {x} = {number_text(float(i))} THEN 1E0 ELSE 0E0 END"
                 for i in range(categories)]
        if parts:  # checked once a row, in the first element
            message = (f"CONCAT('Value ', COALESCE({as_string(sql)}, 'null'), "
                       "' cannot be parsed as indexed integer.')")
            valid = f"NOT ({_not_an_index(x)}) AND {x} <= {number_text(float(categories))}"
            parts[0] = handled_invalid(valid, parts[0], "error", "", message, x)
        return parts

    def width(self, params: Params) -> list[int]:
        if "categories" in params:
            return list(range(params["categories"]))
        return list(range(len(params["vocabulary"]) + 1))

    def element_names(self, params: Params, alias: str) -> list[str]:
        if "categories" in params:
            return super().element_names(params, alias)
        return [f"{alias}_{i + 1}" for i in range(len(params["vocabulary"]))] + [
            f"{alias}_other"]


def _not_an_index(x: str) -> str:
    """A DOUBLE `x` that is no category index: NULL, NaN, negative or not a whole number."""
    return f"({x} IS NULL OR {x} < 0 OR {x} <> FLOOR({x}) OR ABS({x}) > 2147483647)"


def _not_an_index_message(value: str) -> str:
    return f"Value {value} cannot be parsed as indexed integer."


STRING_ORDERS = ("arbitrary", "alphabetAsc", "alphabetDesc", "frequencyAsc", "frequencyDesc")
NO_MAX_INDEX_NUM = 2**31 - 1  # Flink ML's default max_index_num: Integer.MAX_VALUE
VOCABULARY_LIMIT = DEFAULT_TOP_K  # a vocabulary is SQL text: one CASE arm a value


def max_index_num_error(parameter: str = "maxIndexNum", order: str = "stringOrderType") -> str:
    """Flink ML's message, in the caller's parameter names."""
    return (f"Setting {parameter} smaller than INT.MAX only works when {order} is set as "
            "frequencyDesc.")


class StringIndexer(FeatureFunction):
    name = "ML_STRING_INDEXER"
    fittable = True
    usage = "ML_STRING_INDEXER(x, ARRAY['value', ...] [, 'error' | 'skip' | 'keep'])"
    fitted_usage = ("ML_STRING_INDEXER(x [, 'arbitrary' | 'alphabetAsc' | 'alphabetDesc' | "
                    "'frequencyAsc' | 'frequencyDesc' [, max_index_num [, 'error' | 'skip' | "
                    "'keep']]]) OVER ()")

    def explicit(self, args: Arguments, call: ir.FeatureCall) -> Params:
        self.count(args, call, 2, 3)
        vocabulary = distinct_vocabulary(self, args[1])
        handle_invalid = (self.choice(args[2], "handle_invalid", HANDLE_INVALID)
                          if len(args) > 2 else "error")
        return {"vocabulary": vocabulary, "handle_invalid": handle_invalid}

    def elements(self, args: Arguments, params: Params, sql_of: SqlOf) -> list[str]:
        x = as_string(sql_of(args[0]))
        vocabulary = params["vocabulary"]
        if vocabulary:
            arms = " ".join(f"WHEN {quote_literal(v)} THEN {number_text(float(i))}"
                            for i, v in enumerate(vocabulary))
            index = f"CASE {x} {arms} END"
            valid = f"{x} IN ({', '.join(quote_literal(v) for v in vocabulary)})"
        else:
            index, valid = "CAST(NULL AS DOUBLE)", "FALSE"
        message = (f"CONCAT('The input contains unseen string: ', COALESCE({x}, 'null'), "
                   "'. See handleInvalid parameter for more options.')")
        return [handled_invalid(valid, index, params["handle_invalid"],
                                number_text(float(len(vocabulary))), message, x)]

    def fit_options(self, args: Arguments, call: ir.FeatureCall) -> Params:
        self.count(args, call, 1, 4, self.fitted_usage)
        order = (self.choice(args[1], "string order", STRING_ORDERS) if len(args) > 1
                 else "arbitrary")
        max_index_num = (self.integer(args[2], "max_index_num", 2) if len(args) > 2
                         else NO_MAX_INDEX_NUM)
        if max_index_num < NO_MAX_INDEX_NUM and order != "frequencyDesc":
            raise FeatureArgumentError(max_index_num_error("max_index_num", "the order"),
                                       args[2].position)
        handle_invalid = (self.choice(args[3], "handle_invalid", HANDLE_INVALID)
                          if len(args) > 3 else "error")
        return {"order": order, "max_index_num": max_index_num,
                "handle_invalid": handle_invalid}

    def requests(self, args: Arguments, options: Params, sql_of: SqlOf) -> FitRequest:
        # One value more than kept tells whether there were more.
        wanted = min(options["max_index_num"], VOCABULARY_LIMIT) + 1
        return FitRequest(vocabulary=Vocabulary(as_string(sql_of(args[0])), wanted))

    def fitted_text(self, args: Arguments, options: Params, result: FitResult) -> str:
        counted = list(result.vocabulary)  # most frequent first, equal counts by value
        if len(counted) > options["max_index_num"]:
            counted = counted[:options["max_index_num"] - 1]
        if len(counted) > VOCABULARY_LIMIT:
            raise MlsqlError(f"{self.name}: {args[0].text} has more than {VOCABULARY_LIMIT:,} "
                             "distinct values; index the most frequent with 'frequencyDesc' "
                             "and a max_index_num")
        order = options["order"]
        if order.startswith("alphabet"):
            counted.sort(key=lambda pair: pair[0], reverse=order == "alphabetDesc")
        elif order == "frequencyAsc":
            counted.sort(key=lambda pair: (pair[1], pair[0]))
        values = [value for value, _ in counted]
        return (f"{self.name}({args[0].text}, {array_text(values)}, "
                f"{quote_literal(options['handle_invalid'])})")


class IndexToString(FeatureFunction):
    name = "ML_INDEX_TO_STRING"
    usage = "ML_INDEX_TO_STRING(i, ARRAY['value', ...])"

    def explicit(self, args: Arguments, call: ir.FeatureCall) -> Params:
        self.count(args, call, 2, 2)
        return {"vocabulary": self.literal_array(args[1], "vocabulary", str)}

    def elements(self, args: Arguments, params: Params, sql_of: SqlOf) -> list[str]:
        i = sql_of(args[0])
        arms = " ".join(f"WHEN {as_double(i)} = {number_text(float(k))} THEN {quote_literal(v)}"
                        for k, v in enumerate(params["vocabulary"]))
        message = (f"CONCAT('The input contains unseen index: ', COALESCE({as_string(i)}, "
                   "'null'), '.')")
        return [f"CASE {arms} ELSE CAST({raised_error(message, i)} AS STRING) END"]


FEATURE_FUNCTIONS = (LabelEncoder(), OneHotEncoder(), StringIndexer(), IndexToString())

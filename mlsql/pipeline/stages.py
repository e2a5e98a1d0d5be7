"""The Pipeline API's transformers: each writes the feature function calls of a TRANSFORM
item (`ML_STANDARD_SCALER(amount) OVER ()`), so a pipeline fitted in Python and the
equivalent CREATE MODEL ... TRANSFORM statement are fitted and stored by the same code.

Names and parameters follow Flink ML's (input columns, output columns, `num_bins`,
`strategy`, `degree`, `num_features`), as keyword arguments. Flink ML's transformers read
vector columns; these read scalar columns and, for the array-valued ones, make one column
per element when a model reads them, as in TRANSFORM.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from pyflink.table import Table

from mlsql.errors import MlsqlError, OptionError
from mlsql.feature_functions.base import HANDLE_INVALID, array_text
from mlsql.feature_functions.count_vectorizer import NO_MAX_DF, df_order_problem
from mlsql.feature_functions.encoders import (
    DEFAULT_TOP_K,
    NO_MAX_INDEX_NUM,
    STRING_ORDERS,
    max_index_num_error,
)
from mlsql.feature_functions.stop_words import (
    DEFAULT_LOCALE,
    available_locales,
    locale_problem,
)
from mlsql.feature_functions.univariate import MODES as SELECTION_MODES
from mlsql.feature_functions.univariate import TYPES as SELECTOR_TYPES
from mlsql.feature_functions.univariate import threshold_problem
from mlsql.feature_functions.vectors import slicer_indices_problem
from mlsql.pipeline import persistence
from mlsql.services.jars.flink_ml_resources import (
    STOP_WORD_LANGUAGES,
    default_stop_words,
    stop_words_resolved,
)
from mlsql.syntax.dialect import quote_literal
from mlsql.syntax.lexer import Kind, Token, tokenize
from mlsql.table_api.binding import planned_query, session_of, table_views

FITTED_CALL = re.compile(r"\bOVER\s*\(\s*\)", re.IGNORECASE)  # a call fitted at training


@dataclass(frozen=True)
class StageOutput:
    """One column a stage makes: `template` with `{0}`, `{1}`, ... for its inputs' SQL."""

    column: str
    inputs: tuple[str, ...]
    template: str
    fitted: bool  # the template has an `OVER ()` call, fitted on the training rows
    # NULL marks an invalid input whose row the pipeline drops (handle_invalid='skip')
    skips_invalid: bool = False


class Transformer:
    """A stage with one output per input column (`columns` -> `output_cols`, by default the
    same names: the output replaces its input)."""

    function = ""
    fitted = False

    def __init__(self, columns: Sequence[str], output_cols: Sequence[str] | None = None
                 ) -> None:
        self.columns = _names(columns, "columns", type(self).__name__)
        self.output_cols = (self.columns if output_cols is None
                            else _names(output_cols, "output_cols", type(self).__name__))
        if len(self.output_cols) != len(self.columns):
            raise OptionError(f"{type(self).__name__}: {len(self.columns)} columns but "
                              f"{len(self.output_cols)} output_cols")

    def parameters(self) -> list[str]:
        """The call's arguments after the column, as SQL literals."""
        return []

    def outputs(self) -> list[StageOutput]:
        arguments = _literal("".join(f", {p}" for p in self.parameters()))
        over = " OVER ()" if self.fitted else ""
        return [StageOutput(out, (column,), f"{self.function}({{0}}{arguments}){over}",
                            self.fitted)
                for column, out in zip(self.columns, self.output_cols, strict=True)]

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(columns={self.columns!r}, "
                f"output_cols={self.output_cols!r})")


class StandardScaler(Transformer):
    """Flink ML's StandardScaler: x / std, or (x - mean) / std with `with_mean=True`, or
    x - mean with `with_std=False`; std is the sample standard deviation, and a column
    whose std is 0 (or that has one row) scales to 0. Defaults as Flink ML's:
    with_mean=False, with_std=True. (The SQL function's default rule is scikit-learn's:
    `ML_STANDARD_SCALER(x, with_mean, with_std, 'flink-ml') OVER ()` is this stage.)"""

    function, fitted = "ML_STANDARD_SCALER", True

    def __init__(self, columns: Sequence[str], output_cols: Sequence[str] | None = None, *,
                 with_mean: bool = False, with_std: bool = True) -> None:
        super().__init__(columns, output_cols)
        for name, value in (("with_mean", with_mean), ("with_std", with_std)):
            if not isinstance(value, bool):
                raise OptionError(f"StandardScaler: {name} must be True or False, not "
                                  f"{value!r}")
        self.with_mean, self.with_std = with_mean, with_std

    def parameters(self) -> list[str]:
        return [str(self.with_mean).upper(), str(self.with_std).upper(), "'flink-ml'"]


class MinMaxScaler(Transformer):
    """Flink ML's MinMaxScaler: the column's [min, max] mapped onto [`min`, `max`] (default
    [0, 1]), not clipped; a column whose max and min differ by less than 1e-5 maps to the
    middle of the range. (`ML_MIN_MAX_SCALER(x, min, max, 'flink-ml') OVER ()`.)"""

    function, fitted = "ML_MIN_MAX_SCALER", True

    def __init__(self, columns: Sequence[str], output_cols: Sequence[str] | None = None, *,
                 min: float = 0.0, max: float = 1.0) -> None:
        super().__init__(columns, output_cols)
        if not all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
                   for v in (min, max)) or not min < max:
            raise OptionError(f"MinMaxScaler: min and max must be numbers with min < max, not "
                              f"{min!r} and {max!r}")
        self.min, self.max = float(min), float(max)

    def parameters(self) -> list[str]:
        return [_number(self.min), _number(self.max), "'flink-ml'"]


class MaxAbsScaler(Transformer):
    function, fitted = "ML_MAX_ABS_SCALER", True


class RobustScaler(Transformer):
    """Flink ML's RobustScaler: x / (q_upper - q_lower), or (x - median) / ... with
    `with_centering=True`, or x - median with `with_scaling=False`; a zero range scales to 0.
    Defaults as Flink ML's: lower=0.25, upper=0.75, with_centering=False, with_scaling=True.
    `relative_error` is accepted: the quantiles here are exact. (`ML_ROBUST_SCALER(x,
    with_centering, with_scaling, lower, upper, 'flink-ml') OVER ()`.)"""

    function, fitted = "ML_ROBUST_SCALER", True

    def __init__(self, columns: Sequence[str], output_cols: Sequence[str] | None = None, *,
                 lower: float = 0.25, upper: float = 0.75, relative_error: float = 0.001,
                 with_centering: bool = False, with_scaling: bool = True) -> None:
        super().__init__(columns, output_cols)
        for name, value in (("with_centering", with_centering),
                            ("with_scaling", with_scaling)):
            if not isinstance(value, bool):
                raise OptionError(f"RobustScaler: {name} must be True or False, not {value!r}")
        numbers = (lower, upper, relative_error)
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in numbers) \
                or not 0 <= lower < upper <= 1 or not 0 <= relative_error <= 1:
            raise OptionError("RobustScaler: needs 0 <= lower < upper <= 1 and 0 <= "
                              f"relative_error <= 1, not {lower!r}, {upper!r}, "
                              f"{relative_error!r}")
        self.lower, self.upper = float(lower), float(upper)
        self.relative_error = float(relative_error)
        self.with_centering, self.with_scaling = with_centering, with_scaling

    def parameters(self) -> list[str]:
        return [str(self.with_centering).upper(), str(self.with_scaling).upper(),
                _number(self.lower), _number(self.upper), "'flink-ml'"]


class Imputer(Transformer):
    """Flink ML's Imputer: NULL, NaN and `missing_value` replaced by the column's mean,
    median (an observed value) or most frequent value; a column with none of its own is an
    error. `relative_error` is accepted: the median here is exact. (`ML_IMPUTER(x, strategy,
    'flink-ml' [, missing_value]) OVER ()`.)"""

    function, fitted = "ML_IMPUTER", True
    STRATEGIES = ("mean", "median", "most_frequent")

    def __init__(self, columns: Sequence[str], output_cols: Sequence[str] | None = None, *,
                 strategy: str = "mean", missing_value: float = math.nan,
                 relative_error: float = 0.001) -> None:
        super().__init__(columns, output_cols)
        if strategy not in self.STRATEGIES:
            raise OptionError(f"Imputer: strategy must be one of {', '.join(self.STRATEGIES)}"
                              f", not {strategy!r}")
        for name, value in (("missing_value", missing_value),
                            ("relative_error", relative_error)):
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise OptionError(f"Imputer: {name} must be a number, not {value!r}")
        if not 0 <= relative_error <= 1:
            raise OptionError(f"Imputer: relative_error must be in [0, 1], not {relative_error}")
        self.strategy = strategy
        self.missing_value = float(missing_value)
        self.relative_error = float(relative_error)

    def parameters(self) -> list[str]:
        missing = [] if math.isnan(self.missing_value) else [_number(self.missing_value)]
        return [quote_literal(self.strategy), "'flink-ml'", *missing]


class KBinsDiscretizer(Transformer):
    """Flink ML's KBinsDiscretizer: each value's bin number (a DOUBLE, 0 ... num_bins - 1),
    the bin edges fitted by `strategy`: 'uniform', 'quantile' (the default) or 'kmeans', over
    at most `sub_samples` values. (`ML_KBINS_DISCRETIZER(x, num_bins, strategy, sub_samples)
    OVER ()`.)"""

    function, fitted = "ML_KBINS_DISCRETIZER", True
    STRATEGIES = ("uniform", "quantile", "kmeans")

    def __init__(self, columns: Sequence[str], output_cols: Sequence[str] | None = None, *,
                 num_bins: int = 5, strategy: str = "quantile",
                 sub_samples: int = 200_000) -> None:
        super().__init__(columns, output_cols)
        if strategy not in self.STRATEGIES:
            raise OptionError(f"KBinsDiscretizer: strategy must be one of "
                              f"{', '.join(self.STRATEGIES)}, not {strategy!r}")
        self.num_bins = _positive(num_bins, "num_bins", "KBinsDiscretizer", minimum=2)
        self.strategy = strategy
        self.sub_samples = _positive(sub_samples, "sub_samples", "KBinsDiscretizer",
                                     minimum=2)

    def parameters(self) -> list[str]:
        return [str(self.num_bins), quote_literal(self.strategy), str(self.sub_samples)]


class Bucketizer(Transformer):
    """Flink ML's Bucketizer: each column's bucket number (a DOUBLE) among its own edges in
    `splits_array`, the outer ones included (±inf for open ends): bucket k holds
    edges[k] <= x < edges[k + 1], the last one also its upper edge. A value outside the
    edges, NaN or NULL is invalid: `handle_invalid` 'error' (the default) fails the job,
    'skip' drops the row, 'keep' puts it in one more bucket."""

    function = "ML_BUCKETIZE"

    def __init__(self, columns: Sequence[str], output_cols: Sequence[str] | None = None, *,
                 splits_array: Sequence[Sequence[float]], handle_invalid: str = "error"
                 ) -> None:
        super().__init__(columns, output_cols)
        self.splits_array = [[float(s) for s in splits] for splits in splits_array]
        if len(self.splits_array) != len(self.columns):
            raise OptionError(f"Bucketizer: {len(self.columns)} columns but "
                              f"{len(self.splits_array)} lists in splits_array")
        for splits in self.splits_array:
            if len(splits) < 2 or any(math.isnan(s) for s in splits) or any(
                    a >= b for a, b in itertools.pairwise(splits)):
                raise OptionError("Bucketizer: each splits_array list must be at least two "
                                  f"strictly increasing numbers, not {splits!r}")
        self.handle_invalid = _handle_invalid(handle_invalid, "Bucketizer")

    def outputs(self) -> list[StageOutput]:
        return [StageOutput(out, (column,), f"{self.function}({{0}}, {array_text(splits)}, "
                            f"'index', {quote_literal(self.handle_invalid)})", False,
                            self.handle_invalid == "skip")
                for column, out, splits in zip(self.columns, self.output_cols,
                                               self.splits_array, strict=True)]


class VectorIndexer(Transformer):
    """Flink ML's VectorIndexer over a vector's element columns: an element with at most
    `max_categories` (20) distinct training values becomes its value's index (0.0 first when
    present, the others ascending), one with more is kept as it is. A value not seen in
    training: `handle_invalid` 'error' (default) fails the job, 'skip' drops the row, 'keep'
    gives the number of categories."""

    function, fitted = "ML_VECTOR_INDEXER", True

    def __init__(self, columns: Sequence[str], output_cols: Sequence[str] | None = None, *,
                 max_categories: int = 20, handle_invalid: str = "error") -> None:
        super().__init__(columns, output_cols)
        self.max_categories = _positive(max_categories, "max_categories", "VectorIndexer", 2)
        self.handle_invalid = _handle_invalid(handle_invalid, "VectorIndexer")

    def outputs(self) -> list[StageOutput]:
        return [replace(output, skips_invalid=self.handle_invalid == "skip")
                for output in super().outputs()]

    def parameters(self) -> list[str]:
        return [str(self.max_categories), quote_literal(self.handle_invalid)]


class _Vocabulary(Transformer):
    fitted = True

    def __init__(self, columns: Sequence[str], output_cols: Sequence[str] | None = None, *,
                 max_categories: int | None = None, min_count: int | None = None) -> None:
        super().__init__(columns, output_cols)
        name = type(self).__name__
        self.max_categories = (None if max_categories is None
                               else _positive(max_categories, "max_categories", name))
        self.min_count = None if min_count is None else _positive(min_count, "min_count", name)

    def parameters(self) -> list[str]:
        if self.min_count is not None:
            return [str(self.max_categories or DEFAULT_TOP_K), str(self.min_count)]
        return [] if self.max_categories is None else [str(self.max_categories)]


class StringIndexer(Transformer):
    """Flink ML's StringIndexer: each value's index (a DOUBLE, from 0) in the vocabulary of
    the training rows' values, ordered by `string_order_type` ('arbitrary', the default:
    here most frequent first; 'alphabetAsc', 'alphabetDesc', 'frequencyAsc',
    'frequencyDesc'). Numbers are indexed by their text ('2.0'). NULL and unseen values are
    invalid: `handle_invalid` 'error' (the default) fails the job, 'skip' drops the row, 'keep'
    gives the vocabulary's size. A `max_index_num` (with 'frequencyDesc') keeps the
    max_index_num - 1 most frequent values when there are more."""

    function, fitted = "ML_STRING_INDEXER", True

    def __init__(self, columns: Sequence[str], output_cols: Sequence[str] | None = None, *,
                 string_order_type: str = "arbitrary", max_index_num: int = NO_MAX_INDEX_NUM,
                 handle_invalid: str = "error") -> None:
        super().__init__(columns, output_cols)
        if string_order_type not in STRING_ORDERS:
            raise OptionError(f"StringIndexer: string_order_type must be one of "
                              f"{', '.join(map(repr, STRING_ORDERS))}, not "
                              f"{string_order_type!r}")
        self.string_order_type = string_order_type
        self.max_index_num = _positive(max_index_num, "max_index_num", "StringIndexer", 2)
        if max_index_num < NO_MAX_INDEX_NUM and string_order_type != "frequencyDesc":
            raise OptionError(max_index_num_error("max_index_num", "string_order_type"))
        self.handle_invalid = _handle_invalid(handle_invalid, "StringIndexer")

    def parameters(self) -> list[str]:
        return [quote_literal(self.string_order_type), str(self.max_index_num),
                quote_literal(self.handle_invalid)]

    def outputs(self) -> list[StageOutput]:
        return [replace(output, skips_invalid=self.handle_invalid == "skip")
                for output in super().outputs()]


class OneHotEncoder(Transformer):
    """Flink ML's OneHotEncoder: each column holds category indices (0, 1, ..., as
    StringIndexer makes them); its output is one column per category seen in training, 1 at
    the row's index. `drop_last` (True) leaves out the last category (its rows are all 0).
    An index that is negative, not whole, NULL or past the categories fails the job; Flink
    ML's `handle_invalid` takes only 'error'."""

    function, fitted = "ML_ONE_HOT_ENCODER", True

    def __init__(self, columns: Sequence[str], output_cols: Sequence[str] | None = None, *,
                 drop_last: bool = True, handle_invalid: str = "error") -> None:
        super().__init__(columns, output_cols)
        self.drop_last = _flag(drop_last, "drop_last", "OneHotEncoder")
        if handle_invalid != "error":
            raise OptionError("OneHotEncoder: handle_invalid takes only 'error' (as in Flink "
                              f"ML), not {handle_invalid!r}")
        self.handle_invalid = handle_invalid

    def parameters(self) -> list[str]:
        return ["'flink-ml'", "TRUE" if self.drop_last else "FALSE"]


class IndexToString(Transformer):
    """Flink ML's IndexToStringModel: each column's index (from 0) as the value at that place
    of its list in `string_arrays` (a StringIndexer's vocabularies); any other index fails
    the job."""

    function = "ML_INDEX_TO_STRING"

    def __init__(self, columns: Sequence[str], output_cols: Sequence[str] | None = None, *,
                 string_arrays: Sequence[Sequence[str]]) -> None:
        super().__init__(columns, output_cols)
        self.string_arrays = [list(values) for values in string_arrays]
        if len(self.string_arrays) != len(self.columns) or not all(
                all(isinstance(v, str) for v in values) for values in self.string_arrays):
            raise OptionError(f"IndexToString: string_arrays is one list of strings for each "
                              f"of the {len(self.columns)} columns, not {string_arrays!r}")

    def outputs(self) -> list[StageOutput]:
        return [StageOutput(out, (column,), f"{self.function}({{0}}, ARRAY["
                            f"{_literal(', '.join(quote_literal(v) for v in values))}])", False)
                for column, out, values in zip(self.columns, self.output_cols,
                                               self.string_arrays, strict=True)]


class ValueOneHotEncoder(_Vocabulary):
    """One column per value of the vocabulary of the column's values (not indices), and one
    for NULL and unseen values: BigQuery's ML.ONE_HOT_ENCODER, as TRANSFORM's
    ML_ONE_HOT_ENCODER(x) OVER ()."""

    function = "ML_ONE_HOT_ENCODER"


class Tokenizer(Transformer):
    """Lower-cased, split on whitespace."""

    function = "ML_TOKENIZE"


class RegexTokenizer(Transformer):
    """Flink ML's RegexTokenizer: split at the Java regex `pattern` ("\\s+"; with
    `gaps=False`, its matches are the tokens), lower-cased first unless `to_lowercase` is
    False, tokens shorter than `min_token_length` (1) dropped."""

    function = "ML_REGEX_TOKENIZE"

    def __init__(self, columns: Sequence[str], output_cols: Sequence[str] | None = None, *,
                 min_token_length: int = 1, gaps: bool = True, pattern: str = "\\s+",
                 to_lowercase: bool = True) -> None:
        super().__init__(columns, output_cols)
        self.min_token_length = _positive(min_token_length, "min_token_length",
                                          "RegexTokenizer")
        _flag(gaps, "gaps", "RegexTokenizer")
        _flag(to_lowercase, "to_lowercase", "RegexTokenizer")
        if not isinstance(pattern, str) or not pattern:
            raise OptionError(f"RegexTokenizer: pattern is a regular expression, not "
                              f"{pattern!r}")
        self.gaps, self.pattern, self.to_lowercase = gaps, pattern, to_lowercase

    def parameters(self) -> list[str]:
        return [quote_literal(self.pattern), "TRUE" if self.gaps else "FALSE",
                str(self.min_token_length), "TRUE" if self.to_lowercase else "FALSE"]


class StopWordsRemover(Transformer):
    """Flink ML's StopWordsRemover: the tokens of an ARRAY<STRING> column that are not stop
    words. `stop_words` defaults to Flink ML's English list (`load_default_stop_words`);
    without `case_sensitive` (False) both sides compare lower-cased in `locale`'s language
    (default 'en_US'). A NULL token is removed only when `stop_words` holds None."""

    function = "ML_STOP_WORDS_REMOVER"

    def __init__(self, columns: Sequence[str], output_cols: Sequence[str] | None = None, *,
                 stop_words: Sequence[str | None] | None = None, case_sensitive: bool = False,
                 locale: str = DEFAULT_LOCALE) -> None:
        super().__init__(columns, output_cols)
        words = load_default_stop_words("english") if stop_words is None else stop_words
        if isinstance(words, str) or not all(w is None or isinstance(w, str) for w in words):
            raise OptionError(f"StopWordsRemover: stop_words is a list of strings, not "
                              f"{stop_words!r}")
        self.stop_words = list(words)
        self.case_sensitive = _flag(case_sensitive, "case_sensitive", "StopWordsRemover")
        if problem := locale_problem(locale):
            raise OptionError(problem)
        self.locale = locale

    @staticmethod
    def load_default_stop_words(language: str) -> list[str]:
        """Flink ML's stop words for one of STOP_WORD_LANGUAGES."""
        return load_default_stop_words(language)

    @staticmethod
    def get_available_locales() -> list[str]:
        """The locale names `locale` takes (language_COUNTRY, as Java's)."""
        return available_locales()

    def parameters(self) -> list[str]:
        # A default list by its language's name; comparing with the lists resolves nothing
        defaults = STOP_WORD_LANGUAGES if stop_words_resolved() else ()
        words = next((f"'{language}'" for language in defaults
                      if self.stop_words == load_default_stop_words(language)),
                     None) or f"ARRAY[{', '.join(_text_literal(w) for w in self.stop_words)}]"
        return [words, "TRUE" if self.case_sensitive else "FALSE", quote_literal(self.locale)]


class NGram(Transformer):
    function = "ML_NGRAMS"

    def __init__(self, columns: Sequence[str], output_cols: Sequence[str] | None = None, *,
                 n: int = 2) -> None:
        super().__init__(columns, output_cols)
        self.n = _positive(n, "n", "NGram")

    def parameters(self) -> list[str]:
        return [str(self.n)]


class HashingTF(Transformer):
    """Flink ML's HashingTF: token counts (1 with `binary`) per index, a token's index being
    its MurmurHash3 (Flink ML's) mod `num_features` (262,144). The output is Flink ML's
    sparse vector as a MAP<INT, DOUBLE> column (index -> count); `sparse=False` gives an
    ARRAY (num_features up to 4,096: one column per element for a model or IDF)."""

    function = "ML_HASHING_TF"

    def __init__(self, columns: Sequence[str], output_cols: Sequence[str] | None = None, *,
                 num_features: int = 262_144, binary: bool = False,
                 sparse: bool = True) -> None:
        super().__init__(columns, output_cols)
        self.num_features = _positive(num_features, "num_features", "HashingTF")
        self.binary = _flag(binary, "binary", "HashingTF")
        self.sparse = _flag(sparse, "sparse", "HashingTF")

    def parameters(self) -> list[str]:
        return [str(self.num_features), "TRUE" if self.binary else "FALSE", "'flink-ml'",
                "TRUE" if self.sparse else "FALSE"]


class CountVectorizer(Transformer):
    """Flink ML's CountVectorizer: each term's count in a token array column, at its index
    in the vocabulary fitted on the training rows (terms in at least `min_df` (1) and at most
    `max_df` rows, below 1 a fraction of them; most frequent first, equal counts by term; the
    first `vocabulary_size`, 262,144), kept where it reaches `min_tf` (1; below 1 a fraction
    of the row's tokens), 1 with `binary`. The output is a sparse MAP<INT, DOUBLE> column, as
    HashingTF's; `sparse=False` gives an ARRAY (one column per term; at most 4,096)."""

    function, fitted = "ML_COUNT_VECTORIZER", True

    def __init__(self, columns: Sequence[str], output_cols: Sequence[str] | None = None, *,
                 vocabulary_size: int = 1 << 18, min_df: float = 1.0,
                 max_df: float = NO_MAX_DF, min_tf: float = 1.0, binary: bool = False,
                 sparse: bool = True) -> None:
        super().__init__(columns, output_cols)
        self.vocabulary_size = _positive(vocabulary_size, "vocabulary_size", "CountVectorizer")
        for name, value in (("min_df", min_df), ("max_df", max_df), ("min_tf", min_tf)):
            if not isinstance(value, int | float) or isinstance(value, bool) or not value >= 0:
                raise OptionError(f"CountVectorizer: {name} must be a number >= 0, not "
                                  f"{value!r}")
        if problem := df_order_problem(min_df, max_df):
            raise OptionError(problem)
        self.min_df, self.max_df, self.min_tf = float(min_df), float(max_df), float(min_tf)
        self.binary = _flag(binary, "binary", "CountVectorizer")
        self.sparse = _flag(sparse, "sparse", "CountVectorizer")

    def parameters(self) -> list[str]:
        return [str(self.vocabulary_size), _number(self.min_df), _number(self.max_df),
                _number(self.min_tf), "TRUE" if self.binary else "FALSE",
                "TRUE" if self.sparse else "FALSE"]


class IDF(Transformer):
    """Flink ML's IDF: term frequencies weighted by ln((N + 1) / (df + 1)), document counts
    fitted; a term in fewer than `min_doc_freq` documents weighs 0. `num_features`: the length
    of the term-frequency arrays it reads."""

    function, fitted = "ML_IDF", True

    def __init__(self, columns: Sequence[str], output_cols: Sequence[str] | None = None, *,
                 num_features: int, min_doc_freq: int = 0) -> None:
        super().__init__(columns, output_cols)
        self.num_features = _positive(num_features, "num_features", "IDF")
        self.min_doc_freq = _positive(min_doc_freq, "min_doc_freq", "IDF", minimum=0)

    def parameters(self) -> list[str]:
        return [str(self.num_features), str(self.min_doc_freq)]


class _ManyToOne:
    """A stage reading several columns into one array-valued output column."""

    function = ""

    def __init__(self, columns: Sequence[str], output_col: str) -> None:
        name = type(self).__name__
        self.columns = _names(columns, "columns", name)
        self.output_col = _names([output_col], "output_col", name)[0]

    def parameters(self) -> list[str]:
        return []

    def outputs(self) -> list[StageOutput]:
        slots = ", ".join(f"{{{i}}}" for i in range(len(self.columns)))
        arguments = _literal("".join(f", {p}" for p in self.parameters()))
        return [StageOutput(self.output_col, tuple(self.columns),
                            f"{self.function}(ARRAY[{slots}]{arguments})", False)]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(columns={self.columns!r}, output_col={self.output_col!r})"


class VectorAssembler(_ManyToOne):
    """Flink ML's VectorAssembler: number, ARRAY (dense vector) and MAP<INT, DOUBLE> (sparse
    vector) columns joined into one ARRAY<DOUBLE> column (`output_col`, 'output'), each of its
    `input_sizes` entry's size. `handle_invalid`: 'error' (Flink ML's default) fails the job
    on a NULL, a NaN number or a size that differs; 'skip' drops the row; 'keep' writes NaN
    for a NULL input and does not check sizes."""

    function = "ML_VECTOR_ASSEMBLER"

    def __init__(self, columns: Sequence[str], output_col: str = "output", *,
                 input_sizes: Sequence[int], handle_invalid: str = "error") -> None:
        super().__init__(columns, output_col)
        if isinstance(input_sizes, str) or len(input_sizes) != len(self.columns):
            raise OptionError(f"VectorAssembler: input_sizes is one size for each of the "
                              f"{len(self.columns)} columns, not {input_sizes!r}")
        self.input_sizes = [_positive(s, "each input size", "VectorAssembler")
                            for s in input_sizes]
        self.handle_invalid = _handle_invalid(handle_invalid, "VectorAssembler")

    def outputs(self) -> list[StageOutput]:
        slots = ", ".join(f"{{{i}}}" for i in range(len(self.columns)))
        sizes = ", ".join(str(s) for s in self.input_sizes)
        return [StageOutput(self.output_col, tuple(self.columns),
                            f"{self.function}(ARRAY[{slots}], ARRAY[{sizes}], "
                            f"{quote_literal(self.handle_invalid)})", False,
                            self.handle_invalid == "skip")]


class UnivariateFeatureSelector(_ManyToOne):
    """Flink ML's UnivariateFeatureSelector: the columns (a vector's elements) most related to
    `label` by a univariate test chosen by `feature_type` and `label_type` ('categorical' or
    'continuous': chi-squared, ANOVA F or F-value), kept by `selection_mode`
    ('numTopFeatures', 'percentile', 'fpr', 'fdr', 'fwe') at `selection_threshold` (50, 0.1,
    else 0.05), into `output_col` ('output'), in column order."""

    function = "ML_UNIVARIATE_FEATURE_SELECTOR"

    def __init__(self, columns: Sequence[str], label: str = "label", output_col: str = "output",
                 *, feature_type: str, label_type: str,
                 selection_mode: str = "numTopFeatures",
                 selection_threshold: float | None = None) -> None:
        super().__init__(columns, output_col)
        self.label = _names([label], "label", "UnivariateFeatureSelector")[0]
        for what, value, allowed in (("feature_type", feature_type, SELECTOR_TYPES),
                                     ("label_type", label_type, SELECTOR_TYPES),
                                     ("selection_mode", selection_mode, SELECTION_MODES)):
            if value not in allowed:
                raise OptionError(f"UnivariateFeatureSelector: {what} must be one of "
                                  f"{', '.join(map(repr, allowed))}, not {value!r}")
        if (feature_type, label_type) == ("categorical", "continuous"):
            raise OptionError("UnivariateFeatureSelector: no test of categorical features "
                              "against a continuous label (Flink ML has none)")
        if selection_threshold is not None and (problem := threshold_problem(
                selection_mode, float(selection_threshold))):
            raise OptionError(problem)
        self.feature_type, self.label_type = feature_type, label_type
        self.selection_mode, self.selection_threshold = selection_mode, selection_threshold

    def outputs(self) -> list[StageOutput]:
        slots = ", ".join(f"{{{i}}}" for i in range(len(self.columns)))
        threshold = ("" if self.selection_threshold is None
                     else f", {_number(self.selection_threshold)}")
        return [StageOutput(self.output_col, (*self.columns, self.label),
                            f"{self.function}(ARRAY[{slots}], {{{len(self.columns)}}}, "
                            f"'{self.feature_type}', '{self.label_type}', "
                            f"'{self.selection_mode}'{threshold}) OVER ()", True)]


class PolynomialExpansion(_ManyToOne):
    """Every product of 1 ... degree of the columns, in Flink ML's order (x, x², y, xy, y²)."""

    function = "ML_POLYNOMIAL_EXPANSION"

    def __init__(self, columns: Sequence[str], output_col: str, *, degree: int = 2) -> None:
        super().__init__(columns, output_col)
        self.degree = _positive(degree, "degree", "PolynomialExpansion")

    def parameters(self) -> list[str]:
        return [str(self.degree), "'flink-ml'"]


class Normalizer(_ManyToOne):
    """The columns divided by their p-norm."""

    function = "ML_NORMALIZER"

    def __init__(self, columns: Sequence[str], output_col: str, *, p: float = 2.0) -> None:
        super().__init__(columns, output_col)
        if not isinstance(p, int | float) or isinstance(p, bool) or not p >= 1:
            raise OptionError(f"Normalizer: p must be a number >= 1 (or inf), not {p!r}")
        self.p = float(p)

    def parameters(self) -> list[str]:
        return ["'inf'" if self.p == float("inf") else _number(self.p)]


class FeatureHasher(_ManyToOne):
    """Flink ML's FeatureHasher: the columns hashed into one sparse vector (a MAP<INT, DOUBLE>
    column, index -> value) of `num_features` (262,144): a numeric column adds its value at
    its name's index, a categorical one (STRING, BOOLEAN, or named in `categorical_cols`) 1
    at the index of 'name=value' (MurmurHash3, as Flink ML)."""

    function = "ML_FEATURE_HASHING"

    def __init__(self, columns: Sequence[str], output_col: str, *,
                 categorical_cols: Sequence[str] = (), num_features: int = 262_144) -> None:
        super().__init__(columns, output_col)
        self.categorical_cols = list(categorical_cols)
        if not set(self.categorical_cols) <= set(self.columns):  # Flink ML's message
            raise OptionError("CategoricalCols must be included in inputCols!")
        self.num_features = _positive(num_features, "num_features", "FeatureHasher")

    def parameters(self) -> list[str]:
        names = ", ".join(quote_literal(c) for c in self.columns)
        categorical = ", ".join(quote_literal(c) for c in self.categorical_cols)
        return [str(self.num_features), "'flink-ml'", f"ARRAY[{names}]",
                *([f"ARRAY[{categorical}]"] if categorical else [])]


class Binarizer(Transformer):
    """Flink ML's Binarizer: 1.0 where a column's value is above its threshold, else 0.0 (a
    vector's elements, each its own column here, each with the vector's threshold)."""

    function = "ML_BINARIZER"

    def __init__(self, columns: Sequence[str], output_cols: Sequence[str] | None = None, *,
                 thresholds: Sequence[float]) -> None:
        super().__init__(columns, output_cols)
        if len(thresholds) != len(self.columns) or not all(
                isinstance(t, int | float) and not isinstance(t, bool) and math.isfinite(t)
                for t in thresholds):
            raise OptionError(f"Binarizer: thresholds is one number for each of the "
                              f"{len(self.columns)} columns, not {thresholds!r}")
        self.thresholds = [float(t) for t in thresholds]

    def outputs(self) -> list[StageOutput]:
        return [StageOutput(out, (column,), f"{self.function}({{0}}, {_number(t)})", False)
                for column, out, t in zip(self.columns, self.output_cols, self.thresholds,
                                          strict=True)]


class ElementwiseProduct(_ManyToOne):
    """Flink ML's ElementwiseProduct: the vector (the columns) times `scaling_vec`, element by
    element."""

    function = "ML_ELEMENTWISE_PRODUCT"

    def __init__(self, columns: Sequence[str], output_col: str, *,
                 scaling_vec: Sequence[float]) -> None:
        super().__init__(columns, output_col)
        self.scaling_vec = [float(s) for s in scaling_vec]
        if len(self.scaling_vec) != len(self.columns):  # Flink ML's message
            raise OptionError(f"The scaling vector size is {len(self.scaling_vec)}, which is "
                              f"not equal input vector size({len(self.columns)}).")

    def parameters(self) -> list[str]:
        return [array_text(self.scaling_vec)]


class VectorSlicer(_ManyToOne):
    """Flink ML's VectorSlicer: the vector's elements at `indices` (from 0), in that order."""

    function = "ML_VECTOR_SLICER"

    def __init__(self, columns: Sequence[str], output_col: str, *,
                 indices: Sequence[int]) -> None:
        super().__init__(columns, output_col)
        problem = slicer_indices_problem(list(indices), len(self.columns))
        if problem:
            raise OptionError(problem)
        self.indices = [int(i) for i in indices]

    def parameters(self) -> list[str]:
        return [f"ARRAY[{', '.join(map(str, self.indices))}]"]


class DCT(_ManyToOne):
    """Flink ML's DCT: the orthonormal DCT-II of the vector, or its inverse with
    `inverse=True`."""

    function = "ML_DCT"

    def __init__(self, columns: Sequence[str], output_col: str, *,
                 inverse: bool = False) -> None:
        super().__init__(columns, output_col)
        self.inverse = _flag(inverse, "inverse", "DCT")

    def parameters(self) -> list[str]:
        return ["TRUE" if self.inverse else "FALSE"]


class VarianceThresholdSelector(_ManyToOne):
    """Flink ML's VarianceThresholdSelector: the vector's elements (the columns) whose
    population variance over the training rows is above `variance_threshold` (0.0)."""

    function = "ML_VARIANCE_THRESHOLD_SELECTOR"

    def __init__(self, columns: Sequence[str], output_col: str, *,
                 variance_threshold: float = 0.0) -> None:
        super().__init__(columns, output_col)
        if isinstance(variance_threshold, bool) or not isinstance(
                variance_threshold, int | float) or not variance_threshold >= 0:
            raise OptionError("VarianceThresholdSelector: variance_threshold must be a number "
                              f">= 0, not {variance_threshold!r}")
        self.variance_threshold = float(variance_threshold)

    def outputs(self) -> list[StageOutput]:
        slots = ", ".join(f"{{{i}}}" for i in range(len(self.columns)))
        return [StageOutput(self.output_col, tuple(self.columns),
                            f"{self.function}(ARRAY[{slots}], "
                            f"{_number(self.variance_threshold)}) OVER ()", True)]


class Interaction:
    """Flink ML's Interaction: every product of one element of each input, the first
    input's varying slowest. An input is a column (a number) or a list of columns (a
    vector's elements)."""

    function = "ML_INTERACTION"

    def __init__(self, columns: Sequence[str | Sequence[str]], output_col: str) -> None:
        if isinstance(columns, str) or not columns:
            raise OptionError(f"Interaction: columns is a list of columns and lists of "
                              f"columns (vectors), not {columns!r}")
        self.columns = [c if isinstance(c, str) else _names(c, "a vector's columns",
                                                              "Interaction")
                        for c in columns]
        _names([c for c in self.columns if isinstance(c, str)] or ["-"], "columns",
               "Interaction")
        self.output_col = _names([output_col], "output_col", "Interaction")[0]

    def outputs(self) -> list[StageOutput]:
        flat = [c for column in self.columns for c in ([column] if isinstance(column, str)
                                                        else column)]
        slots = iter(range(len(flat)))
        arguments = [f"{{{next(slots)}}}" if isinstance(column, str)
                     else f"ARRAY[{', '.join(f'{{{next(slots)}}}' for _ in column)}]"
                     for column in self.columns]
        return [StageOutput(self.output_col, tuple(flat),
                            f"{self.function}({', '.join(arguments)})", False)]

    def __repr__(self) -> str:
        return f"Interaction(columns={self.columns!r}, output_col={self.output_col!r})"


class SQLTransformer:
    """Any Flink SQL over the columns: an `expression` as one output column (a TRANSFORM item,
    a pipeline stage), or Flink ML's whole `statement` over the table `__THIS__` (any
    SELECT: GROUP BY, windows, joins, mlsql's functions), which `transform(table)` runs. A
    statement changes the rows, so it runs on a table before a pipeline, not in one."""

    PLACEHOLDER = "__THIS__"

    def __init__(self, expression: str | None = None, output_col: str | None = None, *,
                 statement: str | None = None) -> None:
        self.expression, self.output_col, self.statement = None, None, None
        if statement is not None:
            if expression is not None or output_col is not None:
                raise OptionError("SQLTransformer: a statement, or an expression and its "
                                  "output_col, not both")
            if not isinstance(statement, str) or not _placeholders(statement):
                raise OptionError(f"Parameter statement is given an invalid value {statement}")
            self.statement = statement
            return
        if not isinstance(expression, str) or not expression.strip():
            raise OptionError("SQLTransformer: expression is Flink SQL text (or give "
                              "statement='SELECT ... FROM __THIS__')")
        self.expression = expression
        self.output_col = _names([output_col], "output_col", "SQLTransformer")[0]

    def outputs(self) -> list[StageOutput]:
        if self.expression is None:
            raise OptionError("SQLTransformer(statement=...) changes the rows: run it on the "
                              "table before the pipeline (its transform(table)[0]); a pipeline "
                              "stage is SQLTransformer(expression, output_col)")
        # Its own line end: a `--` comment in the expression stops there.
        return [StageOutput(self.output_col, (), f"({self.expression}\n)",
                            bool(FITTED_CALL.search(self.expression)))]

    def transform(self, table: Table) -> list[Table]:
        """The statement over `table` (Flink ML's transform): one Table."""
        if self.statement is None:
            raise OptionError("SQLTransformer.transform runs a statement; an expression "
                              "stage runs in a Pipeline")
        session = session_of(table, "SQLTransformer.transform")
        with table_views(session, {"input": table}, "SQLTransformer.transform") as views:
            text = self.statement
            for token in reversed(_placeholders(text)):
                text = text[: token.start] + views["input"] + text[token.end :]
            return [planned_query(session, text)]

    def save(self, path: str | Path) -> None:
        persistence.write(path, {"kind": "sql_transformer", **persistence.stage_params(self)})

    @classmethod
    def load(cls, path: str | Path) -> SQLTransformer:
        document = persistence.read(path, "sql_transformer")
        return cls(**{k: v for k, v in document.items() if k not in ("kind", "format")})

    def __repr__(self) -> str:
        if self.statement is not None:
            return f"SQLTransformer(statement={self.statement!r})"
        return f"SQLTransformer({self.expression!r}, output_col={self.output_col!r})"


def _placeholders(statement: str) -> list[Token]:
    """The statement's __THIS__ words (not in strings or comments)."""
    try:
        tokens = tokenize(statement)
    except MlsqlError:
        return []
    return [t for t in tokens if t.kind is Kind.WORD and t.text == SQLTransformer.PLACEHOLDER]


TRANSFORMERS = (StandardScaler, MinMaxScaler, MaxAbsScaler, RobustScaler, Imputer, KBinsDiscretizer,
                Bucketizer, VectorIndexer, StringIndexer, IndexToString, OneHotEncoder,
                ValueOneHotEncoder, Tokenizer, RegexTokenizer, StopWordsRemover, NGram, HashingTF,
                CountVectorizer, IDF, VectorAssembler, PolynomialExpansion, Normalizer,
                FeatureHasher, Binarizer, ElementwiseProduct, VectorSlicer, DCT, Interaction,
                VarianceThresholdSelector, UnivariateFeatureSelector, SQLTransformer)
Stage = Transformer | _ManyToOne | Interaction | SQLTransformer


def _names(values: Sequence[str], what: str, stage: str) -> list[str]:
    if isinstance(values, str) or not values or not all(
            isinstance(v, str) and v for v in values):
        raise OptionError(f"{stage}: {what} is a non-empty list of column names, not "
                          f"{values!r}")
    return list(values)


def _positive(value: int, what: str, stage: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise OptionError(f"{stage}: {what} must be an int of at least {minimum}, not "
                          f"{value!r}")
    return value


def _number(value: float) -> str:
    return repr(float(value))


def _handle_invalid(value: str, stage: str) -> str:
    if value not in HANDLE_INVALID:
        options = ", ".join(repr(h) for h in HANDLE_INVALID)
        raise OptionError(f"{stage}: handle_invalid must be one of {options}, not {value!r}")
    return value



def _literal(sql: str) -> str:
    """SQL text as it stands in a template (whose `{0}` ... are the inputs)."""
    return sql.replace("{", "{{").replace("}", "}}")


def _flag(value: bool, what: str, stage: str) -> bool:
    if not isinstance(value, bool):
        raise OptionError(f"{stage}: {what} is True or False, not {value!r}")
    return value


def load_default_stop_words(language: str) -> list[str]:
    """Flink ML's stop words for `language` (STOP_WORD_LANGUAGES), read from its jar."""
    try:
        return list(default_stop_words(language))
    except MlsqlError as error:
        raise OptionError(f"StopWordsRemover: {error}") from None


def _text_literal(value: str | None) -> str:
    return "NULL" if value is None else quote_literal(value)

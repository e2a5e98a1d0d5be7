"""Text feature functions with no Flink SQL form, as vectorized (pandas) UDFs: n-grams of a
token array, and hashed term counts. Imports numpy/pandas (and scikit-learn's MurmurHash3
where Flink ML's hashing is asked for) only: it ships to the workers."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def java_string_hash(text: str) -> int:
    """Java's String.hashCode (over UTF-16 code units)."""
    value = 0
    data = text.encode("utf-16-be")
    for i in range(0, len(data), 2):
        value = (31 * value + int.from_bytes(data[i : i + 2], "big")) & 0xFFFFFFFF
    return value - (1 << 32) if value >= 1 << 31 else value


def flink_hash_code(text: str) -> int:
    """Flink's HASH_CODE of a string: the absolute value of Java's String.hashCode (as Java's
    Math.abs, so -2**31 stays -2**31)."""
    value = java_string_hash(text)
    return value if value == -(1 << 31) else abs(value)


def bucket_of(text: str, buckets: int) -> int:
    """The hash bucket SQL's MOD(MOD(HASH_CODE(x), n) + n, n) gives."""
    return flink_hash_code(text) % buckets


def ngrams(tokens: Sequence[str] | None, n: int, separator: str) -> list[str] | None:
    """The n-grams of a token list joined by `separator` (Flink ML's NGram); fewer than n
    tokens give an empty list; NULL tokens are skipped; a NULL list gives NULL."""
    if tokens is None:
        return None
    words = [t for t in tokens if t is not None]
    return [separator.join(words[i : i + n]) for i in range(len(words) - n + 1)]


def hashing_tf(tokens: Sequence[str] | None, buckets: int) -> list[float] | None:
    """Counts of the tokens per hash bucket (Flink ML's HashingTF, non-binary)."""
    if tokens is None:
        return None
    counts = np.zeros(buckets)
    for token in tokens:
        if token is not None:
            counts[bucket_of(token, buckets)] += 1.0
    return counts.tolist()


def _lists(series: pd.Series) -> list:
    return [None if v is None or (isinstance(v, float) and np.isnan(v)) else list(v)
            for v in series]


class NGramsFunction:
    def __init__(self, n: int, separator: str) -> None:
        self.n = n
        self.separator = separator

    def __call__(self, tokens: pd.Series) -> pd.Series:
        return pd.Series([ngrams(t, self.n, self.separator) for t in _lists(tokens)],
                         dtype=object)


class HashingTfFunction:
    def __init__(self, buckets: int) -> None:
        self.buckets = buckets

    def __call__(self, tokens: pd.Series) -> pd.Series:
        return pd.Series([hashing_tf(t, self.buckets) for t in _lists(tokens)], dtype=object)


def flink_ml_hash(token: str | None) -> int:
    """Flink ML's HashingTF hash of a string: Guava's murmur3_32(0).hashUnencodedChars, that
    is MurmurHash3 (x86, 32 bits, seed 0) over its UTF-16LE code units; NULL hashes to 0."""
    from sklearn.utils import murmurhash3_32

    if token is None:
        return 0
    return int(murmurhash3_32(token.encode("utf-16-le"), seed=0))


def flink_ml_hashing_tf(tokens: Sequence[str] | None, num_features: int,
                        binary: bool) -> list[tuple[int, float]] | None:
    """Flink ML's HashingTF as a sparse vector: (index, count) pairs by index, the index
    being the hash's non-negative remainder; `binary` counts each index once."""
    if tokens is None:
        return None
    counts: dict[int, float] = {}
    for token in tokens:
        index = flink_ml_hash(token) % num_features  # Python's % is non-negative here
        counts[index] = 1.0 if binary else counts.get(index, 0.0) + 1.0
    return sorted(counts.items())


class FlinkMlHashingTfFunction:
    """Sparse (index, count) pairs, or with `dense` the whole ARRAY."""

    def __init__(self, num_features: int, binary: bool, dense: bool = False) -> None:
        self.num_features = num_features
        self.binary = binary
        self.dense = dense

    def __call__(self, tokens: pd.Series) -> pd.Series:
        pairs = [flink_ml_hashing_tf(t, self.num_features, self.binary)
                 for t in _lists(tokens)]
        if self.dense:
            pairs = [None if p is None else _dense(p, self.num_features) for p in pairs]
        return pd.Series(pairs, dtype=object)


def _dense(pairs: list[tuple[int, float]], size: int) -> list[float]:
    values = np.zeros(size)
    for index, value in pairs:
        values[index] = value
    return values.tolist()


# Java's toLowerCase(Locale) differs from str.lower() for these languages' dotted and dotless I
_DOTTED_I_LANGUAGES = frozenset({"tr", "az"})


def locale_lower(text: str, language: str) -> str:
    """`text` lower-cased as Java's String.toLowerCase(new Locale(language)) does: in Turkish
    and Azeri 'İ' becomes 'i' and 'I' becomes 'ı'; elsewhere as str.lower()."""
    if language in _DOTTED_I_LANGUAGES:
        text = text.replace("İ", "i").replace("I", "ı")
    return text.lower()


class StopWordsRemoverFunction:
    """Flink ML's StopWordsRemover: the tokens that are not stop words, in order; NULL is a
    token like another (removed only when the stop words hold NULL); without case_sensitive
    both sides are compared lower-cased in the locale's language."""

    def __init__(self, stop_words: Sequence[str | None], case_sensitive: bool,
                 language: str) -> None:
        self.case_sensitive = case_sensitive
        self.language = language
        self.stop_words = frozenset(self._key(w) for w in stop_words)

    def _key(self, token: str | None) -> str | None:
        if token is None or self.case_sensitive:
            return token
        return locale_lower(token, self.language)

    def __call__(self, tokens: pd.Series) -> pd.Series:
        kept = [None if t is None else [w for w in t if self._key(w) not in self.stop_words]
                for t in _lists(tokens)]
        return pd.Series(kept, dtype=object)


def count_vector(tokens: Sequence[str | None] | None, index: dict[str, int], min_tf: float,
                 binary: bool) -> list[tuple[int, float]] | None:
    """Flink ML's CountVectorizerModel: each vocabulary term's count in the document, as
    (index, count) pairs by index, kept where the count reaches min_tf (a count, or below 1 a
    fraction of the document's tokens); 1 instead of the count with `binary`."""
    if tokens is None:
        return None
    counts: dict[int, float] = {}
    for token in tokens:
        position = index.get(token) if token is not None else None
        if position is not None:
            counts[position] = counts.get(position, 0.0) + 1.0
    least = min_tf if min_tf >= 1.0 else len(tokens) * min_tf
    return [(i, 1.0 if binary else c) for i, c in sorted(counts.items()) if c >= least]


class CountVectorizerFunction:
    """Sparse (index, count) pairs, or with `dense` the whole ARRAY of the vocabulary's size."""

    def __init__(self, vocabulary: Sequence[str], min_tf: float, binary: bool,
                 dense: bool = False) -> None:
        self.index = {term: i for i, term in enumerate(vocabulary)}
        self.min_tf = min_tf
        self.binary = binary
        self.dense = dense

    def __call__(self, tokens: pd.Series) -> pd.Series:
        pairs = [count_vector(t, self.index, self.min_tf, self.binary) for t in _lists(tokens)]
        if self.dense:
            pairs = [None if p is None else _dense(p, len(self.index)) for p in pairs]
        return pd.Series(pairs, dtype=object)

"""mlsql.monitoring.statistics as Flink SQL, for a query that compares each window of a stream
with a reference distribution (ML_VALIDATE_DATA_SKEW / _DRIFT with a 'window').

The statistics are computed over a relation of one column's buckets in one window, one row per
reference bucket (numeric: every bucket; categorical: every category the reference had) and
per category the reference never had, with the columns
  P       the bucket's non-NULL share in the reference (0 for an unseen category),
  N       the window's count of it (BIGINT, 0 where none),
  UNSEEN  whether the reference never had it,
  ROWS, NULLS  the window's rows and NULLs of the column,
plus any number of rows with P = N = 0, which change no statistic (so that a window whose
values are all NULL still has a row). `reference_sql` gives the reference's buckets and shares,
`terms_sql` adds each bucket's term of each statistic,
AGGREGATES sums them per window and column, `findings_sql` turns the sums into the rows of
`statistics.compare`: the same float64 operations on the same shares (scipy's rel_entr for the
Jensen-Shannon divergence, PSI_FLOOR), NULL where the window has no non-NULL value.
"""

from __future__ import annotations

from collections.abc import Sequence

from mlsql.compiler.sql import double
from mlsql.monitoring.profile import Distribution
from mlsql.monitoring.statistics import (
    JSD,
    L_INFTY,
    NULL_RATE,
    PSI,
    PSI_FLOOR,
    UNSEEN,
    Thresholds,
    metrics,
    reference_shares,
)
from mlsql.syntax.dialect import quote_identifier, quote_literal

# The bucket relation's columns, and (_-prefixed) those this module adds, quoted.
P, N, UNSEEN_FLAG, ROWS, NULLS = (quote_identifier(f"__mlsql_{name}") for name in (
    "p", "n", "is_unseen", "rows", "nulls"))
_Q, _JSD_P, _JSD_Q, _L_INFTY, _PSI, _UNSEEN = (quote_identifier(f"__mlsql_{name}") for name in (
    "q", "jsd_p", "jsd_q", "l_infty", "psi", "unseen_n"))
FINDING_FIELDS = ("input", "metric", "threshold", "value")


def string(text: str) -> str:
    """A STRING literal (a bare literal is a CHAR, padded to the longest of a CASE or IN)."""
    return f"CAST({quote_literal(text)} AS STRING)"


def terms_sql(buckets_sql: str, keep: Sequence[str]) -> str:
    """The rows of the bucket relation `buckets_sql` as its `keep` columns, ROWS, NULLS and
    each statistic's term: scipy's rel_entr(p, m) and rel_entr(q, m) with m = (p + q) / 2,
    |p - q|, the PSI term, and N if the bucket is unseen."""
    present = f"({ROWS} - {NULLS})"
    shared = (f"SELECT *, CASE WHEN {present} > 0 THEN CAST({N} AS DOUBLE) / "
              f"CAST({present} AS DOUBLE) END AS {_Q} FROM ({buckets_sql})")
    m = f"(({P} + {_Q}) / 2E0)"
    floor = double(PSI_FLOOR)
    p_floored, q_floored = f"GREATEST({P}, {floor})", f"GREATEST({_Q}, {floor})"
    terms = [f"{_rel_entr(P, m)} AS {_JSD_P}", f"{_rel_entr(_Q, m)} AS {_JSD_Q}",
             f"ABS({P} - {_Q}) AS {_L_INFTY}",
             f"({q_floored} - {p_floored}) * LN({q_floored} / {p_floored}) AS {_PSI}",
             f"CASE WHEN {UNSEEN_FLAG} THEN {N} ELSE 0 END AS {_UNSEEN}"]
    return f"SELECT {', '.join([*keep, ROWS, NULLS, *terms])} FROM ({shared})"


def _rel_entr(x: str, y: str) -> str:
    """scipy.special.rel_entr for x >= 0, and y > 0 where x > 0."""
    return f"CASE WHEN {x} > 0 THEN {x} * LN({x} / {y}) ELSE 0E0 END"


# One window's and column's sums of the terms, named as findings_sql reads them.
AGGREGATES = (f"SUM({_JSD_P}) AS {_JSD_P}", f"SUM({_JSD_Q}) AS {_JSD_Q}",
              f"MAX({_L_INFTY}) AS {_L_INFTY}", f"SUM({_PSI}) AS {_PSI}",
              f"SUM({_UNSEEN}) AS {_UNSEEN}", f"MAX({ROWS}) AS {ROWS}",
              f"MAX({NULLS}) AS {NULLS}")


def findings_sql(column: str, reference: Distribution, thresholds: Thresholds) -> str:
    """An ARRAY of ROW(input, metric, threshold, value), the findings of `compare` for one
    column, over the AGGREGATES of one window."""
    rows = [f"ROW({string(column)}, {string(metric)}, {double(threshold)}, "
            f"{value_sql(metric, reference)})"
            for metric, threshold in metrics(column, reference, thresholds)]
    return f"ARRAY[{', '.join(rows)}]"


def value_sql(metric: str, reference: Distribution) -> str:
    """One statistic of a window over the AGGREGATES, as `compare` computes it."""
    if metric == NULL_RATE:
        if reference.rows == 0:
            return "CAST(NULL AS DOUBLE)"
        return (f"CASE WHEN {ROWS} > 0 THEN ABS(CAST({NULLS} AS DOUBLE) / CAST({ROWS} AS DOUBLE)"
                f" - {double(reference.nulls / reference.rows)}) END")
    present = f"({ROWS} - {NULLS})"
    if metric == UNSEEN:
        value = f"CAST({_UNSEEN} AS DOUBLE) / CAST({present} AS DOUBLE)"
    elif not reference_shares(reference):
        return "CAST(NULL AS DOUBLE)"
    elif metric == JSD:  # scipy: (sum rel_entr(p, m) + sum rel_entr(q, m)) / ln 2 / 2
        value = f"(({_JSD_P} + {_JSD_Q}) / LN(2E0)) / 2E0"
    else:
        value = {L_INFTY: _L_INFTY, PSI: _PSI}[metric]
    return f"CASE WHEN {present} > 0 THEN {value} END"


# STR_TO_MAP's delimiters: one string literal plans in no time where an ARRAY of ROWs of as many
# literals takes minutes (each a CAST, lest CHAR literals be padded to one length).
_ENTRIES, _KEY = "\x1e", "\x1f"


def reference_sql(reference: Distribution) -> str | None:
    """A MAP<STRING, STRING> from each of the reference's buckets (a numeric column: every
    bucket; a categorical one: its categories) to its share as text, which CAST AS DOUBLE
    reads back exactly; None without a non-NULL value. ValueError if a category holds one of
    the delimiters."""
    shares = reference_shares(reference)
    if not shares:
        return None
    for key in shares:
        if _ENTRIES in key or _KEY in key:
            raise ValueError(f"the category {key!r} holds a control character (U+001E or "
                             "U+001F) that the windowed form cannot pass to Flink")
    text = _ENTRIES.join(f"{key}{_KEY}{share!r}" for key, share in shares.items())
    return f"STR_TO_MAP({quote_literal(text)}, {quote_literal(_ENTRIES)}, {quote_literal(_KEY)})"

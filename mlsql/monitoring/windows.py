"""ML_VALIDATE_DATA_SKEW / _DRIFT with a 'window': one Flink SQL query that compares each
tumbling window of a table or stream with reference distributions known when it is planned,
batch or streaming alike, append-only.

    cells       each row's time and the bucket of each compared column (profile.bucket_sql),
                in one projection so that ML_PREDICT's outputs are computed once
    counts      per window, column and bucket (NULL: the column's NULLs) its count; one window
                aggregation with a grouping set per column
    totals      per window and column its rows and NULLs (a cascaded window aggregation)
    counted     the non-NULL counts with their totals (a window join)
    grid        per window and column each reference bucket and share (an UNNEST of a MAP)
    reference   every reference bucket with its count, 0 where none (a window left join)
    unseen      the counted buckets the reference never had (a window left join, unmatched)
    buckets     reference + unseen + one neutral row per window and column: the bucket
                relation of statistics_sql, whose terms a third window aggregation sums
and last one row per window, column and statistic (statistics_sql.findings_sql, unnested).
Flink reuses the plan of a CTE read several times, so the source rows are read and counted
once; everything after `counts` runs on a window's counts.
"""

from __future__ import annotations

from collections.abc import Mapping

from mlsql.core.durations import sql_interval
from mlsql.monitoring import statistics, statistics_sql
from mlsql.monitoring.profile import Distribution, bucket_sql
from mlsql.syntax.dialect import quote_identifier

_TIME, _COL, _BUCKET = (quote_identifier(f"__mlsql_{name}") for name in ("time", "col",
                                                                          "bucket"))
_P, _N, _UNSEEN = statistics_sql.P, statistics_sql.N, statistics_sql.UNSEEN_FLAG
_ROWS, _NULLS = statistics_sql.ROWS, statistics_sql.NULLS


def _same_window(a: str, b: str) -> str:
    """The window join's condition on two window TVFs' aliases."""
    return f"{a}.window_start = {b}.window_start AND {a}.window_end = {b}.window_end"


def findings_query(source_sql: str, time: str, seconds: int,
                   references: Mapping[str, Distribution],
                   thresholds: statistics.Thresholds) -> str:
    """Per tumbling window of `seconds` over the column `time` of `source_sql` (a table or a
    parenthesized query), the findings of each column of `references` against it.
    ValueError where a reference cannot be written (statistics_sql.reference_sql)."""
    interval = sql_interval(seconds)

    def tumbling(name: str) -> str:
        return f"TABLE(TUMBLE(TABLE {_cte(name)}, DESCRIPTOR({_TIME}), {interval}))"

    names = list(references)
    steps = {"cells": _cells(source_sql, time, names, references),
             "counts": _counts(tumbling("cells"), names),
             "totals": _totals(tumbling("counts")),
             "counted": _counted(tumbling("counts"), tumbling("totals"))}
    buckets = ["totals", "unseen"]
    grid = _grid(references)
    if grid is not None:
        steps["grid"] = grid
        steps["reference"] = _reference_bucket_rows(tumbling("grid"), tumbling("counts"))
        buckets.append("reference")
    steps["unseen"] = _unseen_bucket_rows(tumbling("counted"),
                                          tumbling("grid") if grid is not None else None)
    steps["buckets"] = " UNION ALL ".join(_bucket_rows(_cte(name)) for name in buckets)
    steps["terms"] = statistics_sql.terms_sql(f"SELECT * FROM {_cte('buckets')}",
                                              [_TIME, _COL])
    steps["statistics"] = (f"SELECT window_start, window_end, {_COL}, "
                           f"{', '.join(statistics_sql.AGGREGATES)} FROM {tumbling('terms')} "
                           f"GROUP BY window_start, window_end, {_COL}")
    ctes = ", ".join(f"{_cte(name)} AS ({sql})" for name, sql in steps.items())
    return f"(WITH {ctes} {_unpivot(references, thresholds)})"


def _cte(name: str) -> str:
    return quote_identifier(f"__mlsql_{name}")


def _cells(source_sql: str, time: str, names: list[str],
           references: Mapping[str, Distribution]) -> str:
    """Each source row's time and the bucket of each compared column (one projection, so
    that ML_PREDICT's outputs are computed once: Flink merges a projection into each of its
    readers, which an UNNEST or a UNION ALL of one column each would be)."""
    buckets = [f"{bucket_sql(quote_identifier(name), references[name])} AS {_cell(i)}"
               for i, name in enumerate(names)]
    return (f"SELECT {quote_identifier(time)} AS {_TIME}, {', '.join(buckets)} "
            f"FROM {source_sql} AS {_cte('source')}")


def _cell(index: int) -> str:
    return quote_identifier(f"__mlsql_b{index}")


# Flink's aggregations group by fewer than 64 keys, the window's three among them.
_GROUPING_SETS = 60


def _counts(cells: str, names: list[str]) -> str:
    """Each window's count of each column's buckets (the NULL bucket: its NULLs): one
    aggregation with a grouping set per column, a UNION ALL of such for many columns."""
    return " UNION ALL ".join(_grouped_counts(cells, names, range(start, min(
        start + _GROUPING_SETS, len(names)))) for start in range(0, len(names), _GROUPING_SETS))


def _grouped_counts(cells: str, names: list[str], indexes: range) -> str:
    column = " ".join(f"WHEN GROUPING({_cell(i)}) = 0 THEN {statistics_sql.string(names[i])}"
                      for i in indexes)
    bucket = " ".join(f"WHEN GROUPING({_cell(i)}) = 0 THEN {_cell(i)}" for i in indexes)
    sets = ", ".join(f"({_cell(i)})" for i in indexes)
    return (f"SELECT window_time AS {_TIME}, CASE {column} END AS {_COL}, "
            f"CASE {bucket} END AS {_BUCKET}, COUNT(*) AS {_N} FROM {cells} "
            f"GROUP BY window_start, window_end, window_time, GROUPING SETS ({sets})")


def _totals(counts: str) -> str:
    return (f"SELECT window_time AS {_TIME}, {_COL}, SUM({_N}) AS {_ROWS}, "
            f"SUM(CASE WHEN {_BUCKET} IS NULL THEN {_N} ELSE 0 END) AS {_NULLS} "
            f"FROM {counts} GROUP BY window_start, window_end, window_time, {_COL}")


def _counted(counts: str, totals: str) -> str:
    """Each window's non-NULL buckets with their counts and the column's totals."""
    return (f"SELECT c.window_time AS {_TIME}, c.{_COL} AS {_COL}, c.{_BUCKET} AS {_BUCKET}, "
            f"c.{_N} AS {_N}, t.{_ROWS} AS {_ROWS}, t.{_NULLS} AS {_NULLS} FROM {counts} AS c "
            f"JOIN {totals} AS t ON {_same_window('c', 't')} AND c.{_COL} = t.{_COL} "
            f"WHERE c.{_BUCKET} IS NOT NULL")


def _grid(references: Mapping[str, Distribution]) -> str | None:
    """Each window's columns with each of their reference buckets and shares."""
    maps = {name: statistics_sql.reference_sql(reference)
            for name, reference in references.items()}
    whens = " ".join(f"WHEN {statistics_sql.string(name)} THEN {shares}"
                     for name, shares in maps.items() if shares is not None)
    if not whens:
        return None
    return (f"SELECT t.{_TIME} AS {_TIME}, t.{_COL} AS {_COL}, r.b AS {_BUCKET}, "
            f"CAST(r.p AS DOUBLE) AS {_P}, t.{_ROWS} AS {_ROWS}, t.{_NULLS} AS {_NULLS} "
            f"FROM {_cte('totals')} AS t CROSS JOIN UNNEST(CASE t.{_COL} {whens} END) AS r(b, p)")


def _reference_bucket_rows(grid: str, counts: str) -> str:
    """Every reference bucket of each window, with its count there (0 where none)."""
    return (f"SELECT g.window_time AS {_TIME}, g.{_COL} AS {_COL}, g.{_P} AS {_P}, "
            f"COALESCE(c.{_N}, 0) AS {_N}, FALSE AS {_UNSEEN}, g.{_ROWS} AS {_ROWS}, "
            f"g.{_NULLS} AS {_NULLS} FROM {grid} AS g LEFT JOIN {counts} AS c ON "
            f"{_same_window('g', 'c')} AND g.{_COL} = c.{_COL} AND g.{_BUCKET} = c.{_BUCKET}")


def _unseen_bucket_rows(counted: str, grid: str | None) -> str:
    """The buckets of each window that the reference never had (categories: a numeric
    reference has every bucket, unless it had no value, where the statistics are NULL)."""
    select = (f"SELECT c.window_time AS {_TIME}, c.{_COL} AS {_COL}, 0E0 AS {_P}, "
              f"c.{_N} AS {_N}, TRUE AS {_UNSEEN}, c.{_ROWS} AS {_ROWS}, "
              f"c.{_NULLS} AS {_NULLS} FROM {counted} AS c")
    if grid is None:
        return select
    return (f"{select} LEFT JOIN {grid} AS g ON {_same_window('c', 'g')} AND "
            f"c.{_COL} = g.{_COL} AND c.{_BUCKET} = g.{_BUCKET} WHERE g.{_BUCKET} IS NULL")


def _bucket_rows(cte: str) -> str:
    """The bucket relation's columns of one part, in one order for the UNION ALL (the
    totals: one row per window and column that changes no statistic, so each has a row)."""
    if cte == _cte("totals"):
        return (f"SELECT {_TIME}, {_COL}, 0E0 AS {_P}, CAST(0 AS BIGINT) AS {_N}, "
                f"FALSE AS {_UNSEEN}, {_ROWS}, {_NULLS} FROM {cte}")
    return f"SELECT {_TIME}, {_COL}, {_P}, {_N}, {_UNSEEN}, {_ROWS}, {_NULLS} FROM {cte}"


def _unpivot(references: Mapping[str, Distribution], thresholds: statistics.Thresholds) -> str:
    """The findings rows: window_start, window_end, input, metric, threshold, value,
    is_anomaly."""
    whens = " ".join(f"WHEN {statistics_sql.string(name)} THEN "
                     f"{statistics_sql.findings_sql(name, reference, thresholds)}"
                     for name, reference in references.items())
    fields = ", ".join(quote_identifier(f) for f in statistics_sql.FINDING_FIELDS)
    value = quote_identifier("value")
    return (f"SELECT s.window_start AS window_start, s.window_end AS window_end, "
            f"f.input AS input, f.metric AS metric, f.threshold AS threshold, "
            f"f.{value} AS {value}, f.{value} > f.threshold AS is_anomaly "
            f"FROM {_cte('statistics')} AS s CROSS JOIN UNNEST(CASE s.{_COL} {whens} END) "
            f"AS f({fields})")

"""Fitting a TRANSFORM at training: the statistics of every `ML_...(...) OVER ()` from the
training query's rows, in one Flink job that reads the rows once (StatisticsQuery; a second
one only for a statistic that needs another's value, Flink ML's observed median): a branch
with all the scalar aggregates (AVG, STDDEV_POP, MIN, MAX, PERCENTILE, counts) and one branch
per vocabulary (GROUP BY value ORDER BY count LIMIT top_k), UNION ALL'd.


Where its time goes: tests/benchmarks/training.py and the README's performance section."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import pandas as pd

from mlsql.errors import SchemaError, Site, did_you_mean
from mlsql.feature_functions.base import FitRequest, FitResult
from mlsql.feature_functions.catalog import FUNCTIONS
from mlsql.feature_functions.render import sql_of
from mlsql.runtime.environment import FlinkRuntime
from mlsql.runtime.flink_types import Column, table_columns
from mlsql.syntax import ir
from mlsql.syntax.dialect import quote_identifier
from mlsql.training.extract import fetch
from mlsql.transform.document import FORMAT, columns_read, item_document, output_columns


class PlanContext(Protocol):
    """What fitting a TRANSFORM uses of the planner's context (mlsql.planner.context's
    PlanContext is one; the planner hands it in, so this layer never imports the planner)."""
    runtime: FlinkRuntime
    progress: Callable[[str], None]

    def query_columns(self, query_sql: str,
                      position: ir.Position | None = None) -> list[Column]: ...

_ROWS = quote_identifier("__mlsql_transform_rows")
_ELEMENT = quote_identifier("__mlsql_element")  # an ARRAY vocabulary's unnested element


@dataclass(frozen=True)
class FittedTransform:
    query_sql: str  # the training rows after the transform
    document: dict[str, Any]  # stored in the version's metadata as "transform"


def fit_transform(items: tuple[ir.TransformItem, ...], query_sql: str,
                  query_position: ir.Position, context: PlanContext) -> FittedTransform:
    raw = [c.name for c in context.query_columns(query_sql, query_position)]
    fitted = [(item, call) for item in items for call in _fitted_calls(item.calls)]
    requests: dict[int, tuple[dict, FitRequest]] = {}
    render = sql_of(context.runtime)
    for _, call in fitted:
        function = FUNCTIONS[call.function]
        options = function.fit_options(call.arguments, call)
        requests[id(call)] = (options, function.requests(call.arguments, options, render))
    started = time.monotonic()
    if fitted:
        context.progress(f"fitting the TRANSFORM: {len(fitted)} fitted function"
                         f"{'s' if len(fitted) != 1 else ''}")
    aggregates, vocabularies = _statistics(requests, query_sql, context)
    follow_ups = {}
    for call_id, (options, request) in requests.items():
        needed = request.then(aggregates.get(call_id, {})) if request.then else {}
        if needed:
            follow_ups[call_id] = (options, FitRequest(needed))
    if follow_ups:
        more, _ = _statistics(follow_ups, query_sql, context)
        for call_id, values in more.items():
            aggregates.setdefault(call_id, {}).update(values)
    samples = {call_id: _sample(request.sample, query_sql, context)
               for call_id, (_, request) in requests.items() if request.sample is not None}
    for call_id, (_, request) in requests.items():
        if request.queries is not None:
            aggregates.setdefault(call_id, {}).update(request.queries(
                lambda sql: fetch(context.runtime, sql), f"({query_sql}) AS {_ROWS}"))
    if fitted:
        context.progress(f"fitted the TRANSFORM in {time.monotonic() - started:.1f} s")
    texts = {}
    for _, call in fitted:
        options, _ = requests[id(call)]
        result = FitResult(aggregates.get(id(call), {}), vocabularies.get(id(call), []),
                           samples.get(id(call), []))
        texts[id(call)] = FUNCTIONS[call.function].fitted_text(call.arguments, options, result)

    stored, select = [], []
    for item in items:
        expression = _substitute(item.expression, item.calls, texts)
        outputs = output_columns(expression, item.alias, context.runtime)
        reads = columns_read(expression, raw)
        if not reads and not item.calls:
            raise SchemaError(f"{item.expression!r} reads no column of the training query "
                              f"(columns: {', '.join(raw)})", at=Site("TRANSFORM", item.position))
        stored.append(item_document(item, expression, [n for n, _ in outputs], reads))
        select += [f"{sql} AS {quote_identifier(name)}" for name, sql in outputs]
    names = [n for entry in stored for n in entry["columns"]]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise SchemaError(f"TRANSFORM makes column {duplicates[0]!r} twice")
    return FittedTransform(f"SELECT {', '.join(select)} FROM ({query_sql}) AS {_ROWS}",
                           {"format": FORMAT, "items": stored})


def _fitted_calls(calls: tuple[ir.FeatureCall, ...]) -> list[ir.FeatureCall]:
    found = []
    for call in calls:
        if call.fitted:
            found.append(call)
        else:
            for arg in call.arguments:
                found.extend(_fitted_calls(arg.calls))
    return found


def _substitute(text: str, calls: tuple[ir.FeatureCall, ...], texts: dict[int, str]) -> str:
    """`text` with every fitted call replaced by its explicit form."""
    for call in sorted(calls, key=lambda c: c.start, reverse=True):
        if call.fitted:
            replacement = texts[id(call)]
        else:
            replacement = text[call.start : call.end]
            for arg in sorted(call.arguments, key=lambda a: a.start, reverse=True):
                begin = arg.start - call.start
                replacement = (replacement[:begin] + _substitute(arg.text, arg.calls, texts)
                               + replacement[begin + len(arg.text) :])
        text = text[: call.start] + replacement + text[call.end :]
    return text


_INTEGERS = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT"}
_AGGREGATES_ROW = -1  # the `k` of the aggregates' row; a vocabulary's rows have its index
_COUNT_CALL = -1  # the row count's place among the calls' aggregates


@dataclass(frozen=True)
class StatisticsQuery:
    """The one query that computes every statistic of a TRANSFORM, and how to read its rows.

    Its rows are (k, v, c, a0, a1, ...): one row with k = -1 holding every scalar aggregate in
    a0, a1, ... (an ARRAY result, e.g. PERCENTILE at several points, one element per column:
    Flink computes the aggregate once), and for vocabulary i the rows k = i, v = a value,
    c = its count. The branches are UNION ALL'd: one Flink job, and Flink's batch optimizer
    reuses the training query's scan across them (sub-plan and scan reuse, Flink's
    defaults), so the rows are read once. For that the vocabularies keep the NULL group
    (a `WHERE v IS NOT NULL` would be pushed into the scan, making it another scan): one
    more row is fetched per vocabulary and the NULL dropped here."""

    sql: str
    aggregates: list[tuple[int, str, int | None]]  # (call, key, array length)
    integer_columns: list[bool]  # per aggregate column: an integer type
    vocabularies: list[tuple[int, int]]  # (call, top_k), by index k


def statistics_query(requests: dict[int, tuple[dict, FitRequest]], query_sql: str,
                     runtime: FlinkRuntime) -> StatisticsQuery | None:
    """None when nothing is fitted."""
    if not requests:
        return None
    columns: list[str] = ["COUNT(*)"]  # the training rows: none leaves nothing to fit
    where: list[tuple[int, str, int | None]] = [(_COUNT_CALL, "rows", None)]
    for key_call, (_, request) in requests.items():
        for key, aggregate in request.aggregates.items():
            sql, length = (aggregate, None) if isinstance(aggregate, str) else aggregate
            where.append((key_call, key, length))
            columns += [sql] if length is None else [f"({sql})[{i + 1}]" for i in range(length)]
    wanted = [(call_id, request.vocabulary) for call_id, (_, request) in requests.items()
              if request.vocabulary is not None]
    rows = f"({query_sql}) AS {_ROWS}"
    aliases = [f"a{i}" for i in range(len(columns))]
    select = ", ".join(f"{sql} AS {a}" for sql, a in zip(columns, aliases, strict=True))
    types = table_columns(runtime.sql_query(f"SELECT {select} FROM {rows}"))
    # The vocabularies' rows fill an integer aggregate with 0, not NULL: a column with a NULL
    # would come back as floats (pandas), and a large count would lose its last digits.
    fillers = [f"CAST({'0' if t.root in _INTEGERS else 'NULL'} AS {t.type}) AS {a}"
               for t, a in zip(types, aliases, strict=True)]
    branches = [", ".join([f"SELECT CAST({_AGGREGATES_ROW} AS INT) AS k",
                           "CAST(NULL AS STRING) AS v", "CAST(0 AS BIGINT) AS c",
                           select]) + f" FROM {rows}"]
    for index, (_, vocabulary) in enumerate(wanted):
        values = (f"SELECT {_ELEMENT}.v AS v FROM {rows} CROSS JOIN UNNEST(ARRAY_DISTINCT("
                  f"{vocabulary.expression})) AS {_ELEMENT}(v)" if vocabulary.elements
                  else f"SELECT {vocabulary.expression} AS v FROM {rows}")
        counted = (f"SELECT v, COUNT(*) AS c FROM ({values}) GROUP BY v HAVING COUNT(*) >= "
                   f"{vocabulary.min_count}")
        branches.append(", ".join([f"SELECT CAST({index} AS INT) AS k", "CAST(v AS STRING) AS v",
                                   "CAST(c AS BIGINT) AS c", *fillers])
                        + f" FROM ({counted} ORDER BY c DESC, v LIMIT {vocabulary.top_k + 1})")
    sql = branches[0] if len(branches) == 1 else " UNION ALL ".join(f"({b})" for b in branches)
    return StatisticsQuery(sql, where, [t.root in _INTEGERS for t in types],
                           [(call_id, vocabulary.top_k) for call_id, vocabulary in wanted])


def _statistics(requests: dict[int, tuple[dict, FitRequest]], query_sql: str,
                context: PlanContext) -> tuple[dict[int, dict[str, Any]],
                                               dict[int, list[tuple[str, int]]]]:
    """Every aggregate (call -> key -> value) and vocabulary (call -> [(value, count)], most
    frequent first, ties by value), from one job."""
    query = statistics_query(requests, query_sql, context.runtime)
    if query is None:
        return {}, {}
    frame = fetch(context.runtime, query.sql)
    k = frame["k"].to_numpy()
    aggregates: dict[int, dict[str, Any]] = {}
    row = frame[k == _AGGREGATES_ROW].iloc[0]
    values = [_plain(row[f"a{i}"], integer) for i, integer in enumerate(query.integer_columns)]
    position = 0
    for call_id, key, length in query.aggregates:
        if length is None:
            aggregates.setdefault(call_id, {})[key] = values[position]
            position += 1
        else:
            aggregates.setdefault(call_id, {})[key] = values[position : position + length]
            position += length
    if not aggregates.pop(_COUNT_CALL)["rows"]:
        raise SchemaError("it returned no rows: the TRANSFORM's fitted functions have nothing "
                          "to be fitted on", at=Site("the training query"))
    vocabularies: dict[int, list[tuple[str, int]]] = {call_id: []
                                                       for call_id, _ in query.vocabularies}
    counted = frame.loc[(k != _AGGREGATES_ROW) & frame["v"].notna(), ["k", "v", "c"]]
    counted = counted.sort_values(["k", "c", "v"], ascending=[True, False, True])
    for index, v, c in counted.itertuples(index=False):
        call_id, top_k = query.vocabularies[int(index)]
        if len(vocabularies[call_id]) < top_k:
            vocabularies[call_id].append((str(v), int(c)))
    return aggregates, vocabularies


def _sample(request: tuple[str, int], query_sql: str, context: PlanContext) -> list[float]:
    """Up to n non-NULL values of the expression over the training rows: all of them when
    there are n or fewer, else the first n read."""
    expression, n = request
    frame = fetch(context.runtime, f"SELECT v FROM (SELECT {expression} AS v FROM "
                                   f"({query_sql}) AS {_ROWS}) WHERE v IS NOT NULL LIMIT {n}")
    return [float(v) for v in frame["v"]]


def _plain(value: Any, integer: bool = False) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if pd.isna(value):
        return None
    value = value.item() if hasattr(value, "item") else value
    return int(value) if integer else value


def fit_statement(statement: ir.CreateModel, query_sql: str, context: PlanContext,
                  label: str | None = None) -> FittedTransform | None:
    """The training hook: None for a CREATE MODEL without TRANSFORM (its query's columns are
    the features, as before). The label must be one of the TRANSFORM's columns: checked
    before the statistics' jobs run."""
    if statement.transform is None:
        return None
    aliases = [item.alias for item in statement.transform]
    if label is not None and label not in aliases:
        raise SchemaError(f"label {label!r} is not one of its columns ({', '.join(aliases)})"
                          f"{did_you_mean(label, aliases)}; list it there",
                          at=Site("TRANSFORM", statement.transform[0].position))
    return fit_transform(statement.transform, query_sql, statement.query_position, context)

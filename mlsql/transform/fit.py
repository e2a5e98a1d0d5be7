"""Fitting a TRANSFORM at training: the statistics of every `ML_...(...) OVER ()` from the
training query's rows, in as few Flink jobs as there are kinds of statistic: one job with all
the scalar aggregates (AVG, STDDEV_POP, MIN, MAX, PERCENTILE, counts), and one job with every
vocabulary (GROUP BY value ORDER BY count LIMIT top_k, one UNION ALL branch each)."""

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
from mlsql.runtime.flink_types import Column
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
    aggregates = _aggregates(requests, query_sql, context)
    vocabularies = _vocabularies(requests, query_sql, context)
    if fitted:
        context.progress(f"fitted the TRANSFORM in {time.monotonic() - started:.1f} s")
    texts = {}
    for _, call in fitted:
        options, _ = requests[id(call)]
        result = FitResult(aggregates.get(id(call), {}), vocabularies.get(id(call), []))
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


def _aggregates(requests: dict[int, tuple[dict, FitRequest]], query_sql: str,
                context: PlanContext) -> dict[int, dict[str, Any]]:
    """One job computing every scalar aggregate; an ARRAY result (PERCENTILE at several
    points) comes back one element per column (Flink computes the aggregate once)."""
    columns: list[str] = []
    where: list[tuple[int, str, int | None]] = []  # (call, key, array length)
    for key_call, (_, request) in requests.items():
        for key, aggregate in request.aggregates.items():
            sql, length = (aggregate, None) if isinstance(aggregate, str) else aggregate
            where.append((key_call, key, length))
            parts = [sql] if length is None else [f"({sql})[{i + 1}]" for i in range(length)]
            columns += parts
    if not columns:
        return {}
    select = ", ".join(f"{sql} AS a{i}" for i, sql in enumerate(columns))
    row = fetch(context.runtime, f"SELECT {select} FROM ({query_sql}) AS {_ROWS}").iloc[0]
    values = [_plain(v) for v in row.tolist()]
    results: dict[int, dict[str, Any]] = {}
    position = 0
    for call_id, key, length in where:
        if length is None:
            results.setdefault(call_id, {})[key] = values[position]
            position += 1
        else:
            results.setdefault(call_id, {})[key] = values[position : position + length]
            position += length
    return results


def _plain(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if pd.isna(value):
        return None
    return value.item() if hasattr(value, "item") else value


def _vocabularies(requests: dict[int, tuple[dict, FitRequest]], query_sql: str,
                  context: PlanContext) -> dict[int, list[tuple[str, int]]]:
    wanted = [(call_id, request.vocabulary) for call_id, (_, request) in requests.items()
              if request.vocabulary is not None]
    if not wanted:
        return {}
    branches = []
    for index, (_, vocabulary) in enumerate(wanted):
        counted = (f"SELECT v, COUNT(*) AS c FROM (SELECT {vocabulary.expression} AS v FROM "
                   f"({query_sql}) AS {_ROWS}) WHERE v IS NOT NULL GROUP BY v HAVING "
                   f"COUNT(*) >= {vocabulary.min_count}")
        branches.append(f"SELECT CAST({index} AS INT) AS k, v, c FROM ({counted} ORDER BY c "
                        f"DESC, v LIMIT {vocabulary.top_k})")
    frame = fetch(context.runtime, " UNION ALL ".join(f"({b})" for b in branches))
    frame = frame.sort_values(["k", "c", "v"], ascending=[True, False, True])
    results: dict[int, list[tuple[str, int]]] = {call_id: [] for call_id, _ in wanted}
    for k, v, c in frame.itertuples(index=False):
        results[wanted[int(k)][0]].append((str(v), int(c)))
    return results


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

"""Feature calls spelled as Flink SQL (explicit calls only: a fitted call is first replaced by
its explicit form at training, mlsql.transform.fit)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mlsql.feature_functions.base import FeatureArgumentError, SqlOf
from mlsql.feature_functions.catalog import FUNCTIONS
from mlsql.syntax import ir


def render_text(text: str, calls: Sequence[ir.FeatureCall], runtime: Any) -> str:
    """`text` with each of its (outermost) feature calls replaced by Flink SQL."""
    for call in sorted(calls, key=lambda c: c.start, reverse=True):
        text = text[: call.start] + render_call(call, runtime) + text[call.end :]
    return text


def sql_of(runtime: Any) -> SqlOf:
    return lambda arg: f"({render_text(arg.text, arg.calls, runtime)})"


def render_call(call: ir.FeatureCall, runtime: Any) -> str:
    function = FUNCTIONS[call.function]
    if call.fitted:
        raise FeatureArgumentError("OVER () is fitted at training only", call.position,
                                   call.function)
    params = function.explicit(call.arguments, call)
    return function.render(call.arguments, params, sql_of(runtime), runtime)


def expanded(call: ir.FeatureCall, alias: str, runtime: Any) -> list[tuple[str, str]] | None:
    """An array-valued call's elements as (column name, SQL), or None for a scalar one."""
    function = FUNCTIONS[call.function]
    if not function.array or call.fitted:
        return None
    params = function.explicit(call.arguments, call)
    if not function.expands(params):
        return None
    parts = function.expand(call.arguments, params, sql_of(runtime), runtime)
    return list(zip(function.element_names(params, alias), parts, strict=True))

"""A table computed at planning time: a VALUES subquery, or a registered table when large.

Flink keeps a VALUES list of plain literals as one Values node, but turns one that holds any
expression (a CAST, `CAST(NULL AS DOUBLE)`) into a UNION ALL of one-row sources: hundreds
of rows then plan slowly, come back in no particular order and run out of network buffers.
So every cell is a literal, and a column with NULL or infinite cells carries a flag column
that the outer projection turns back into them.

Flink compiles a VALUES node into one Java method, which the JVM caps at 64 KB: a few
hundred rows (a ROC curve of 20,000 distinct scores failed, and took 83 s to plan where it
did not). Larger tables are handed to Flink as data (`from_pandas`, one source, rows in
order) under a temporary view the subquery reads.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from mlsql.compiler.sql import double
from mlsql.syntax.dialect import quote_identifier, quote_literal

if TYPE_CHECKING:
    from mlsql.planner.context import PlanContext

MAX_VALUES_ROWS = 200

_VALUE, _NULL, _INFINITY, _MINUS_INFINITY = 0, 1, 2, 3
_SPECIAL = {_NULL: "NULL", _INFINITY: "'Infinity'", _MINUS_INFINITY: "'-Infinity'"}


def table_subquery(context: PlanContext, alias: str, columns: Sequence[tuple[str, str]],
                   rows: Iterable[Sequence[Any]]) -> str:
    """`rows` as a subquery: VALUES up to MAX_VALUES_ROWS rows, a registered table above."""
    rows = [list(row) for row in rows]
    if len(rows) <= MAX_VALUES_ROWS:
        return values_subquery(alias, columns, rows)
    from pyflink.table import DataTypes

    frame = pd.DataFrame({name: _column([row[i] for row in rows], flink_type)
                          for i, (name, flink_type) in enumerate(columns)})
    schema = DataTypes.ROW([DataTypes.FIELD(name, getattr(DataTypes, flink_type)())
                            for name, flink_type in columns])
    t_env = context.runtime.t_env
    view = f"{alias}_{uuid.uuid4().hex[:12]}"
    t_env.create_temporary_view(view, t_env.from_pandas(frame, schema))
    context.plan_views.append(view)  # dropped once the statement has run (Session)
    return f"(SELECT * FROM {quote_identifier(view)})"


def _column(values: list[Any], flink_type: str) -> pd.Series:
    """One column for from_pandas: numbers as numpy dtypes, NULL as None (PyFlink's arrow
    conversion refuses pandas' nullable integer arrays)."""
    if flink_type == "DOUBLE":
        return pd.Series([math.nan if v is None else float(v) for v in values], dtype="float64")
    if flink_type in ("INT", "BIGINT") and all(v is not None for v in values):
        return pd.Series(values, dtype="int64")
    return pd.Series(values, dtype=object)


def values_subquery(alias: str, columns: Sequence[tuple[str, str]],
                    rows: Iterable[Sequence[Any]]) -> str:
    """`rows` (one value per column; types STRING, DOUBLE, BIGINT or INT; None or NaN for
    NULL) as `(SELECT <columns> FROM (VALUES ...))`."""
    cells = [[_cell(v, t) for v, (_, t) in zip(row, columns, strict=True)] for row in rows]
    if not cells:
        raise ValueError("a VALUES table needs a row")
    flagged = [any(row[i][1] != _VALUE for row in cells) for i in range(len(columns))]
    tuples = ", ".join(
        "(" + ", ".join(f"{text}, {flag}" if flagged[i] else text
                        for i, (text, flag) in enumerate(row)) + ")" for row in cells)
    inner = []
    select = []
    for i, ((name, flink_type), has_flag) in enumerate(zip(columns, flagged, strict=True)):
        inner.append(f"v{i}")
        value = f"CAST(v{i} AS {flink_type})"
        if has_flag:
            inner.append(f"k{i}")
            arms = " ".join(f"WHEN {flag} THEN CAST({text} AS {flink_type})"
                            for flag, text in _SPECIAL.items())
            value = f"CASE k{i} {arms} ELSE {value} END"
        select.append(f"{value} AS {quote_identifier(name)}")
    return (f"(SELECT {', '.join(select)} FROM (VALUES {tuples}) AS "
            f"{quote_identifier(alias)}({', '.join(inner)}))")


def _cell(value: Any, flink_type: str) -> tuple[str, int]:
    """A literal for the cell and its flag (a placeholder literal where the flag decides)."""
    placeholder = {"STRING": "''", "DOUBLE": "0E0"}.get(flink_type, "0")
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return placeholder, _NULL
    if flink_type == "STRING":
        return quote_literal(str(value)), _VALUE
    if flink_type == "DOUBLE":
        value = float(value)
        if math.isinf(value):
            return placeholder, _INFINITY if value > 0 else _MINUS_INFINITY
        return double(value), _VALUE
    return str(int(value)), _VALUE

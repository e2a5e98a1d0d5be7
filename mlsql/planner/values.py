"""A table computed at planning time, written as a VALUES subquery.

Flink keeps a VALUES list of plain literals as one Values node, but turns one that holds any
expression (a CAST, `CAST(NULL AS DOUBLE)`) into a UNION ALL of one-row sources: hundreds
of rows then plan slowly, come back in no particular order and run out of network buffers.
So every cell is a literal, and a column with NULL or infinite cells carries a flag column
that the outer projection turns back into them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from mlsql.compiler.sql import double
from mlsql.dialect import quote_identifier, quote_literal

_VALUE, _NULL, _INFINITY, _MINUS_INFINITY = 0, 1, 2, 3
_SPECIAL = {_NULL: "NULL", _INFINITY: "'Infinity'", _MINUS_INFINITY: "'-Infinity'"}


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

"""The stored form of a fitted TRANSFORM, and turning it back into Flink SQL.

metadata.json's "transform":
    {"format": 1, "items": [{"name": "amount_z", "written": "ML_STANDARD_SCALER(amount) OVER ()",
      "expression": "ML_STANDARD_SCALER(amount, 1.5E0, 2.0E0)", "columns": ["amount_z"],
      "reads": ["amount"]}, ...]}
`expression` holds explicit feature calls only, so it is rendered by the same code as a
plain query's; an array-valued call (one-hot, polynomial, ...) makes one column per element.
"""

from __future__ import annotations

from typing import Any

from mlsql.feature_functions.calls import parse_expression
from mlsql.feature_functions.render import expanded, render_text
from mlsql.syntax import ir
from mlsql.syntax.lexer import Kind, tokenize

FORMAT = 1


def output_columns(expression: str, alias: str, runtime: Any) -> list[tuple[str, str]]:
    """(column name, Flink SQL) for one stored item."""
    calls = parse_expression(expression)
    if len(calls) == 1 and calls[0].start == 0 and calls[0].end == len(expression):
        parts = expanded(calls[0], alias, runtime)
        if parts is not None:
            return parts
    return [(alias, render_text(expression, calls, runtime))]


def columns_read(expression: str, available: list[str]) -> list[str]:
    """The raw columns an expression reads: the identifiers naming one of `available`."""
    tokens = tokenize(expression)
    names = set(available)
    found: list[str] = []
    for index, token in enumerate(tokens):
        if token.kind not in (Kind.WORD, Kind.QUOTED) or token.value not in names:
            continue
        if tokens[index + 1].is_punct("(") and token.kind is Kind.WORD:
            continue  # a function of the same name
        if token.value not in found:
            found.append(token.value)
    return found


def item_document(item: ir.TransformItem, expression: str, columns: list[str],
                  reads: list[str]) -> dict[str, Any]:
    return {"name": item.alias, "written": item.expression, "expression": expression,
            "columns": columns, "reads": reads}

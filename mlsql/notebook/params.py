"""Python values in notebook SQL: `:name` placeholders, bound as SQL literals.

A placeholder is a colon directly followed by a Python identifier (`WHERE amount > :limit`),
outside string literals, comments and hints (mlsql's lexer decides, so `':x'` and `-- :x`
stay as written, and Flink's `::` cast is no placeholder). Each one becomes a literal of the
value it names: a str single-quoted with quotes doubled (so no value can end the literal and
add SQL), an int or a finite float as a number (floats as DOUBLE literals, negative numbers
in parentheses so `x-:n` never becomes a `--` comment), a bool TRUE/FALSE, None NULL. Any
other type is an error, as is a name the namespace lacks.
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Mapping

import numpy as np

from mlsql.errors import SqlSyntaxError
from mlsql.lexer import Kind, Token, tokenize

# A literal glued to a word before it could read as a prefixed string (E'..', U&'..').
_GLUE = set("_$&`'\"")


def bind(sql: str, namespace: Mapping[str, object]) -> str:
    """`sql` with every `:name` placeholder replaced by the literal of `namespace[name]`."""
    tokens = tokenize(sql)
    pieces: list[str] = []
    copied = 0
    for colon, name in itertools.pairwise(tokens):
        if not _is_placeholder(colon, name):
            continue
        if name.text not in namespace:
            raise _error(sql, colon, f"no Python variable {name.text!r} for :{name.text}")
        try:
            literal = sql_literal(namespace[name.text])
        except TypeError as error:
            raise _error(sql, colon, f":{name.text}: {error}") from None
        before = sql[colon.start - 1] if colon.start else " "
        pieces += [sql[copied:colon.start], " " if before.isalnum() or before in _GLUE else "",
                   literal]
        copied = name.end
    return "".join(pieces) + sql[copied:]


def sql_literal(value: object) -> str:
    """The Flink SQL literal for a Python value; TypeError for a type without one."""
    if value is None:
        return "NULL"
    if isinstance(value, bool | np.bool_):
        return "TRUE" if value else "FALSE"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, numbers.Integral):
        return _signed(str(int(value)))
    if isinstance(value, numbers.Real):
        number = float(value)
        if not math.isfinite(number):
            raise TypeError(f"{number} has no SQL literal")
        text = repr(number)
        return _signed(text if "e" in text else f"{text}E0")  # E: a DOUBLE, not a DECIMAL
    raise TypeError(f"a {type(value).__name__} cannot be bound as a SQL literal (str, int, "
                    "float, bool and None can)")


def _signed(number: str) -> str:
    return f"({number})" if number.startswith("-") else number


def _is_placeholder(colon: Token, name: Token) -> bool:
    return (colon.is_punct(":") and name.kind is Kind.WORD and name.start == colon.end
            and name.text.isidentifier())


def _error(sql: str, token: Token, message: str) -> SqlSyntaxError:
    lines = sql.split("\n")
    source = lines[token.line - 1] if token.line <= len(lines) else ""
    return SqlSyntaxError(message, token.line, token.col, source)

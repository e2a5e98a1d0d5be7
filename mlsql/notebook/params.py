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
import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from mlsql.errors import SqlSyntaxError
from mlsql.syntax.lexer import Kind, Token, tokenize

# A literal glued to a word or quote beside it could read as one token with it (E'..',
# U&'..', 'a''b').
_GLUE = set("_$&`'\"")


@dataclass(frozen=True)
class Bound:
    """A cell's SQL with its placeholders bound, and where each literal came from, so that an
    error's position in the bound text is reported in the cell as the user wrote it."""

    text: str
    source: str
    # (start, end) in `text` of each literal, (start, end) in `source` of its placeholder
    replaced: tuple[tuple[int, int, int, int], ...] = ()

    def source_position(self, line: int, col: int) -> tuple[int, int]:
        offset = _offset(self.text, line, col)
        shift = 0
        for start, end, source_start, source_end in self.replaced:
            if offset < start:
                break
            if offset < end:  # inside a literal: its placeholder
                return _line_col(self.source, source_start)
            shift = source_end - end
        return _line_col(self.source, offset + shift)

    def source_message(self, message: str) -> str:
        """`message` with each 'line L, column C' moved back into the cell."""
        def move(match: re.Match[str]) -> str:
            line, col = self.source_position(int(match.group(1)), int(match.group(2)))
            return f"line {line}, column {col}"

        return _POSITION.sub(move, message) if self.replaced else message


_POSITION = re.compile(r"line (\d+), column (\d+)")


def bind(sql: str, namespace: Mapping[str, object]) -> str:
    """`sql` with every `:name` placeholder replaced by the literal of `namespace[name]`."""
    return bind_placeholders(sql, namespace).text


def bind_placeholders(sql: str, namespace: Mapping[str, object]) -> Bound:
    """As `bind`, keeping where each literal stands (see Bound)."""
    tokens = tokenize(sql)
    pieces: list[str] = []
    replaced: list[tuple[int, int, int, int]] = []
    length = copied = 0
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
        after = sql[name.end] if name.end < len(sql) else " "
        lead = [sql[copied:colon.start], " " if _glues(before) else ""]
        length += sum(map(len, lead))
        replaced.append((length, length + len(literal), colon.start, name.end))
        tail = " " if _glues(after) or after == "." else ""
        pieces += [*lead, literal, tail]
        length += len(literal) + len(tail)
        copied = name.end
    return Bound("".join(pieces) + sql[copied:], sql, tuple(replaced))


def _offset(text: str, line: int, col: int) -> int:
    lines = text.split("\n")
    line = max(1, min(line, len(lines)))
    return sum(len(earlier) + 1 for earlier in lines[:line - 1]) + max(0, col - 1)


def _line_col(text: str, offset: int) -> tuple[int, int]:
    before = text[:offset]
    return before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1


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


def _glues(neighbour: str) -> bool:
    """Whether a literal written next to this character would merge with it (`E'..'`,
    `'a''b'`, `5.5`)."""
    return neighbour.isalnum() or neighbour in _GLUE


def _signed(number: str) -> str:
    return f"({number})" if number.startswith("-") else number


def _is_placeholder(colon: Token, name: Token) -> bool:
    return (colon.is_punct(":") and name.kind is Kind.WORD and name.start == colon.end
            and name.text.isidentifier())


def _error(sql: str, token: Token, message: str) -> SqlSyntaxError:
    lines = sql.split("\n")
    source = lines[token.line - 1] if token.line <= len(lines) else ""
    return SqlSyntaxError(message, token.line, token.col, source)

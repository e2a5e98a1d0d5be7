"""Flink SQL lexical analysis with exact byte offsets.

mlsql rewrites only the ML constructs of a statement and splices the result back into the
user's text, so every token keeps its start and end offset, line and column. The rules are
Flink's: backtick-quoted identifiers, single-quoted strings with '' escapes, `--` and
`/* */` comments. A `/*+ ... */` comment is a hint, which changes what Flink does: it is a
token, so it stays in the statement wherever it stands.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from mlsql.errors import SqlSyntaxError
from mlsql.syntax.sensitive import HIDDEN, is_sensitive


class Kind(enum.Enum):
    WORD = "word"  # an unquoted identifier or keyword
    QUOTED = "quoted"  # a `backtick quoted` identifier
    STRING = "string"
    NUMBER = "number"
    PUNCT = "punct"
    HINT = "hint"  # /*+ ... */, kept for Flink
    EOF = "eof"


@dataclass(frozen=True)
class Token:
    kind: Kind
    text: str  # the source text, quotes included
    start: int
    end: int
    line: int
    col: int

    @property
    def upper(self) -> str:
        return self.text.upper() if self.kind is Kind.WORD else ""

    def is_word(self, *words: str) -> bool:
        return self.kind is Kind.WORD and self.text.upper() in words

    def is_punct(self, *symbols: str) -> bool:
        return self.kind is Kind.PUNCT and self.text in symbols

    @property
    def value(self) -> str:
        """The identifier or string this token denotes, quotes removed."""
        if self.kind is Kind.STRING:
            body = self.text[self.text.index("'") + 1 : -1]
            return body.replace("''", "'")
        if self.kind is Kind.QUOTED:
            return self.text[1:-1].replace("``", "`")
        return self.text


_TWO_CHAR_PUNCT = {"<>", "<=", ">=", "!=", "||", "=>", "::"}


def tokenize(sql: str, base_line: int = 1, base_col: int = 1) -> list[Token]:
    """Split `sql` into tokens; plain comments and whitespace are dropped but offsets kept.

    `base_line`/`base_col` give the position of `sql[0]` in a larger script so errors name
    the line and column the user sees.
    """
    tokens: list[Token] = []
    i, n = 0, len(sql)
    line, line_start = base_line, 0
    first_line_offset = base_col - 1

    def col_of(pos: int) -> int:
        return pos - line_start + 1 + (first_line_offset if line == base_line else 0)

    def error(message: str, pos: int) -> SqlSyntaxError:
        text_line = sql[line_start:].split("\n", 1)[0]
        return SqlSyntaxError(message, line, col_of(pos), text_line)

    while i < n:
        ch = sql[i]
        if ch == "\n":
            line += 1
            line_start = i + 1
            i += 1
        elif ch.isspace():
            i += 1
        elif sql.startswith("--", i):
            end = sql.find("\n", i)
            i = n if end < 0 else end
        elif sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            if end < 0:
                raise error("unterminated /* comment", i)
            start, tok_line, tok_col = i, line, col_of(i)
            for j in range(i, end):
                if sql[j] == "\n":
                    line += 1
                    line_start = j + 1
            i = end + 2
            if sql.startswith("/*+", start):
                tokens.append(Token(Kind.HINT, sql[start:i], start, i, tok_line, tok_col))
        elif ch == "'" or (ch in "xXnNuUeE" and sql.startswith("'", i + 1)) or (
            sql.startswith("U&'", i) or sql.startswith("u&'", i)
        ):
            start, tok_line, tok_col = i, line, col_of(i)
            i = sql.index("'", i) + 1
            while True:
                if i >= n:  # its line, up to the quote only where it opens a secret
                    opened = sql.rfind("\n", 0, start) + 1
                    shown = (sql[opened:start] + f"'{HIDDEN}" if _is_secret(tokens) else
                             sql[opened:].split("\n", 1)[0])
                    raise SqlSyntaxError("unterminated string literal", tok_line, tok_col,
                                         shown)
                if sql[i] == "'":
                    if sql.startswith("''", i):
                        i += 2
                        continue
                    i += 1
                    break
                if sql[i] == "\n":
                    line += 1
                    line_start = i + 1
                i += 1
            tokens.append(Token(Kind.STRING, sql[start:i], start, i, tok_line, tok_col))
        elif ch == "`":
            start, tok_col = i, col_of(i)
            i += 1
            while True:
                end = sql.find("`", i)
                if end < 0:
                    raise error("unterminated `quoted identifier`", start)
                if sql.startswith("``", end):
                    i = end + 2
                    continue
                i = end + 1
                break
            tokens.append(Token(Kind.QUOTED, sql[start:i], start, i, line, tok_col))
            if "\n" in tokens[-1].text:  # a name across lines: later tokens' lines go on
                line += tokens[-1].text.count("\n")
                line_start = sql.rfind("\n", start, i) + 1
        elif ch.isalpha() or ch == "_" or ch == "$":
            start = i
            while i < n and (sql[i].isalnum() or sql[i] in "_$"):
                i += 1
            tokens.append(Token(Kind.WORD, sql[start:i], start, i, line, col_of(start)))
        elif ch.isdigit() or (ch == "." and i + 1 < n and sql[i + 1].isdigit()):
            start = i
            while i < n and (sql[i].isalnum() or sql[i] == "."):
                if sql[i] in "eE" and i + 1 < n and sql[i + 1] in "+-":
                    i += 1
                i += 1
            tokens.append(Token(Kind.NUMBER, sql[start:i], start, i, line, col_of(start)))
        else:
            width = 2 if sql[i : i + 2] in _TWO_CHAR_PUNCT else 1
            tokens.append(Token(Kind.PUNCT, sql[i : i + width], i, i + width, line, col_of(i)))
            i += width
    tokens.append(Token(Kind.EOF, "", n, n, line, col_of(n)))
    return tokens


def _is_secret(before: list[Token]) -> bool:
    """Whether the next string is a sensitive option's value: `'password' =` (or
    `'password'`, and any literals already joined to it) before it."""
    i = len(before)
    while i > 0 and before[i - 1].kind is Kind.STRING:
        i -= 1
    if i >= 2 and before[i - 1].is_punct("=") and before[i - 2].kind is Kind.STRING:
        return is_sensitive(before[i - 2].value)
    return i < len(before) and is_sensitive(before[i].value)

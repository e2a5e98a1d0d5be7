"""Secrets kept out of what mlsql shows: the values of sensitive options
(mlsql.syntax.sensitive) inside SQL text and messages are masked, as Flink masks them.

In SQL (mask_sql, by the lexer's quoting rules): `'key' = 'value'` pairs of WITH clauses,
OPTIONS hints and ALTER MODEL SET, adjacent literals ('a' 'b') and an unterminated value
included, and `SET key = value`. In messages (mask_message): the same pairs, Java's
`key=value` and the values the failing statement gave. Only what is shown, logged or stored
for display is masked: the SQL that runs is never changed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from mlsql.errors import MlsqlError, SqlSyntaxError
from mlsql.syntax.lexer import Kind, Token, tokenize
from mlsql.syntax.sensitive import HIDDEN, is_sensitive

# Shorter values are masked only where a sensitive key names them or quoted alone: replacing
# every '1' in a message would hide its line and column instead.
MIN_VALUE_LENGTH = 4

_UNQUOTED = (Kind.WORD, Kind.NUMBER, Kind.QUOTED, Kind.PUNCT)
_LITERAL_START = re.compile(r"(?:[xXnNuUeE]|[uU]&)?'")  # the lexer's string openings
_QUOTED_PAIR = re.compile(r"'([^'\n]*)'(\s*=\s*)('(?:[^']|'')*'?)")
_JAVA_PAIR = re.compile(r"(?<![\w.-])([A-Za-z][\w.-]*)=(\"[^\"]*\"|[^\s,;}\]\"]+)")


def mask_sql(text: str) -> str:
    """`text` with the value of every sensitive option replaced by '******'."""
    masked = text
    for start, end, _ in reversed(_secret_spans(text)):
        literal = _LITERAL_START.match(text, start) is not None
        masked = masked[:start] + (f"'{HIDDEN}'" if literal else HIDDEN) + masked[end:]
    return masked


def secret_values(text: str) -> set[str]:
    """The values of the sensitive options `text` gives (each literal, and adjacent ones
    joined, as Flink joins them)."""
    values: set[str] = set()
    for _, _, parts in _secret_spans(text):
        values.update(parts)
        values.add("".join(parts))
    return {value for value in values if value}


def mask_message(text: str, values: Iterable[str] = ()) -> str:
    """A message with sensitive pairs masked ('key'='value', key=value) and every one of
    `values` (see secret_values) replaced by ******."""
    # The known values first: a pattern below stops a value at a space or a comma.
    for value in sorted(set(values), key=len, reverse=True):
        if len(value) >= MIN_VALUE_LENGTH:
            text = text.replace(value, HIDDEN).replace(value.replace("'", "''"), HIDDEN)
        else:  # only where it stands alone: Encountered "pw"
            text = text.replace(f'"{value}"', f'"{HIDDEN}"')
    text = _QUOTED_PAIR.sub(
        lambda m: f"'{m[1]}'{m[2]}'{HIDDEN}'" if is_sensitive(m[1]) else m[0], text)
    return _JAVA_PAIR.sub(lambda m: f"{m[1]}={HIDDEN}" if is_sensitive(m[1]) else m[0], text)


def conceal(error: MlsqlError, sql: str = "") -> MlsqlError:
    """Mask `error`'s text in place (its message, a syntax error's source line), also
    against the values that `sql`, the statement it is about, gives. Returns `error`."""
    values = secret_values(sql) if sql else set()
    message = mask_message(error.message, values)
    if message != error.message:
        if error.args[:1] == (error.message,):  # repr() and pickling read args
            error.args = (message, *error.args[1:])
        error.message = message
    if isinstance(error, SqlSyntaxError) and error.source_line:
        error.source_line = mask_message(mask_sql(error.source_line), values)
    return error


def _secret_spans(text: str) -> list[tuple[int, int, list[str]]]:
    """(start, end, the value's literals) of each sensitive option's value in `text`."""
    tokens, open_value = _tokens(text)
    spans: list[tuple[int, int, list[str]]] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token.kind is Kind.STRING and is_sensitive(token.value):
            equals = i + 1 < len(tokens) and tokens[i + 1].is_punct("=")
            j = i + 2 if equals else i + 1
            run: list[Token] = []
            while j < len(tokens) and tokens[j].kind is Kind.STRING:
                run.append(tokens[j])
                j += 1
            if not run and equals:  # 'password' = pw-1: quotes forgotten, Flink refuses it
                while j < len(tokens) and tokens[j].kind in _UNQUOTED \
                        and not tokens[j].is_punct(",", ")", ";"):
                    run.append(tokens[j])
                    j += 1
            if run:
                parts = [t.value if t.kind is Kind.STRING else t.text for t in run]
                spans.append((run[0].start, run[-1].end, parts))
                i = j
                continue
            if j == len(tokens) and open_value is not None:  # 'password' = 'unterminated...
                spans.append((open_value, len(text), [text[text.index("'", open_value) + 1:]]))
        elif token.kind is Kind.HINT:  # /*+ OPTIONS('password' = '...') */
            inner = token.start + 3
            spans += [(inner + start, inner + end, parts) for start, end, parts
                      in _secret_spans(text[inner : token.end - 2])]
        elif token.is_word("SET") and (i == 0 or tokens[i - 1].is_punct(";")):
            span = _set_value(text, tokens, i)
            if span is not None:
                spans.append(span)
        i += 1
    return spans


def _set_value(text: str, tokens: list[Token], at: int) -> tuple[int, int, list[str]] | None:
    """`SET key = value` with an unquoted key (a quoted one is a pair): the value's span."""
    end = next((k for k in range(at + 1, len(tokens)) if tokens[k].is_punct(";")),
               len(tokens))
    equals = next((k for k in range(at + 1, end) if tokens[k].is_punct("=")), None)
    if equals is None or equals == at + 1 or equals + 1 >= end:
        return None
    key_tokens = tokens[at + 1 : equals]
    if len(key_tokens) == 1 and key_tokens[0].kind is Kind.STRING:
        return None
    key = text[key_tokens[0].start : key_tokens[-1].end]
    if not is_sensitive(key):
        return None
    first, last = tokens[equals + 1], tokens[end - 1]
    value = first.value if first is last else text[first.start : last.end]
    return first.start, last.end, [value]


def _tokens(text: str) -> tuple[list[Token], int | None]:
    """`text`'s tokens, EOF left out. Where a string is left open (a statement cut short, a
    message's extract), the tokens before it and the offset where it opens."""
    try:
        return tokenize(text)[:-1], None
    except SqlSyntaxError as error:
        lines = text.split("\n")
        offset = sum(len(line) + 1 for line in lines[: error.line - 1]) + error.col - 1
        before = tokenize(text[:offset])[:-1]
        opens_string = "'" in text[offset : offset + 3] and text[offset] not in "`/"
        return before, offset if opens_string else None

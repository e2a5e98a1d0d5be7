"""Find the time-series calls of a statement: `NAME(value, ts [, JSON_OBJECT(...)]) OVER (...)`."""

from __future__ import annotations

from collections.abc import Sequence

from mlsql.errors import SqlSyntaxError
from mlsql.feature_functions.calls import NOT_LITERAL, SourceLine, literal_value, split_arguments
from mlsql.syntax import ir
from mlsql.syntax.lexer import Kind, Token

_EOF = Token(Kind.EOF, "", 0, 0, 0, 0)
USAGE = ("{name}(value, ts [, JSON_OBJECT('option' VALUE literal, ...)]) "
         "OVER (PARTITION BY key ORDER BY ts RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)")


def find_series_calls(text: str, tokens: Sequence[Token],
                      source_line: SourceLine) -> tuple[ir.SeriesCall, ...]:
    calls = []
    for index, token in enumerate(tokens):
        if (token.kind is Kind.WORD and token.upper in ir.SERIES_FUNCTIONS
                and index + 1 < len(tokens) and tokens[index + 1].is_punct("(")
                and not (index > 0 and tokens[index - 1].is_punct("."))
                and not is_model_form(tokens, index + 1)):
            calls.append(_call(text, tokens, index, source_line))
    return tuple(calls)


def is_model_form(tokens: Sequence[Token], open_paren: int) -> bool:
    """Whether the call opened at `open_paren` is BigQuery's model form, `ML_FORECAST(MODEL m
    ...)` or `ML_DETECT_ANOMALIES(TABLE t, MODEL m ...)`: an analysis call, not this one."""
    return open_paren + 1 < len(tokens) and tokens[open_paren + 1].is_word("MODEL", "TABLE")


def _call(text: str, tokens: Sequence[Token], index: int,
          source_line: SourceLine) -> ir.SeriesCall:
    name = tokens[index]
    usage = USAGE.format(name=name.upper)

    def error(message: str, token: Token) -> SqlSyntaxError:
        return SqlSyntaxError(message, token.line, token.col, source_line(token.line))

    groups, close = split_arguments(tokens, index + 1, source_line)
    if len(groups) not in (2, 3):
        raise error(f"{name.upper} takes a value, a timestamp and optionally a JSON_OBJECT of "
                    f"options: {usage}", name)
    values = _values(text, groups[0], error, source_line,
                     robust=name.upper == ir.DETECT_ANOMALIES_ROBUST)
    options = _options(groups[2], error, source_line, usage) if len(groups) == 3 else ()
    over = close + 1
    if not (over < len(tokens) and tokens[over].is_word("OVER")):
        raise error(f"{name.upper} is an OVER aggregate, one model per key: {usage}",
                    tokens[over] if over < len(tokens) else name)
    if not tokens[over + 1].is_punct("("):
        raise error(f"{name.upper} needs its window written out, OVER (PARTITION BY ... ORDER "
                    "BY ...), not a named window", tokens[over + 1])
    _, end = split_arguments(tokens, over + 1, source_line)
    window_tokens = list(tokens[over + 2:end])
    if not any(t.is_word("ORDER") for t in window_tokens):
        raise error(f"{name.upper}'s window needs ORDER BY the time attribute: {usage}",
                    tokens[over])
    return ir.SeriesCall(
        function=name.upper, start=name.start, end=tokens[end].end,
        position=ir.Position(name.line, name.col), values=values,
        time=_text(text, groups[1]), options=options,
        window=text[tokens[over + 1].start:tokens[end].end],
        partition=_partition(text, window_tokens, source_line))


def _text(text: str, group: list[Token]) -> str:
    return text[group[0].start:group[-1].end]


def _values(text: str, group: list[Token], error, source_line: SourceLine,
            robust: bool) -> tuple[str, ...]:
    if group[0].is_word("ROW") and len(group) > 2 and group[1].is_punct("("):
        if not robust:
            raise error("ML_FORECAST and ML_DETECT_ANOMALIES model one value per key; "
                        "ML_DETECT_ANOMALIES_ROBUST takes several, ROW(a, b, ...)", group[0])
        elements, close = split_arguments([*group, _EOF], 1, source_line)
        if close != len(group) - 1 or not elements:
            raise error("expected ROW(a, b, ...) as the values", group[0])
        return tuple(_text(text, element) for element in elements)
    return (_text(text, group),)


def _options(group: list[Token], error, source_line: SourceLine,
             usage: str) -> tuple[ir.SeriesOption, ...]:
    if not (group[0].is_word("JSON_OBJECT") and len(group) > 2 and group[1].is_punct("(")):
        raise error(f"the options are a JSON_OBJECT('name' VALUE literal, ...): {usage}",
                    group[0])
    entries, close = split_arguments([*group, _EOF], 1, source_line)
    if close != len(group) - 1:
        raise error("unexpected text after JSON_OBJECT(...)", group[close + 1])
    options = []
    for entry in entries:
        if not (len(entry) >= 3 and entry[0].kind is Kind.STRING and entry[1].is_word("VALUE")):
            raise error("each option is written 'name' VALUE literal", entry[0])
        value = literal_value(entry[2:])
        if value is NOT_LITERAL or value is None:
            raise error("an option's value must be a literal: a number, a string, TRUE or "
                        "FALSE", entry[2])
        options.append(ir.SeriesOption(entry[0].value, value,
                                       ir.Position(entry[0].line, entry[0].col)))
    return tuple(options)


def _partition(text: str, window: list[Token], source_line: SourceLine) -> tuple[str, ...]:
    """PARTITION BY's expressions, up to ORDER BY."""
    for i, token in enumerate(window):
        if token.is_word("PARTITION") and i + 1 < len(window) and window[i + 1].is_word("BY"):
            body = []
            for t in window[i + 2:]:
                if t.is_word("ORDER"):
                    break
                body.append(t)
            # Brackets of its own around the list, placed where errors can point: an
            # unclosed '(' at PARTITION, an empty last expression at the word after it.
            after = window[i + 2 + len(body)] if i + 2 + len(body) < len(window) \
                else (body or window)[-1]
            bracketed = [_punct("(", token), *body, _punct(")", after), _EOF]
            groups, _ = split_arguments(bracketed, 0, source_line)
            return tuple(_text(text, g) for g in groups)
    return ()


def _punct(symbol: str, at: Token) -> Token:
    """A bracket mlsql adds, at `at`'s position."""
    return Token(Kind.PUNCT, symbol, at.start, at.start, at.line, at.col)

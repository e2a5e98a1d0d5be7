"""Find the time-series calls of a statement: `NAME(value, ts [, JSON_OBJECT(...)]) OVER (...)`."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from mlsql.errors import SqlSyntaxError
from mlsql.syntax import ir
from mlsql.syntax.lexer import Kind, Token

SourceLine = Callable[[int], str]
USAGE = ("{name}(value, ts [, JSON_OBJECT('option' VALUE literal, ...)]) "
         "OVER (PARTITION BY key ORDER BY ts RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)")


def find_series_calls(text: str, tokens: Sequence[Token],
                      source_line: SourceLine) -> tuple[ir.SeriesCall, ...]:
    calls = []
    for index, token in enumerate(tokens):
        if (token.kind is Kind.WORD and token.upper in ir.SERIES_FUNCTIONS
                and index + 1 < len(tokens) and tokens[index + 1].is_punct("(")
                and not (index > 0 and tokens[index - 1].is_punct("."))
                and not _takes_a_model(tokens, index + 1)):
            calls.append(_call(text, tokens, index, source_line))
    return tuple(calls)


def _takes_a_model(tokens: Sequence[Token], open_paren: int) -> bool:
    """BigQuery's model form, `ML_FORECAST(MODEL m ...)`, is another function."""
    return open_paren + 1 < len(tokens) and tokens[open_paren + 1].is_word("MODEL", "TABLE")


def _call(text: str, tokens: Sequence[Token], index: int,
          source_line: SourceLine) -> ir.SeriesCall:
    name = tokens[index]
    usage = USAGE.format(name=name.upper)

    def error(message: str, token: Token) -> SqlSyntaxError:
        return SqlSyntaxError(message, token.line, token.col, source_line(token.line))

    groups, close = _split(tokens, index + 1, error)
    if len(groups) not in (2, 3):
        raise error(f"{name.upper} takes a value, a timestamp and optionally a JSON_OBJECT of "
                    f"options: {usage}", name)
    values = _values(text, groups[0], error, robust=name.upper == ir.DETECT_ANOMALIES_ROBUST)
    options = _options(groups[2], error, usage) if len(groups) == 3 else ()
    over = close + 1
    if not (over < len(tokens) and tokens[over].is_word("OVER")):
        raise error(f"{name.upper} is an OVER aggregate, one model per key: {usage}",
                    tokens[over] if over < len(tokens) else name)
    if not tokens[over + 1].is_punct("("):
        raise error(f"{name.upper} needs its window written out, OVER (PARTITION BY ... ORDER "
                    "BY ...), not a named window", tokens[over + 1])
    inner, end = _split(tokens, over + 1, error, keep_commas=True)
    window_tokens = inner[0] if inner else []
    if not any(t.is_word("ORDER") for t in window_tokens):
        raise error(f"{name.upper}'s window needs ORDER BY the time attribute: {usage}",
                    tokens[over])
    return ir.SeriesCall(
        function=name.upper, start=name.start, end=tokens[end].end,
        position=ir.Position(name.line, name.col), values=values,
        time=_text(text, groups[1]), options=options,
        window=text[tokens[over + 1].start:tokens[end].end],
        partition=_partition(text, window_tokens))


def _split(tokens: Sequence[Token], open_index: int, error,
           keep_commas: bool = False) -> tuple[list[list[Token]], int]:
    """The top-level comma-separated groups inside the bracket at `open_index` (one group
    with `keep_commas`), and the index of its match."""
    depth = 0
    groups: list[list[Token]] = [[]]
    i = open_index + 1
    while True:
        token = tokens[i]
        if token.kind is Kind.EOF:
            raise error("unclosed '('", tokens[open_index])
        if depth == 0 and token.is_punct(")"):
            break
        depth += token.is_punct("(", "[") - token.is_punct(")", "]")
        if depth == 0 and token.is_punct(",") and not keep_commas:
            groups.append([])
        else:
            groups[-1].append(token)
        i += 1
    return ([] if groups == [[]] else groups), i


def _text(text: str, group: list[Token]) -> str:
    return text[group[0].start:group[-1].end]


def _values(text: str, group: list[Token], error, robust: bool) -> tuple[str, ...]:
    if group[0].is_word("ROW") and len(group) > 2 and group[1].is_punct("("):
        if not robust:
            raise error("ML_FORECAST and ML_DETECT_ANOMALIES model one value per key; "
                        "ML_DETECT_ANOMALIES_ROBUST takes several, ROW(a, b, ...)", group[0])
        elements, close = _split([*group, Token(Kind.EOF, "", 0, 0, 0, 0)], 1, error)
        if close != len(group) - 1 or not elements:
            raise error("expected ROW(a, b, ...) as the values", group[0])
        return tuple(_text(text, element) for element in elements)
    return (_text(text, group),)


def _options(group: list[Token], error, usage: str) -> tuple[ir.SeriesOption, ...]:
    if not (group[0].is_word("JSON_OBJECT") and len(group) > 2 and group[1].is_punct("(")):
        raise error(f"the options are a JSON_OBJECT('name' VALUE literal, ...): {usage}",
                    group[0])
    entries, close = _split([*group, Token(Kind.EOF, "", 0, 0, 0, 0)], 1, error)
    if close != len(group) - 1:
        raise error("unexpected text after JSON_OBJECT(...)", group[close + 1])
    options = []
    for entry in entries:
        if not (len(entry) >= 3 and entry[0].kind is Kind.STRING and entry[1].is_word("VALUE")):
            raise error("each option is written 'name' VALUE literal", entry[0])
        options.append(ir.SeriesOption(entry[0].value, _literal(entry[2:], error),
                                       ir.Position(entry[0].line, entry[0].col)))
    return tuple(options)


def _literal(tokens: list[Token], error) -> object:
    sign = 1.0
    if len(tokens) == 2 and tokens[0].is_punct("-", "+"):
        sign = -1.0 if tokens[0].text == "-" else 1.0
        tokens = tokens[1:]
    token = tokens[0]
    if len(tokens) == 1:
        if token.kind is Kind.NUMBER:
            return sign * float(token.text)
        if token.kind is Kind.STRING:
            return token.value
        if token.is_word("TRUE", "FALSE"):
            return token.upper == "TRUE"
    raise error("an option's value must be a literal: a number, a string, TRUE or FALSE", token)


def _partition(text: str, window: list[Token]) -> tuple[str, ...]:
    """PARTITION BY's expressions, up to ORDER BY."""
    for i, token in enumerate(window):
        if token.is_word("PARTITION") and i + 1 < len(window) and window[i + 1].is_word("BY"):
            body = []
            for t in window[i + 2:]:
                if t.is_word("ORDER"):
                    break
                body.append(t)
            groups, _ = _split([Token(Kind.PUNCT, "(", 0, 0, 0, 0), *body,
                                Token(Kind.PUNCT, ")", 0, 0, 0, 0),
                                Token(Kind.EOF, "", 0, 0, 0, 0)], 0, lambda m, t: None)
            return tuple(_text(text, g) for g in groups)
    return ()

"""Finding feature function calls in a statement's tokens: `ML_X(arg, ...) [OVER ()]`, each
argument any SQL (parentheses and brackets balanced), nested calls found inside arguments.
Arguments are checked here, so a bad call is a syntax error with its line and column before
any job runs."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from itertools import pairwise

from mlsql.errors import SqlSyntaxError
from mlsql.feature_functions.base import FeatureArgumentError
from mlsql.feature_functions.catalog import FUNCTIONS
from mlsql.syntax import ir
from mlsql.syntax.lexer import Kind, Token, tokenize

SourceLine = Callable[[int], str]  # line number -> that line of the script
NOT_LITERAL = object()  # what literal_value returns for an expression
# How deep feature calls and ARRAY[...]s may nest in one another: each level is parsed
# recursively over a copy of its tokens (1,000 levels was a RecursionError after seconds).
MAX_NESTING = 64


def find_calls(text: str, tokens: Sequence[Token], source_line: SourceLine,
               fitted_allowed: bool) -> tuple[ir.FeatureCall, ...]:
    """The outermost feature calls in `tokens` (offsets relative to `text`)."""
    _check_nesting(tokens, source_line)
    calls = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if (token.kind is Kind.WORD and token.upper in FUNCTIONS and i + 1 < len(tokens)
                and tokens[i + 1].is_punct("(")
                and not (i > 0 and tokens[i - 1].is_punct("."))):
            call, i = _call(text, tokens, i, source_line, fitted_allowed)
            calls.append(call)
        else:
            i += 1
    return tuple(calls)


def _check_nesting(tokens: Sequence[Token], source_line: SourceLine) -> None:
    """At most MAX_NESTING feature calls and arrays open at once, checked in one pass."""
    opened: list[bool] = []  # per open bracket: whether a call or an array opened it
    levels = 0
    for before, token in pairwise(tokens):
        if token.is_punct("(", "["):
            nests = (before.kind is Kind.WORD and before.upper in FUNCTIONS
                     and token.text == "(") or (before.is_word("ARRAY") and token.text == "[")
            opened.append(nests)
            levels += nests
            if levels > MAX_NESTING:
                raise _error(f"feature function calls and arrays nest more than {MAX_NESTING} "
                             "deep", _position(before), source_line)
        elif token.is_punct(")", "]") and opened:
            levels -= opened.pop()


def parse_expression(text: str, fitted_allowed: bool = False) -> tuple[ir.FeatureCall, ...]:
    """The feature calls of a stand-alone expression (a stored TRANSFORM item)."""
    tokens = tokenize(text)
    lines = text.split("\n")
    return find_calls(text, tokens, lambda line: lines[line - 1] if 0 < line <= len(lines)
                      else "", fitted_allowed)


def _error(message: str, position: ir.Position, source_line: SourceLine) -> SqlSyntaxError:
    return SqlSyntaxError(message, position.line, position.col, source_line(position.line))


def _position(token: Token) -> ir.Position:
    return ir.Position(token.line, token.col)


def _call(text: str, tokens: Sequence[Token], index: int, source_line: SourceLine,
          fitted_allowed: bool) -> tuple[ir.FeatureCall, int]:
    name_token = tokens[index]
    function = FUNCTIONS[name_token.upper]
    position = _position(name_token)
    groups, close = split_arguments(tokens, index + 1, source_line)
    args = tuple(_argument(text, group, source_line, fitted_allowed) for group in groups)
    end, nxt = tokens[close].end, close + 1
    fitted = False
    if nxt < len(tokens) and tokens[nxt].is_word("OVER"):
        if not (tokens[nxt + 1].is_punct("(") and tokens[nxt + 2].is_punct(")")):
            raise _error(f"{function.name}(...) OVER takes an empty window: OVER ()",
                         _position(tokens[nxt]), source_line)
        fitted, end, nxt = True, tokens[nxt + 2].end, nxt + 3
    call = ir.FeatureCall(function.name, name_token.start, end, position, args, fitted)
    try:
        if fitted:
            if not fitted_allowed:
                raise FeatureArgumentError(
                    f"{function.name}(...) OVER () fits its parameters on a model's training "
                    "rows: use it inside CREATE MODEL ... TRANSFORM (...), or give the "
                    f"parameters: {function.usage}", position)
            function.fit_options(args, call)  # a function with no fitted form raises
            for arg in args:
                if any(c.fitted for c in _all_calls(arg.calls)):
                    raise FeatureArgumentError(
                        f"a fitted call inside the fitted {function.name}(...) OVER (): fit "
                        "one at a time (compute the inner one in the AS SELECT query, or "
                        "give its parameters)", arg.position)
        else:
            function.explicit(args, call)
    except FeatureArgumentError as error:
        raise _error(error.message, error.position, source_line) from None
    return call, nxt


def _all_calls(calls: Sequence[ir.FeatureCall]) -> list[ir.FeatureCall]:
    found = []
    for call in calls:
        found.append(call)
        for arg in call.arguments:
            found.extend(_all_calls(arg.calls))
    return found


def split_arguments(tokens: Sequence[Token], open_index: int,
                    source_line: SourceLine) -> tuple[list[list[Token]], int]:
    """The top-level comma-separated token groups between the bracket at `open_index` and its
    match, and the index of the match."""
    opener = tokens[open_index]
    closer = ")" if opener.text == "(" else "]"
    depth = 0
    groups: list[list[Token]] = [[]]
    i = open_index + 1
    while True:
        token = tokens[i]
        if token.kind is Kind.EOF:
            raise _error(f"unclosed '{opener.text}'", _position(opener), source_line)
        if depth == 0 and token.is_punct(closer):
            break
        if token.is_punct("(", "["):
            depth += 1
        elif token.is_punct(")", "]"):
            depth -= 1
        if depth == 0 and token.is_punct(","):
            groups.append([])
        else:
            groups[-1].append(token)
        i += 1
    if groups == [[]]:
        return [], i
    for group in groups:
        if not group:
            raise _error("an empty argument", _position(tokens[i]), source_line)
    return groups, i


def _shift(token: Token, delta: int) -> Token:
    return Token(token.kind, token.text, token.start + delta, token.end + delta, token.line,
                 token.col)


def _argument(text: str, group: list[Token], source_line: SourceLine, fitted_allowed: bool,
              found: Sequence[ir.FeatureCall] | None = None) -> ir.FeatureArgument:
    """`found`: the argument's calls when they are known (an ARRAY[...] element's, from the
    array's), offsets relative to the argument."""
    start = group[0].start
    body = text[start : group[-1].end]
    last = group[-1]
    local = [_shift(t, -start) for t in group] + [
        Token(Kind.EOF, "", len(body), len(body), last.line, last.col + len(last.text))]
    calls = tuple(found) if found is not None else find_calls(body, local, source_line,
                                                              fitted_allowed)
    elements = None
    if group[0].is_word("ARRAY") and len(group) > 2 and group[1].is_punct("[") \
            and group[-1].is_punct("]"):
        inner, close = split_arguments(local, 1, source_line)
        if close == len(group) - 1:
            # Each element's calls are the array's, not found again: parsing them once per
            # enclosing array took 2^depth time for nested ARRAY[ML_...(ARRAY[...])].
            elements = tuple(_argument(body, g, source_line, fitted_allowed,
                                       _calls_within(calls, g[0].start, g[-1].end))
                             for g in inner)
    value = literal_value(group, elements)
    return ir.FeatureArgument(body, _position(group[0]), calls, value is not NOT_LITERAL,
                              None if value is NOT_LITERAL else value, elements, start)


def _calls_within(calls: Sequence[ir.FeatureCall], start: int,
                  end: int) -> list[ir.FeatureCall]:
    """The calls between offsets `start` and `end`, their offsets (and their arguments')
    made relative to `start`."""
    return [replace(c, start=c.start - start, end=c.end - start,
                    arguments=tuple(replace(a, start=a.start - start) for a in c.arguments))
            for c in calls if start <= c.start and c.end <= end]


def literal_value(group: list[Token],
                  elements: tuple[ir.FeatureArgument, ...] | None = None) -> object:
    """The literal the tokens spell (a number as float, a string, TRUE/FALSE, NULL as None,
    ARRAY[...]'s `elements` as a tuple), or NOT_LITERAL."""
    if elements is not None:
        if all(e.is_literal for e in elements):
            return tuple(e.value for e in elements)
        return NOT_LITERAL
    sign = 1.0
    tokens = group
    # A parenthesised number, `(-0.5E0)`: how fitted constants are written.
    while len(tokens) >= 3 and tokens[0].is_punct("(") and tokens[-1].is_punct(")"):
        tokens = tokens[1:-1]
    if len(tokens) == 2 and tokens[0].is_punct("-", "+"):
        sign = -1.0 if tokens[0].text == "-" else 1.0
        tokens = tokens[1:]
    if _is_infinity(tokens):  # CAST('-Infinity' AS DOUBLE), as number_text writes it
        return float(tokens[2].value)
    if len(tokens) != 1:
        return NOT_LITERAL
    token = tokens[0]
    if token.kind is Kind.NUMBER:
        try:
            return sign * float(token.text)
        except ValueError:
            return NOT_LITERAL
    if len(group) == 1 and token.kind is Kind.STRING and token.text.startswith("'"):
        return token.value
    if len(group) == 1 and token.is_word("NULL"):
        return None
    if len(group) == 1 and token.is_word("TRUE", "FALSE"):
        return token.upper == "TRUE"
    return NOT_LITERAL


def _is_infinity(tokens: list[Token]) -> bool:
    return (len(tokens) == 6 and tokens[0].is_word("CAST") and tokens[1].is_punct("(")
            and tokens[2].kind is Kind.STRING and tokens[2].value in ("Infinity", "-Infinity")
            and tokens[3].is_word("AS") and tokens[4].is_word("DOUBLE")
            and tokens[5].is_punct(")"))

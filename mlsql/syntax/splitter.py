"""Split a script into statements at top-level semicolons, keeping each one's position."""

from __future__ import annotations

from dataclasses import dataclass

from mlsql.syntax.lexer import Kind, Token, tokenize


@dataclass(frozen=True)
class Statement:
    text: str  # the statement exactly as written, without the terminating ';'
    tokens: tuple[Token, ...]  # offsets relative to `text`; line/col relative to the script
    line: int
    col: int

    @property
    def first_words(self) -> list[str]:
        return [t.upper for t in self.tokens[:4]]


def _opens_block(tokens: list[Token]) -> bool:
    """`EXECUTE|EXPLAIN [...] STATEMENT SET BEGIN ... END` holds semicolons of its own."""
    return (len(tokens) >= 4 and tokens[0].upper in ("EXECUTE", "EXPLAIN")
            and [t.upper for t in tokens[-3:]] == ["STATEMENT", "SET", "BEGIN"])


def split_statements(script: str) -> list[Statement]:
    tokens = tokenize(script)
    statements: list[Statement] = []
    current: list[Token] = []
    in_block = False
    for token in tokens:
        at_end = token.kind is Kind.EOF
        if in_block and token.is_word("END"):
            in_block = False
        if not at_end and not (token.is_punct(";") and not in_block):
            current.append(token)
            if not in_block and token.is_word("BEGIN") and _opens_block(current):
                in_block = True
            continue
        if current:
            statements.append(_make_statement(script, current))
        current = []
        if at_end:
            break
    return statements


def _make_statement(script: str, tokens: list[Token]) -> Statement:
    """From the first token to the last: plain comments around the statement are dropped,
    hints are tokens and stay."""
    start, end = tokens[0].start, tokens[-1].end
    text = script[start:end]
    relative = tuple(
        Token(t.kind, t.text, t.start - start, t.end - start, t.line, t.col) for t in tokens
    )
    eof = Token(Kind.EOF, "", len(text), len(text), tokens[-1].line, tokens[-1].col + 1)
    return Statement(text, (*relative, eof), tokens[0].line, tokens[0].col)

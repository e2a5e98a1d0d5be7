"""A statement's leading words: what kind of Flink statement it is, before Flink sees it."""

from __future__ import annotations

from mlsql.syntax import ir
from mlsql.syntax.lexer import Kind
from mlsql.syntax.splitter import Statement

_QUERY_WORDS = frozenset({"SELECT", "WITH", "VALUES", "(", "TABLE"})
_JOB_WORDS = frozenset({"INSERT", "EXECUTE"})


def leading_word(statement: Statement, parsed: ir.FlinkStatement) -> str:
    return parsed.leading_word or statement.tokens[0].text


def statement_words(statement: Statement) -> list[str]:
    """The statement's words and symbols, upper case, comments left out."""
    return [token.text.upper() for token in statement.tokens
            if token.kind not in (Kind.HINT, Kind.EOF)]


def is_query(word: str) -> bool:
    return word in _QUERY_WORDS


def is_job(word: str) -> bool:
    """INSERT and EXECUTE submit a job whose result is not a table of rows."""
    return word in _JOB_WORDS

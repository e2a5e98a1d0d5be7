"""Errors a user can act on: each names what is wrong and, where it has one, the position."""

from __future__ import annotations

import copy
import difflib
from collections.abc import Iterable


class MlsqlError(Exception):
    """Base class for every error mlsql reports to a user. `position`: where in the SQL the
    error is (an object whose text says "line L, column C"), when it concerns one spot."""

    position: object | None = None


class SqlSyntaxError(MlsqlError):
    """A statement mlsql could not parse; carries the 1-based line and column."""

    def __init__(self, message: str, line: int, col: int, source_line: str = "") -> None:
        self.message = message
        self.line = line
        self.col = col
        self.source_line = source_line
        text = f"SQL syntax error at line {line}, column {col}: {message}"
        if source_line:
            text += f"\n  {source_line}\n  {' ' * (col - 1)}^"
        super().__init__(text)


class ModelNotFoundError(MlsqlError):
    pass


class ModelExistsError(MlsqlError):
    pass


class SchemaError(MlsqlError):
    """A missing column or a type mismatch, found before any job starts."""


class OptionError(MlsqlError):
    pass


class TrainingError(MlsqlError):
    pass


class FlinkError(MlsqlError):
    """Flink rejected a statement or a job failed; the message is Flink's own."""


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """A ' (did you mean X?)' suffix when a candidate is close, else ''."""
    matches = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean {matches[0]!r}?)" if matches else ""


def with_position(error: MlsqlError, where: object) -> MlsqlError:
    """A copy of `error`, of its class and with its fields, whose `position` is `where` and
    whose message ends with it. (Rebuilding an error from its message fails for classes whose
    constructor takes more than a message.)"""
    located = copy.copy(error)
    located.args = (f"{error} (at {where})",)
    located.position = where
    return located

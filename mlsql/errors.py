"""Errors a user can act on: each names what is wrong and, where it has one, the position.

Where an error is lives in fields, not in its text: `message` (what is wrong), `subject`
(what it is about, such as 'ML_PREDICT') and `position` (line and column). `str(error)`
renders them; a surface that knows better renders them its own way (the Table API drops
positions that point into SQL it generated; a notebook moves them back into the cell).
"""

from __future__ import annotations

import copy
import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Self


@dataclass(frozen=True)
class Position:
    """A 1-based line and column in the user's SQL."""
    line: int
    col: int

    def __str__(self) -> str:
        return f"line {self.line}, column {self.col}"


@dataclass(frozen=True)
class Site:
    """What an error or a notice is about, and where: `ML_PREDICT at line 3, column 15`."""
    subject: str
    position: Position | None = None

    def __str__(self) -> str:
        return self.subject if self.position is None else f"{self.subject} at {self.position}"


class MlsqlError(Exception):
    """Base class for every error mlsql reports to a user. `at`: the Site it concerns (or give
    `subject` and `position` apart)."""

    def __init__(self, message: str = "", *, at: Site | None = None,
                 subject: str | None = None, position: Position | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.subject = at.subject if at is not None else subject
        self.position = at.position if at is not None else position

    def __str__(self) -> str:
        subject, position, message = self.subject, self.position, self.message
        if subject and position:
            return f"{subject} at {position}: {message}"
        if subject:
            return f"{subject}: {message}"
        if position:
            return f"{message} (at {position})"
        return message

    def located(self, position: Position | None) -> Self:
        """A copy, of the same class and fields, at `position` (None: at no position)."""
        moved = copy.copy(self)
        moved.position = position
        return moved

    def __reduce__(self) -> tuple[Any, ...]:
        # Every subclass copies and pickles with its fields, whatever its constructor takes.
        return _restore, (type(self), self.args, self.__dict__.copy())


def _restore(cls: type[MlsqlError], args: tuple[Any, ...],
             state: dict[str, Any]) -> MlsqlError:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


class SqlSyntaxError(MlsqlError):
    """A statement mlsql could not parse, at its 1-based line and column; `source_line`: the
    script's line, drawn under the message with a caret at the column."""

    def __init__(self, message: str, line: int, col: int, source_line: str = "") -> None:
        super().__init__(message, subject="SQL syntax error", position=Position(line, col))
        self.source_line = source_line

    @property
    def line(self) -> int:
        return self.position.line if self.position else 1

    @property
    def col(self) -> int:
        return self.position.col if self.position else 1

    def __str__(self) -> str:
        text = super().__str__()
        if self.source_line and self.position:
            text += f"\n  {self.source_line}\n  {' ' * (self.position.col - 1)}^"
        return text


class ModelNotFoundError(MlsqlError):
    pass


class DamagedModelError(MlsqlError):
    """A model version's files are not as they were published (truncated, edited, missing)
    or were written by a newer mlsql."""


class ModelExistsError(MlsqlError):
    pass


class RegistryWriteError(MlsqlError):
    """The model registry's files could not be written (no space left, read-only, no
    permission); the registry is as it was before the statement."""


class SchemaError(MlsqlError):
    """A missing column or a type mismatch, found before any job starts."""


class OptionError(MlsqlError):
    pass


class TrainingError(MlsqlError):
    pass


class Cancelled(MlsqlError):
    """The user cancelled the statement (a gateway client's cancel): work stops at its next
    progress report and a training publishes nothing."""


# Starts the message of a job that mlsql's SQL fails on purpose (a Flink ML stage's
# handle_invalid='error'), so that the message can be shown without Flink's wrapping.
RAISED_MARK = "mlsql: "


class FlinkError(MlsqlError):
    """Flink rejected a statement or a job failed; the message is Flink's own."""


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """A ' (did you mean X?)' suffix when a candidate is close (or the same letters swapped:
    SA for AS), else ''."""
    candidates = list(candidates)
    matches = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6) or [
        c for c in candidates if len(c) == len(word) > 1 and sorted(c) == sorted(word)][:1]
    return f" (did you mean {matches[0]!r}?)" if matches else ""

"""Turn Flink's Java exceptions into messages a user can act on."""

from __future__ import annotations

import re

from mlsql.errors import RAISED_MARK, FlinkError, Position
from mlsql.syntax.secrets import mask_message

_POSITION = re.compile(r"\b((?:[Aa]t|[Ff]rom|to) line )(\d+), column (\d+)")
_IN_TEXT = re.compile(r"^at line \d+, column \d+: | at line \d+, column \d+")
_JAVA_PREFIX = re.compile(r"^(?:[a-z][\w$]*\.)+([A-Z][\w$]*(?:Exception|Error)):\s*")
# A failed CAST's text: how mlsql's SQL fails a job on purpose (RAISED_MARK).
_RAISED = re.compile(r'For input string: "' + re.escape(RAISED_MARK) + r'(.*)"')
_PYTHON_ERROR = re.compile(r"^\s*([A-Za-z_][\w.]*(?:Error|Exception)): (.+)$")
# A Python UDF's exception raised on purpose (its message starts with RAISED_MARK)
_RAISED_PYTHON = re.compile(r"^\s*[A-Za-z_][\w.]*: " + re.escape(RAISED_MARK) + r"(.+)$",
                            re.MULTILINE)
# Wrappers that say a job failed without saying why.
_GENERIC = (
    "An error occurred while calling", "Failed to wait job finish", "Job execution failed",
    "Recovery is suppressed", "One or more fetchers", "SplitFetcher thread",
    "Error received from SDK harness", "Failed to execute sql", "Failed to close",
    "Could not forward element", "Error while waiting for BeamPythonFunctionRunner",
)


def flink_message(error: BaseException) -> str:
    """The useful part of Flink's error: the root cause, without Java class names."""
    # py4j's error text holds the whole Java cause chain; pyflink's own wrappers keep it
    # in `stack_trace`.
    text = f"{error}\n{getattr(error, 'stack_trace', '') or ''}"
    raised = _RAISED.search(text)
    if raised:
        return raised.group(1)
    if "Traceback (most recent call last)" in text:
        raised_in_python = _RAISED_PYTHON.findall(text)
        if raised_in_python:
            return raised_in_python[-1]
        python_errors = [m for m in map(_PYTHON_ERROR.match, text.splitlines()) if m]
        if python_errors:
            last = python_errors[-1]
            return f"Python worker error: {last.group(1)}: {last.group(2)}"
    messages = []
    for line in text.splitlines():
        line = line.strip().removeprefix("Caused by: ").removeprefix(": ")
        if not line or line.startswith("at ") or line.startswith("..."):
            continue
        while _JAVA_PREFIX.match(line):
            line = _JAVA_PREFIX.sub("", line, count=1)
        if line and not line.startswith(_GENERIC) and line not in messages:
            messages.append(line)
    if not messages:
        return text.strip().splitlines()[0] if text.strip() else type(error).__name__
    first = messages[0]
    if _POSITION.search(first) or len(messages) == 1:
        return first
    *_, cause, root = messages
    return cause if root in cause else f"{cause}: {root}"


def shift_positions(message: str, line: int, col: int, prefix: int = 0) -> str:
    """Rewrite Flink's statement-relative 'line L, column C' into script coordinates, where
    the user's text starts at `line`, `col` after `prefix` characters mlsql wrote."""

    def shifted(match: re.Match[str]) -> str:
        rel_line, rel_col = int(match.group(2)), int(match.group(3))
        abs_col = rel_col + col - 1 - prefix if rel_line == 1 else rel_col
        return f"{match.group(1)}{rel_line + line - 1}, column {abs_col}"

    return _POSITION.sub(shifted, message)


_MISSING_CONNECTOR = re.compile(r"Could not find any factory for identifier '((?:upsert-)?kafka)'")


def to_flink_error(error: BaseException, line: int | None = None, col: int | None = None,
                   prefix: int = 0) -> FlinkError:
    """Flink's error as a FlinkError; given where the SQL starts in the user's script (see
    shift_positions), its positions point there, and one without a position names it.
    Sensitive option values in Flink's text are masked."""
    message = mask_message(flink_message(error))
    missing = _MISSING_CONNECTOR.search(message)
    if missing:
        message = (f"Flink's Kafka connector ('{missing.group(1)}') is not on the session's "
                   "pipeline.jars. mlsql adds it when a CREATE TABLE names it; run "
                   "`mlsql kafka install` to resolve it, or point 'pipeline.jars' at your own "
                   "flink-sql-connector-kafka jar")
    if line is not None and col is not None:
        if _POSITION.search(message):
            return FlinkError(shift_positions(message, line, col, prefix))
        return FlinkError(message, position=Position(line, col))
    return FlinkError(message)


def without_positions(message: str) -> str:
    """Flink's message without the lines and columns in its text (of SQL mlsql wrote, which
    the user never saw)."""
    return _IN_TEXT.sub("", message)

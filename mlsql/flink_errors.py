"""Turn Flink's Java exceptions into messages a user can act on."""

from __future__ import annotations

import re

from mlsql.errors import FlinkError

_POSITION = re.compile(r"\b([Aa]t line )(\d+), column (\d+)")
_JAVA_PREFIX = re.compile(r"^(?:[a-z][\w$]*\.)+([A-Z][\w$]*(?:Exception|Error)): ")


def flink_message(error: BaseException) -> str:
    """The most useful line of Flink's error: its root cause, without Java class names."""
    java = getattr(error, "java_exception", None)
    text = str(java) if java is not None else str(error)
    causes = [line.strip() for line in text.splitlines()
              if line.strip() and not line.strip().startswith("at ")]
    causes = [c.removeprefix("Caused by: ") for c in causes
              if not c.startswith("An error occurred while calling")]
    message = causes[0] if causes else text.strip()
    if message.startswith(": "):
        message = message[2:]
    while _JAVA_PREFIX.match(message):
        message = _JAVA_PREFIX.sub("", message, count=1)
    return message


def shift_positions(message: str, line: int, col: int) -> str:
    """Rewrite Flink's statement-relative 'line L, column C' into script coordinates."""

    def shifted(match: re.Match[str]) -> str:
        rel_line, rel_col = int(match.group(2)), int(match.group(3))
        abs_col = rel_col + col - 1 if rel_line == 1 else rel_col
        return f"{match.group(1)}{rel_line + line - 1}, column {abs_col}"

    return _POSITION.sub(shifted, message)


def to_flink_error(error: BaseException, line: int | None = None,
                   col: int | None = None) -> FlinkError:
    message = flink_message(error)
    if line is not None and col is not None:
        message = shift_positions(message, line, col)
    return FlinkError(message)

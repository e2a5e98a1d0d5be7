"""Durations as Flink spells them in options: '500 ms', '2 s', '1 min', '1 minute', '1 h'."""

from __future__ import annotations

import re

_UNITS = {
    "ms": 0.001, "milli": 0.001, "millis": 0.001, "millisecond": 0.001, "milliseconds": 0.001,
    "s": 1.0, "sec": 1.0, "secs": 1.0, "second": 1.0, "seconds": 1.0,
    "min": 60.0, "mins": 60.0, "minute": 60.0, "minutes": 60.0,
    "h": 3600.0, "hour": 3600.0, "hours": 3600.0,
    "d": 86400.0, "day": 86400.0, "days": 86400.0,
}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$")


def parse_duration(text: str) -> float:
    """Seconds; a bare number is seconds. Raises ValueError naming the accepted forms."""
    match = _DURATION.match(text.lower())
    if not match or match.group(2) not in ("", *_UNITS):
        raise ValueError(f"{text!r} is not a duration: write e.g. '500 ms', '10 s', "
                         "'1 minute', '1 h'")
    seconds = float(match.group(1)) * _UNITS.get(match.group(2), 1.0)
    if seconds <= 0:
        raise ValueError(f"{text!r}: a duration must be positive")
    return seconds


def sql_interval(seconds: float) -> str:
    """A whole number of seconds as a Flink SQL interval literal."""
    total = int(seconds)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    return f"INTERVAL '{days} {hours:02d}:{minutes:02d}:{secs:02d}' DAY TO SECOND"

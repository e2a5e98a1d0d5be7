"""One CREATE MODEL option: its name, parser, default and help text."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Option:
    name: str
    parse: Callable[[str], Any]
    default: Any
    help: str


# Parsers type modules share: each takes the option's text and raises ValueError (whose
# message, when it says what the value "must" be, reaches the user) on a bad value.


def fraction(text: str) -> float:
    value = float(text)
    if not 0.0 <= value < 1.0:
        raise ValueError("must be at least 0 and below 1")
    return value


def positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise ValueError("must be a positive integer")
    return value


def non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise ValueError("must not be negative")
    return value


def non_negative_float(text: str) -> float:
    value = float(text)
    if value < 0:
        raise ValueError("must not be negative")
    return value


def positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise ValueError("must be positive")
    return value


def unit_interval(text: str) -> float:
    """A number in (0, 1], e.g. a subsample share."""
    value = float(text)
    if not 0.0 < value <= 1.0:
        raise ValueError("must be above 0 and at most 1")
    return value


def choice(*allowed: str, none: str | None = None) -> Callable[[str], str | None]:
    """A parser accepting one of `allowed` (case-insensitive, returned lower-case); `none`,
    if given, is one of them and parses to None."""

    def parse(text: str) -> str | None:
        value = text.lower()
        if value not in allowed:
            raise ValueError("must be one of " + ", ".join(repr(a) for a in allowed))
        return None if value == none else value

    parse.__name__ = f"choice_{'_'.join(allowed)}"
    return parse


def decay(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise ValueError("must be between 0 (forget the past) and 1 (remember it all)")
    return value


def training_mode(text: str) -> str:
    if text.lower() not in ("auto", "single", "distributed"):
        raise ValueError("must be 'auto', 'single' (rows fitted in Python) or 'distributed' "
                         "(computed by Flink aggregates)")
    return text.lower()


def optimizer(text: str) -> str:
    if text.lower() not in ("ftrl", "sgd"):
        raise ValueError("must be 'ftrl' (FTRL-Proximal) or 'sgd'")
    return text.lower()


def update_every(text: str) -> float:
    from mlsql.core.durations import parse_duration

    seconds = parse_duration(text)
    if seconds < 1 or seconds != int(seconds):
        raise ValueError("must be a whole number of seconds, at least '1 s'")
    return seconds


def class_weight(text: str) -> str | None:
    if text.lower() not in ("none", "balanced"):
        raise ValueError("must be 'none' or 'balanced'")
    return None if text.lower() == "none" else "balanced"


def kind(option: Option) -> str:
    """What an option expects, for an error whose parser said nothing clearer."""
    names = {int: "an integer", float: "a number", positive_int: "a positive integer",
             non_negative_int: "a non-negative integer", fraction: "a number in [0, 1)",
             non_negative_float: "a non-negative number", positive_float: "a positive number",
             unit_interval: "a number in (0, 1]",
             update_every: "a whole number of seconds such as '1 minute'"}
    return names.get(option.parse, "a valid value")


# Options several model types share.
DISTRIBUTED_ROWS = 5_000_000
DISTRIBUTABLE = (
    Option("training_mode", training_mode, "auto",
           "'single': rows fitted in Python; 'distributed': trained inside Flink's tasks "
           "(aggregates, or a tree library's collective); 'auto': distributed above "
           "distributed_above_rows"),
    Option("distributed_above_rows", positive_int, DISTRIBUTED_ROWS,
           "row count above which 'auto' trains in Flink"),
)
# Boosted trees trained in 'distributed' mode: one Flink task per worker, all at once.
NUM_WORKERS = Option("num_workers", positive_int, None,
                     "Flink tasks that train together in 'distributed' mode, each on its "
                     "share of the rows (default: the session's parallelism)")
# Online model types: a continuous job updates the model every `update_every` of event time.
ONLINE = (
    Option("update_every", update_every, 60.0,
           "event time between updates (each a TUMBLE window), e.g. '1 minute'"),
    Option("time_column", str, None,
           "the query's event-time column (default: its one column with a watermark)"),
    Option("global_batch_size", positive_int, 32, "rows per mini-batch update"),
    Option("initial_model", str, None,
           "warm start from a version of a compatible model: 'm' or 'm$3'"),
)

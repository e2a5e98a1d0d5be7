"""The search space: `HPARAM_RANGE(lo, hi)` and `HPARAM_CANDIDATES([a, b, ...])` option values,
each checked with the option's own parser before any job runs.

A range is an integer range when the option's parser turns both bounds into integers, else a
float range; it is sampled on a log scale when lo > 0 and hi >= 10 * lo (a range spanning an
order of magnitude or more, such as a learning rate from 0.001 to 0.3), else uniformly.
Candidates are categorical: strings single-quoted, numbers and words bare.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mlsql.errors import OptionError
from mlsql.models.option_spec import Option, kind

_RANGE = re.compile(r"^\s*HPARAM_RANGE\s*\((.*)\)\s*$", re.IGNORECASE | re.DOTALL)
_CANDIDATES = re.compile(r"^\s*HPARAM_CANDIDATES\s*\(\s*\[(.*)\]\s*\)\s*$",
                         re.IGNORECASE | re.DOTALL)
_SPACE_PREFIX = re.compile(r"^\s*HPARAM_\w+\s*\(", re.IGNORECASE)  # a call shape
LOG_RATIO = 10.0  # hi >= LOG_RATIO * lo (lo > 0): a log-scale range


@dataclass(frozen=True)
class Range:
    name: str
    text: str
    low: float | int
    high: float | int
    integer: bool
    log: bool

    def suggest(self, trial: Any) -> Any:
        if self.integer:
            return trial.suggest_int(self.name, int(self.low), int(self.high), log=self.log)
        return trial.suggest_float(self.name, float(self.low), float(self.high), log=self.log)

    def grid(self) -> list[Any] | None:
        """Every value of an integer range (a grid search enumerates them); None for floats."""
        return list(range(int(self.low), int(self.high) + 1)) if self.integer else None


@dataclass(frozen=True)
class Candidates:
    name: str
    text: str
    values: tuple[Any, ...]

    def suggest(self, trial: Any) -> Any:
        return trial.suggest_categorical(self.name, list(self.values))

    def grid(self) -> list[Any]:
        return list(self.values)


Hyperparameter = Range | Candidates


def is_space(text: Any) -> bool:
    """Whether an option value is a search space (HPARAM_...)."""
    return isinstance(text, str) and bool(_SPACE_PREFIX.match(text))


def parse_space(option: Option, text: str) -> Hyperparameter:
    """The hyperparameter `text` describes for `option`; OptionError names the option."""

    def error(detail: str) -> OptionError:
        return OptionError(f"option {option.name!r} = {text!r}: {detail}")

    ranged = _RANGE.match(text)
    if ranged:
        bounds = [b.strip() for b in ranged.group(1).split(",")]
        if len(bounds) != 2 or not all(bounds):
            raise error("HPARAM_RANGE takes two numbers, HPARAM_RANGE(lo, hi)")
        low, high = (_parse_value(option, b, error) for b in bounds)
        numbers = all(isinstance(v, int | float) and not isinstance(v, bool)
                      for v in (low, high))
        if not numbers:
            raise error("HPARAM_RANGE is for numeric options; use HPARAM_CANDIDATES([...])")
        if not low < high:
            raise error("lo must be below hi")
        integer = isinstance(low, int) and isinstance(high, int)
        log = low > 0 and high >= LOG_RATIO * low
        return Range(option.name, text, low, high, integer, log)
    listed = _CANDIDATES.match(text)
    if listed:
        items = _candidate_items(listed.group(1), error)
        if not items:
            raise error("HPARAM_CANDIDATES needs at least one value")
        values = tuple(_parse_value(option, item, error) for item in items)
        for value in values:
            if value is not None and not isinstance(value, bool | int | float | str):
                raise error(f"candidate {value!r} is not a number or a string")
        if len(set(values)) != len(values):
            raise error("candidates must be distinct")
        return Candidates(option.name, text, values)
    raise error("expected HPARAM_RANGE(lo, hi) or HPARAM_CANDIDATES([value, ...])")


def _parse_value(option: Option, text: str, error: Any) -> Any:
    try:
        return option.parse(text)
    except ValueError as failure:
        detail = str(failure) if "must" in str(failure) else f"expected {kind(option)}"
        raise error(f"{text!r}: {detail}") from None


def _candidate_items(body: str, error: Any) -> list[str]:
    """The items of a candidate list: 'quoted strings' ('' escapes a quote) or bare words."""
    items: list[str] = []
    i, n = 0, len(body)
    while i < n:
        while i < n and body[i].isspace():
            i += 1
        if i >= n:
            break
        if body[i] == "'":
            j, chars = i + 1, []
            while True:
                if j >= n:
                    raise error("unterminated string in HPARAM_CANDIDATES")
                if body[j] == "'":
                    if j + 1 < n and body[j + 1] == "'":
                        chars.append("'")
                        j += 2
                        continue
                    break
                chars.append(body[j])
                j += 1
            items.append("".join(chars))
            i = j + 1
        else:
            j = i
            while j < n and body[j] != ",":
                j += 1
            word = body[i:j].strip()
            if not word or "'" in word:
                raise error("HPARAM_CANDIDATES takes a list such as [15, 31, 63] or ['a', 'b']")
            items.append(word)
            i = j
        while i < n and body[i].isspace():
            i += 1
        if i < n:
            if body[i] != ",":
                raise error("candidates are separated by commas")
            i += 1
            if body[i:].strip() == "":
                raise error("a trailing comma in HPARAM_CANDIDATES")
    return items


def parse_spaces(options: Mapping[str, Option], spaces: Mapping[str, str],
                 model_type: str) -> dict[str, Hyperparameter]:
    """Each search space of `spaces` checked against the tunable `options` of the type."""
    parsed: dict[str, Hyperparameter] = {}
    for name, text in spaces.items():
        if name not in options:
            accepted = ", ".join(options) or "none"
            raise OptionError(f"option {name!r} = {text!r}: {name!r} is not a hyperparameter "
                              f"of {model_type}; tunable: {accepted}")
        parsed[name] = parse_space(options[name], text)
    return parsed

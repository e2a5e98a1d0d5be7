"""A model's retraining policy, as `ALTER MODEL m SET ('retrain.when' = ..., ...)` states it
and model.json keeps it ("retraining"); the retraining service (mlsql.retraining) runs it.

    retrain.when           when to train a new version, e.g.
                           "roc_auc < 0.85 OR POPULATION_STABILITY_INDEX > 0.25 OR EVERY '7 d'"
    retrain.training_data  a table, a view or a query: fresh labelled rows with the columns
                           the model's training query gave
    retrain.quality_table  rows of ML_EVALUATE_DELAYED (window_end, metric columns and
                           optionally model_version): lower-case names in `when` read its
                           latest window of the serving version
    retrain.drift_table    rows of ML_VALIDATE_DATA_SKEW / _DRIFT (input, metric, value,
                           is_anomaly, optionally window_end): DRIFT and the statistics'
                           names in `when` read its latest window
    retrain.min_interval   the shortest wall time from one training to the next (1 h)
    retrain.gate_data      labelled rows that the new version and the serving one are both
                           evaluated on; without it every new version is promoted
    retrain.gate_metric    the metric compared (roc_auc for binary classifiers, accuracy for
                           others, r2_score for regressors)
    retrain.gate_margin    by how much the new version must beat the serving one (0)
    retrain.events_table   a Flink table (a Kafka topic, ...) each event is also written to:
                           model, event_time, event, serving_version, candidate_version,
                           serving_score, candidate_score, reason

The condition: terms joined by AND and OR (AND binds tighter), in parentheses as needed.
    <quality metric> <op> <number>     e.g. roc_auc < 0.85, recall <= 0.5
    <STATISTIC>[(<input>)] <op> <number>
                                       the largest value of that drift statistic over the
                                       inputs (or of one input's), e.g. L_INFTY > 0.2
    DRIFT                              any row of the latest drift window is an anomaly
    EVERY '<duration>'                 the serving version is older than that
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mlsql.core.durations import parse_duration
from mlsql.errors import OptionError, did_you_mean
from mlsql.monitoring.statistics import JSD, L_INFTY, NULL_RATE, PSI, UNSEEN

PREFIX = "retrain."
OPTIONS = ("when", "training_data", "quality_table", "drift_table", "min_interval",
           "gate_data", "gate_metric", "gate_margin", "events_table")
DEFAULT_MIN_INTERVAL = "1 h"
STATISTICS = (JSD, L_INFTY, PSI, NULL_RATE, UNSEEN)
# Quality metrics where lower is better; every other one is better higher.
LOWER_IS_BETTER = frozenset({"log_loss", "mean_absolute_error", "root_mean_squared_error",
                             "mean_squared_error", "mean_squared_log_error",
                             "median_absolute_error", "unlabelled", "late_labels"})
_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b, "=": lambda a, b: a == b}
_TOKEN = re.compile(r"\s*(<=|>=|<|>|=|\(|\)|'[^']*'|-?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?"
                    r"|[A-Za-z_][A-Za-z0-9_]*)")


class PolicyError(OptionError):
    """A retraining policy that cannot run as written."""


@dataclass(frozen=True)
class Observations:
    """What the service read before judging the condition."""

    quality: Mapping[str, Any] | None = None  # the latest quality window's row
    drift: tuple[Mapping[str, Any], ...] = ()  # the latest drift window's rows
    serving_age_seconds: float | None = None  # wall time since the serving version trained
    quality_note: str = "no quality window yet"
    drift_note: str = "no drift window yet"


@dataclass(frozen=True)
class Verdict:
    fired: bool
    reasons: tuple[str, ...]  # the terms that held, or why the condition did not


class Term:
    def judge(self, seen: Observations) -> Verdict:
        raise NotImplementedError

    def needs(self) -> set[str]:
        """Which of 'quality', 'drift' the term reads."""
        return set()


@dataclass(frozen=True)
class Comparison(Term):
    name: str
    operator: str
    bound: float
    input: str | None = None  # a drift statistic of one input

    @property
    def is_drift(self) -> bool:
        return self.name in STATISTICS

    def needs(self) -> set[str]:
        return {"drift" if self.is_drift else "quality"}

    def judge(self, seen: Observations) -> Verdict:
        value, where = self._value(seen)
        if value is None:
            return Verdict(False, (f"{self.text()}: {where}",))
        held = _OPERATORS[self.operator](value, self.bound)
        relation = self.operator if held else _negation(self.operator)
        return Verdict(held, (f"{self.label()} = {value:.4g} {relation} {self.bound:g} "
                              f"({where})",))

    def _value(self, seen: Observations) -> tuple[float | None, str]:
        if not self.is_drift:
            if seen.quality is None:
                return None, seen.quality_note
            value = seen.quality.get(self.name)
            return (None if value is None else float(value)), _window(seen.quality)
        values = [float(row["value"]) for row in seen.drift
                  if str(row.get("metric", "")).upper() == self.name
                  and (self.input is None or row.get("input") == self.input)
                  and row.get("value") is not None]
        if not values:
            return None, seen.drift_note if not seen.drift else "no such statistic"
        return max(values), _window(seen.drift[0])

    def label(self) -> str:
        return f"{self.name}({self.input})" if self.input else self.name

    def text(self) -> str:
        return f"{self.label()} {self.operator} {self.bound:g}"


@dataclass(frozen=True)
class AnyDrift(Term):
    def needs(self) -> set[str]:
        return {"drift"}

    def judge(self, seen: Observations) -> Verdict:
        if not seen.drift:
            return Verdict(False, (f"DRIFT: {seen.drift_note}",))
        flagged = [r for r in seen.drift if r.get("is_anomaly")]
        if not flagged:
            return Verdict(False, (f"DRIFT: no anomaly ({_window(seen.drift[0])})",))
        named = ", ".join(f"{r.get('input')} {r.get('metric')} = {float(r['value']):.4g}"
                          for r in flagged[:3])
        more = f" and {len(flagged) - 3} more" if len(flagged) > 3 else ""
        return Verdict(True, (f"DRIFT: {named}{more} ({_window(seen.drift[0])})",))


@dataclass(frozen=True)
class Every(Term):
    seconds: float
    written: str

    def judge(self, seen: Observations) -> Verdict:
        age = seen.serving_age_seconds
        if age is None:
            return Verdict(False, (f"EVERY '{self.written}': no serving version",))
        held = age >= self.seconds
        return Verdict(held, (f"EVERY '{self.written}': the serving version is "
                              f"{_age(age)} old",))


@dataclass(frozen=True)
class Junction(Term):
    operator: str  # AND or OR
    terms: tuple[Term, ...]

    def needs(self) -> set[str]:
        return set().union(*(t.needs() for t in self.terms))

    def judge(self, seen: Observations) -> Verdict:
        verdicts = [t.judge(seen) for t in self.terms]
        if self.operator == "AND":
            fired = all(v.fired for v in verdicts)
            chosen = verdicts if fired else [v for v in verdicts if not v.fired]
        else:
            fired = any(v.fired for v in verdicts)
            chosen = [v for v in verdicts if v.fired] if fired else verdicts
        return Verdict(fired, tuple(r for v in chosen for r in v.reasons))


@dataclass(frozen=True)
class Policy:
    condition: Term
    when: str
    training_data: str
    quality_table: str | None = None
    drift_table: str | None = None
    min_interval_seconds: float = 3600.0
    gate_data: str | None = None
    gate_metric: str | None = None
    gate_margin: float = 0.0
    events_table: str | None = None
    options: Mapping[str, str] = field(default_factory=dict)  # as written, for the record

    @classmethod
    def from_options(cls, options: Mapping[str, str]) -> Policy:
        options = {k: v for k, v in options.items() if v.strip()}  # '' is not given
        unknown = [k for k in options if k not in OPTIONS]
        if unknown:
            raise PolicyError(f"unknown retraining option {PREFIX}{unknown[0]}"
                              f"{did_you_mean(unknown[0], OPTIONS)}; known: "
                              f"{', '.join(PREFIX + o for o in OPTIONS)}")
        for required in ("when", "training_data"):
            if not options.get(required, "").strip():
                raise PolicyError(f"a retraining policy needs {PREFIX}{required}")
        condition = parse_condition(options["when"])
        needs = condition.needs()
        for source in ("quality", "drift"):
            if source in needs and not options.get(f"{source}_table"):
                raise PolicyError(f"{PREFIX}when reads {source} ({options['when']!r}), so "
                                  f"the policy needs {PREFIX}{source}_table")
        try:
            interval = parse_duration(options.get("min_interval", DEFAULT_MIN_INTERVAL))
            margin = float(options.get("gate_margin", "0"))
        except ValueError as error:
            raise PolicyError(f"retraining policy: {error}") from None
        return cls(condition, options["when"], options["training_data"].strip(),
                   options.get("quality_table"), options.get("drift_table"), interval,
                   options.get("gate_data"), options.get("gate_metric"), margin,
                   options.get("events_table"), dict(options))


def policy_options(set_options: Mapping[str, str]) -> dict[str, str]:
    """The `retrain.*` keys of an ALTER MODEL SET, without their prefix."""
    return {k[len(PREFIX):]: v for k, v in set_options.items() if k.startswith(PREFIX)}


def parse_condition(text: str) -> Term:
    tokens = _tokens(text)
    parser = _Parser(tokens, text)
    term = parser.disjunction()
    if parser.index != len(tokens):
        raise parser.error(f"unexpected {tokens[parser.index]!r}")
    return term


def _tokens(text: str) -> list[str]:
    tokens, position = [], 0
    while position < len(text.rstrip()):
        match = _TOKEN.match(text, position)
        if not match:
            raise PolicyError(f"{PREFIX}when: cannot read {text[position:].strip()!r} in "
                              f"{text!r}")
        tokens.append(match.group(1))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, tokens: list[str], text: str) -> None:
        self.tokens, self.text, self.index = tokens, text, 0

    def error(self, problem: str) -> PolicyError:
        return PolicyError(f"{PREFIX}when {self.text!r}: {problem}; write terms such as "
                           "roc_auc < 0.85, POPULATION_STABILITY_INDEX > 0.25, DRIFT, "
                           "EVERY '7 days', joined by AND / OR")

    def peek(self) -> str | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self) -> str:
        token = self.peek()
        if token is None:
            raise self.error("it ends too early")
        self.index += 1
        return token

    def disjunction(self) -> Term:
        return self._junction("OR", self.conjunction)

    def conjunction(self) -> Term:
        return self._junction("AND", self.atom)

    def _junction(self, word: str, part: Callable[[], Term]) -> Term:
        terms = [part()]
        while (self.peek() or "").upper() == word:
            self.take()
            terms.append(part())
        return terms[0] if len(terms) == 1 else Junction(word, tuple(terms))

    def atom(self) -> Term:
        token = self.take()
        upper = token.upper()
        if token == "(":
            term = self.disjunction()
            if self.take() != ")":
                raise self.error("a parenthesis is not closed")
            return term
        if upper == "DRIFT":
            return AnyDrift()
        if upper == "EVERY":
            written = self.take()
            if not written.startswith("'"):
                raise self.error("EVERY takes a quoted duration, as EVERY '7 days'")
            try:
                return Every(parse_duration(written[1:-1]), written[1:-1])
            except ValueError as error:
                raise self.error(str(error)) from None
        if not re.match(r"[A-Za-z_]", token):
            raise self.error(f"expected a metric, DRIFT or EVERY, not {token!r}")
        name = upper if upper in STATISTICS else token.lower()
        column = None
        if self.peek() == "(":
            if name not in STATISTICS:
                raise self.error(f"{token}(...) names an input of a drift statistic; "
                                 f"{token} is not one of {', '.join(STATISTICS)}")
            self.take()
            column = self.take()
            if self.take() != ")":
                raise self.error("a parenthesis is not closed")
        operator = self.take()
        if operator not in _OPERATORS:
            raise self.error(f"expected <, <=, >, >= or = after {token}, not {operator!r}")
        bound = self.take()
        try:
            return Comparison(name, operator, float(bound), column)
        except ValueError:
            raise self.error(f"{bound!r} is not a number") from None


def _negation(operator: str) -> str:
    return {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "=": "!="}[operator]


def _window(row: Mapping[str, Any]) -> str:
    start, end = row.get("window_start"), row.get("window_end")
    where = "the whole table" if end is None else \
        f"window ending {end}" if start is None else f"window {start} to {end}"
    version = row.get("model_version")
    return f"{where}, version {version}" if version is not None else where


def _age(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds:.0f} s"


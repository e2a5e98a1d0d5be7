"""One pass of a model's retraining policy, and the loop `mlsql retrain` runs.

A pass: judge the condition on the latest quality and drift windows; if it holds (on windows
not judged before, or by EVERY) and the last training is older than retrain.min_interval,
train a new version on retrain.training_data with the serving version's options and
TRANSFORM, then gate it: both versions are evaluated on retrain.gate_data and the new one
serves only if it beats the serving one by more than retrain.gate_margin. The serving version
is pinned (default_version) before the new one is published, so no running job scores with a
version the gate has not passed; promotion moves the pin, and running ML_PREDICT jobs follow
it (hot swap). Every step is recorded (mlsql.monitoring.events).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from mlsql.errors import MlsqlError
from mlsql.models.registry import ModelVersion
from mlsql.monitoring import events
from mlsql.monitoring.events import Event
from mlsql.monitoring.policy import LOWER_IS_BETTER, Policy
from mlsql.planner.manage import training_statement
from mlsql.retraining.observe import as_query, evidence, observe
from mlsql.session import Session
from mlsql.syntax.dialect import quote_identifier, quote_literal
from mlsql.tuning.plan import TASK_METRICS

_TRAINING_EVENTS = ("trained", "failed")


@dataclass(frozen=True)
class GateResult:
    metric: str
    serving: float
    candidate: float
    promoted: bool
    reason: str


class RetrainingService:
    def __init__(self, session: Session, report: Callable[[Event, str], None] | None = None,
                 ) -> None:
        self.session = session
        self.registry = session.registry
        self.report = report or (lambda event, model: None)

    def models(self) -> list[str]:
        """The registry's models that have a retraining policy."""
        return [name for name in self.registry.model_names()
                if self.registry.versions(name)
                and self.registry.model_info(name).get("retraining")]

    def run(self, interval_seconds: float, passes: int | None = None) -> None:
        """A pass over every model with a policy each interval (`passes` of them, or forever)."""
        done = 0
        while passes is None or done < passes:
            started = time.monotonic()
            for name in self.models():
                self.check(name)
            done += 1
            if passes is None or done < passes:
                time.sleep(max(0.0, interval_seconds - (time.monotonic() - started)))

    def check(self, name: str) -> list[Event]:
        """One pass for one model; the events it recorded."""
        options = self.registry.model_info(name).get("retraining")
        if not options:
            raise MlsqlError(f"model {name!r} has no retraining policy: set one with ALTER "
                             f"MODEL {name} SET ('retrain.when' = ..., "
                             "'retrain.training_data' = ...)")
        policy = Policy.from_options(options)
        serving = self.registry.resolve(name)
        seen = observe(self.session, policy, serving)
        verdict = policy.condition.judge(seen)
        if not verdict.fired:
            return []
        reason = "; ".join(verdict.reasons)
        history = events.read(self.registry.model_dir(name))
        windows = evidence(seen)
        scheduled = any(r.startswith("EVERY") for r in verdict.reasons)
        if windows is not None and not scheduled and _last_trigger(history) == windows:
            return []  # these windows triggered already
        last = _last_training_time(history)
        if last is not None and time.time() - last < policy.min_interval_seconds:
            if history and history[-1].event == "deferred" and history[-1].evidence == windows:
                return []  # said once
            wait = policy.min_interval_seconds - (time.time() - last)
            return [self._record(name, Event(
                "deferred", f"{reason}; the last training was {time.time() - last:.0f} s ago, "
                f"retrain.min_interval allows the next in {wait:.0f} s", serving.version,
                evidence=windows))]
        recorded = [self._record(name, Event("triggered", reason, serving.version,
                                             evidence=windows))]
        if self.registry.model_info(name).get("default_version") is None:
            self.registry.set_default_version(name, serving.version)  # the gate decides
        try:
            candidate = self._train(serving, policy)
        except MlsqlError as error:
            recorded.append(self._record(name, Event(
                "failed", f"{error}; version {serving.version} keeps serving",
                serving.version)))
            return recorded
        recorded.append(self._record(name, Event(
            "trained", f"on {policy.training_data}", serving.version, candidate.version)))
        recorded.append(self._gate(policy, serving, candidate))
        return recorded

    def _train(self, serving: ModelVersion, policy: Policy) -> ModelVersion:
        before = set(self.registry.versions(serving.name))
        self.session.sql(training_statement(serving, _training_query(serving, policy)))
        published = sorted(set(self.registry.versions(serving.name)) - before)
        if not published:
            raise MlsqlError("the training published no version")
        return self.registry.resolve(serving.name, published[-1])

    def _gate(self, policy: Policy, serving: ModelVersion, candidate: ModelVersion) -> Event:
        name = serving.name
        if policy.gate_data is None:
            self.registry.set_default_version(name, candidate.version)
            return self._record(name, Event(
                "promoted", "no retrain.gate_data: every new version is promoted",
                serving.version, candidate.version))
        try:
            result = self.compare(policy, serving, candidate)
        except MlsqlError as error:
            return self._record(name, Event(
                "refused", f"the gate could not evaluate: {error}", serving.version,
                candidate.version))
        if result.promoted:
            self.registry.set_default_version(name, candidate.version)
        return self._record(name, Event(
            "promoted" if result.promoted else "refused", result.reason, serving.version,
            candidate.version, result.serving, result.candidate))

    def compare(self, policy: Policy, serving: ModelVersion,
                candidate: ModelVersion) -> GateResult:
        metric = policy.gate_metric or default_gate_metric(serving)
        scores = [self._score(policy, version, metric) for version in (serving, candidate)]
        gain = scores[0] - scores[1] if metric in LOWER_IS_BETTER else scores[1] - scores[0]
        promoted = gain > policy.gate_margin
        verdict = "beats" if promoted else "does not beat"
        reason = (f"{metric} on {policy.gate_data}: version {candidate.version} "
                  f"{scores[1]:.4f} {verdict} version {serving.version} {scores[0]:.4f} by "
                  f"more than {policy.gate_margin:g}")
        return GateResult(metric, scores[0], scores[1], promoted, reason)

    def _score(self, policy: Policy, version: ModelVersion, metric: str) -> float:
        assert policy.gate_data is not None
        model = quote_identifier(f"{version.name}${version.version}")
        view = quote_identifier(f"__mlsql_gate_{version.name.replace('.', '_')}")
        self.session.sql(f"CREATE TEMPORARY VIEW IF NOT EXISTS {view} AS "
                         f"{as_query(policy.gate_data)}")
        try:
            frame = self.session.sql(f"SELECT * FROM ML_EVALUATE(TABLE {view}, MODEL {model})")
        finally:
            self.session.sql(f"DROP TEMPORARY VIEW IF EXISTS {view}")
        assert isinstance(frame, pd.DataFrame)
        if metric not in frame.columns:
            raise MlsqlError(f"ML_EVALUATE gives no {metric!r} for version {version.version} "
                             f"(it gives {', '.join(frame.columns)})")
        return float(frame[metric].iloc[0])

    def _record(self, name: str, event: Event) -> Event:
        stamped = events.append(self.registry.model_dir(name), event)
        self.report(stamped, name)
        table = (self.registry.model_info(name).get("retraining") or {}).get("events_table")
        if table:
            self._publish(table, name, stamped)
        return stamped

    def _publish(self, table: str, name: str, event: Event) -> None:
        """The event as a row of the policy's events table; a failure to write it is said
        and the service goes on (retraining.jsonl has the event)."""
        values = [quote_literal(name), f"TIMESTAMP {quote_literal(events.utc_text(event.time))}",
                  quote_literal(event.event), _number(event.serving_version, "INT"),
                  _number(event.candidate_version, "INT"),
                  _number(event.serving_score, "DOUBLE"),
                  _number(event.candidate_score, "DOUBLE"), quote_literal(event.reason)]
        try:
            self.session.sql(f"INSERT INTO {table} VALUES ({', '.join(values)})")
        except MlsqlError as error:
            self.session.context.progress(
                f"could not write the {event.event} event to retrain.events_table {table}: "
                f"{error}")


def _number(value: float | None, flink_type: str) -> str:
    return f"CAST(NULL AS {flink_type})" if value is None else \
        f"CAST({value!r} AS {flink_type})"


def default_gate_metric(model: ModelVersion) -> str:
    metrics = model.metadata.get("metrics") or {}
    for metric in TASK_METRICS.get(model.metadata.get("task", ""), ()):
        if metric in metrics:
            return metric
    raise MlsqlError(f"model {model.name!r} has no metric to gate on; name one with "
                     "retrain.gate_metric")


def _training_query(serving: ModelVersion, policy: Policy) -> str:
    """The training data with the columns the serving version was trained on (all of them
    when a TRANSFORM reads its own)."""
    source = as_query(policy.training_data)
    meta = serving.metadata
    if meta.get("transform"):
        return f"SELECT * FROM ({source}) AS __mlsql_training_data"
    columns = [i["name"] for i in meta["inputs"]] + \
        ([meta["label"]["name"]] if meta.get("label") else [])
    return (f"SELECT {', '.join(map(quote_identifier, columns))} "
            f"FROM ({source}) AS __mlsql_training_data")


def _last_trigger(history: list[Event]) -> str | None:
    triggers = [e for e in history if e.event == "triggered"]
    return triggers[-1].evidence if triggers else None


def _last_training_time(history: list[Event]) -> float | None:
    trainings = [e for e in history if e.event in _TRAINING_EVENTS]
    return pd.Timestamp(trainings[-1].time).timestamp() if trainings else None

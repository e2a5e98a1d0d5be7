"""Kafka tables in a session: their connector jar, and their broker checked before a job.

A `CREATE TABLE ... WITH ('connector' = 'kafka' | 'upsert-kafka', ...)` puts Flink's Kafka
SQL connector on the session's `pipeline.jars` (resolved from Maven Central on first use)
unless `pipeline.jars` already names a Kafka connector jar of the user's. Before a query or
INSERT starts a job, the brokers of the Kafka tables it reads or writes (directly or through
views) are probed: a job against a broker that is down would otherwise retry for a minute,
or forever under checkpointing, before saying anything.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from mlsql.errors import FlinkError
from mlsql.services.jars import resolve
from mlsql.services.kafka.broker import is_reachable
from mlsql.syntax.lexer import Kind, Token

KAFKA_CONNECTORS = ("kafka", "upsert-kafka")
PIPELINE_JARS = "pipeline.jars"
_BOOTSTRAP = "properties.bootstrap.servers"


def with_options(tokens: tuple[Token, ...] | list[Token]) -> dict[str, str]:
    """The `'key' = 'value'` pairs of a statement (its WITH clause, for DDL)."""
    options = {}
    for first, equals, second in zip(tokens, tokens[1:], tokens[2:], strict=False):
        if first.kind is Kind.STRING and equals.is_punct("=") and second.kind is Kind.STRING:
            options[first.value] = second.value
    return options


def created_object(tokens: tuple[Token, ...] | list[Token]) -> tuple[str, str] | None:
    """('TABLE' | 'VIEW', name) for CREATE [OR REPLACE] [TEMPORARY] TABLE|VIEW [IF NOT EXISTS]
    name; the name is the last part of a qualified one."""
    words = [t for t in tokens if t.kind is not Kind.EOF]
    if not words or not words[0].is_word("CREATE"):
        return None
    i = 1
    while i < len(words) and words[i].is_word("OR", "REPLACE", "TEMPORARY"):
        i += 1
    if i >= len(words) or not words[i].is_word("TABLE", "VIEW"):
        return None
    kind = words[i].upper
    i += 1
    if i + 2 < len(words) and words[i].is_word("IF") and words[i + 1].is_word("NOT"):
        i += 3
    name = None
    while i < len(words) and words[i].kind in (Kind.WORD, Kind.QUOTED):
        name = words[i].value
        if i + 1 < len(words) and words[i + 1].is_punct("."):
            i += 2
            continue
        break
    return (kind, name.lower()) if name else None


def referenced_names(tokens: tuple[Token, ...] | list[Token]) -> set[str]:
    return {t.value.lower() for t in tokens if t.kind in (Kind.WORD, Kind.QUOTED)}


@dataclass
class KafkaTables:
    """What a session knows about its Kafka tables."""

    set_option: Callable[[str, str], None]
    get_option: Callable[[str], str | None]
    progress: Callable[[str], None]
    brokers: dict[str, str] = field(default_factory=dict)      # table -> bootstrap servers
    views: dict[str, set[str]] = field(default_factory=dict)  # view -> names it mentions

    def on_ddl(self, tokens: tuple[Token, ...]) -> None:
        """Called before a CREATE statement runs."""
        created = created_object(tokens)
        if created is None:
            return
        kind, name = created
        if kind == "VIEW":
            self.views[name] = referenced_names(tokens)
            return
        options = with_options(tokens)
        if options.get("connector", "").lower() not in KAFKA_CONNECTORS:
            self.brokers.pop(name, None)
            return
        self.brokers[name] = options.get(_BOOTSTRAP, "")
        self._ensure_connector_jar()

    def check_brokers(self, tokens: tuple[Token, ...]) -> None:
        """Called before a statement that starts a job: fail fast if a broker is down."""
        for table in sorted(self._reached(referenced_names(tokens))):
            servers = self.brokers[table]
            if servers and not is_reachable(servers):
                port = servers.split(",")[0].rpartition(":")[2] or "9092"
                raise FlinkError(
                    f"Kafka table {table!r}: no broker answers at {servers}; start a local "
                    f"one with `mlsql kafka start --port {port}` or fix "
                    f"'{_BOOTSTRAP}'")

    def _reached(self, names: set[str]) -> set[str]:
        seen: set[str] = set()
        pending = list(names)
        while pending:
            name = pending.pop()
            if name in seen:
                continue
            seen.add(name)
            pending.extend(self.views.get(name, ()))
        return {name for name in seen if name in self.brokers}

    def _ensure_connector_jar(self) -> None:
        jars = self.get_option(PIPELINE_JARS) or ""
        if "kafka" in jars.lower():  # the user's own connector jar, or ours already
            return
        jar = resolve("kafka-connector", self.progress)[0]
        self.set_option(PIPELINE_JARS, ";".join(filter(None, [jars, jar.as_uri()])))

"""Kafka for mlsql: a local broker (`mlsql kafka start`) and Kafka tables in a session."""

from mlsql.services.kafka.broker import DEFAULT_PORT, LocalKafka, is_reachable

__all__ = ["DEFAULT_PORT", "LocalKafka", "is_reachable"]

"""Read a topic's records as they are stored, with their partition and offset.

For the error of a job that failed on a record it could not read (mlsql.runtime.bad_data):
each partition is read from its first offset to the end it had when the read began, by a
consumer that joins no group and commits nothing. Needs the `streaming` extra's
confluent-kafka; without it, `records` yields nothing.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

POLL_SECONDS = 1.0


@dataclass(frozen=True)
class Record:
    partition: int
    offset: int
    value: bytes | None


def records(bootstrap_servers: str, topic: str, *, limit: int,
            timeout: float = 30.0) -> Iterator[Record]:
    """Up to `limit` records of `topic`, partition by partition in offset order; stops
    quietly at `timeout` seconds or when the broker cannot be reached."""
    try:
        from confluent_kafka import Consumer, TopicPartition
    except ImportError:
        return
    deadline = time.monotonic() + timeout
    consumer = Consumer({"bootstrap.servers": bootstrap_servers, "group.id": "mlsql-inspect",
                         "enable.auto.commit": False, "enable.partition.eof": True,
                         "log_level": 0, "logger": _silent})
    try:
        metadata = consumer.list_topics(topic, timeout=min(timeout, 10.0))
        described = metadata.topics.get(topic)
        if described is None or described.error is not None:
            return
        seen = 0
        for partition in sorted(described.partitions):
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition),
                                                       timeout=min(timeout, 10.0))
            if high <= low:
                continue
            consumer.assign([TopicPartition(topic, partition, low)])
            offset = low
            while offset < high and seen < limit and time.monotonic() < deadline:
                message = consumer.poll(POLL_SECONDS)
                if message is None or message.error() is not None:
                    continue
                offset = message.offset() + 1
                seen += 1
                yield Record(partition, message.offset(), message.value())
            if seen >= limit or time.monotonic() >= deadline:
                return
    except Exception:  # an unreachable broker or a deleted topic: nothing more to name
        return
    finally:
        consumer.close()


def _silent(*_: object) -> None:
    return None

"""A real Kafka broker for the tests, and the streaming example's SQL pointed at it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from tests.helpers import subprocess_env

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "fraud" / "streaming"
MLSQL = Path(sys.executable).with_name("mlsql")


def run_mlsql(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([str(MLSQL), *args], env=subprocess_env(), capture_output=True,
                          text=True, timeout=600, **kwargs)


def mlsql_background(*args: str, log: Path) -> subprocess.Popen:
    """An `mlsql` process in its own process group (so a test can kill all of it)."""
    with log.open("w") as out:
        return subprocess.Popen([str(MLSQL), *args], env=subprocess_env(), stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)


def example_sql(directory: Path, port: int, replacements: dict[str, str] | None = None
                ) -> Path:
    """The example's SQL files with the broker at `port` (and any other replacements)."""
    directory.mkdir(parents=True, exist_ok=True)
    for path in EXAMPLE.glob("*.sql"):
        text = path.read_text().replace("127.0.0.1:9092", f"127.0.0.1:{port}")
        for old, new in (replacements or {}).items():
            text = text.replace(old, new)
        (directory / path.name).write_text(text)
    return directory


@contextmanager
def consumer(bootstrap: str, topic: str, committed: bool = True) -> Iterator:
    from confluent_kafka import Consumer

    reader = Consumer({"bootstrap.servers": bootstrap, "group.id": f"test-{time.time_ns()}",
                       "auto.offset.reset": "earliest", "enable.auto.commit": False,
                       "isolation.level": "read_committed" if committed
                       else "read_uncommitted"})
    reader.subscribe([topic])
    try:
        yield reader
    finally:
        reader.close()


def read_json(bootstrap: str, topic: str, *, until=None, timeout: float = 60,
              committed: bool = True) -> list[dict]:
    """Records of `topic` as dicts, until `until(records)` holds or nothing arrives for 5 s
    after `timeout` seconds."""
    records: list[dict] = []
    deadline = time.monotonic() + timeout
    with consumer(bootstrap, topic, committed) as reader:
        quiet_since = time.monotonic()
        while True:
            message = reader.poll(0.5)
            now = time.monotonic()
            if message is not None and not message.error():
                records.append(json.loads(message.value()))
                quiet_since = now
            if until is not None and until(records):
                return records
            if now > deadline and now - quiet_since > 5:
                return records


def checkpoints(directory: Path) -> list[int]:
    """The numbers of the completed checkpoints Flink kept (the newest by default)."""
    return sorted(int(m.parent.name.removeprefix("chk-"))
                  for m in directory.glob("*/chk-*/_metadata"))


def wait_for(condition, timeout: float, what: str, process: subprocess.Popen | None = None,
             log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if process is not None and process.poll() is not None:
            raise AssertionError(f"{what}: the process ended ({process.returncode}):\n"
                                 f"{log.read_text()[-3000:] if log else ''}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}:\n"
                                 f"{log.read_text()[-3000:] if log else ''}")
        time.sleep(0.3)


def kill_group(process: subprocess.Popen) -> None:
    import signal

    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(30)


class TopicReader:
    """A topic's records as dicts, gathered across calls while a job writes them."""

    def __init__(self, bootstrap: str, topic: str, committed: bool = False) -> None:
        self._context = consumer(bootstrap, topic, committed)
        self._reader = self._context.__enter__()
        self.records: list[dict] = []

    def read_until(self, condition, timeout: float, what: str) -> list[dict]:
        deadline = time.monotonic() + timeout
        while not condition(self.records):
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what} "
                                     f"({len(self.records)} records so far)")
            message = self._reader.poll(0.2)
            if message is not None and not message.error():
                self.records.append(json.loads(message.value()))
        return self.records

    def close(self) -> None:
        self._context.__exit__(None, None, None)


class PacedProducer:
    """Writes `make(i)` for i = 0, 1, ... to a topic at `rate` records/s in a thread, until
    stopped or `limit` records are out."""

    def __init__(self, bootstrap: str, topic: str, make, rate: float,
                 limit: int | None = None) -> None:
        import threading

        self._args = (bootstrap, topic, make, rate, limit)
        self._stop = threading.Event()
        self.sent = 0
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        from confluent_kafka import Producer

        bootstrap, topic, make, rate, limit = self._args
        writer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})
        started = time.monotonic()
        while not self._stop.is_set() and (limit is None or self.sent < limit):
            writer.produce(topic, json.dumps(make(self.sent)).encode())
            self.sent += 1
            writer.poll(0)
            delay = started + self.sent / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        writer.flush(30)

    def join(self, timeout: float = 120) -> int:
        """Wait until `limit` records are out."""
        self._thread.join(timeout)
        return self.sent

    def stop(self) -> int:
        self._stop.set()
        self._thread.join(60)
        return self.sent

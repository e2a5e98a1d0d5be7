"""The Kafka pipeline of the streaming fraud example: per-event latency and throughput.

    python tests/benchmarks/streaming.py [--seconds 20] [--events 400000] [--rounds 2]

Everything runs on a broker of its own (LocalKafka in a temporary directory, 127.0.0.1),
parallelism 1, streaming mode, with the example's SQL (examples/fraud/streaming: tables.sql,
features.sql and train.sql, the broker address and topic names substituted).

Setup: --history-days simulated days of transactions (producer.py, --cards cards); train.sql
trains `fraud_model` (logistic_reg: compiled SQL) and `fraud_trees` (100 boosted trees: a
pandas UDF) through the feature view, the topic read up to its end.

Latency: for each variant a fresh scoring job INSERTs every scored transaction (no
probability filter) into an alerts topic of its own; its transactions topic gets the same
history first, then, once the job has scored all of it, live events at 1,000 and 10,000
events/s for --seconds each. Latency is the alert's Kafka record timestamp minus its
transaction's (both set by the producers when they send), over the live events after the
first 10% of each rate (warm-up); for the exactly-once sink also the time until a
read_committed consumer sees the alert ("seen"), which waits for the checkpoint that commits
the Kafka transaction. Checkpoints every second in every variant.

Throughput: --events transactions preloaded in a topic, read to its end (scan.bounded.mode
latest-offset) by a streaming job, timed from the INSERT to the job's end: features into a
Kafka sink, against features -> ML_PREDICT -> the same kind of sink. Alternated over
--rounds rounds; medians.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import numpy as np
from common import summary

import mlsql
from mlsql.jobs import JobHandle
from mlsql.kafka import LocalKafka

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "fraud" / "streaming"
sys.path.insert(0, str(EXAMPLE))
import producer  # noqa: E402  (the example's transaction generator)

EXAMPLE_ADDRESS = "127.0.0.1:9092"
CHECKPOINT_INTERVAL = "1 s"
RATES = (1_000, 10_000)
WARM_UP = 0.1  # of each rate's events, skipped
TARGETS_MS = {"sql": 30, "udf": 50}  # p99 at 1,000 events/s, at-least-once
# The columns of the feature view that reach the sink, with the model's probability or not.
FEATURES = ["tx_id", "card_id", "event_time", "category", "amount", "online", "hour_of_day",
            "tx_count_10m", "tx_count_24h", "amount_to_avg_30d", "seconds_since_previous",
            "km_from_previous"]
FEATURE_TYPES = ["BIGINT", "STRING", "TIMESTAMP(3)", "STRING", "DOUBLE", "BOOLEAN", "INT",
                 "INT", "INT", "DOUBLE", "DOUBLE", "DOUBLE"]


@dataclass(frozen=True)
class Variant:
    key: str
    label: str
    model: str
    execution: str
    guarantee: str  # the sink's 'sink.delivery-guarantee'


LATENCY_VARIANTS = [
    Variant("sql", "logistic, compiled SQL, at-least-once", "fraud_model", "sql",
            "at-least-once"),
    Variant("udf", "logistic, pandas UDF, at-least-once", "fraud_model", "udf",
            "at-least-once"),
    Variant("trees", "100 trees, pandas UDF, at-least-once", "fraud_trees", "udf",
            "at-least-once"),
    Variant("sql_eo", "logistic, compiled SQL, exactly-once", "fraud_model", "sql",
            "exactly-once"),
    Variant("trees_eo", "100 trees, pandas UDF, exactly-once", "fraud_trees", "udf",
            "exactly-once"),
]


class Bench:
    """The broker, the registry and the example's SQL pointed at them."""

    def __init__(self, root: Path, port: int, cards: int, history_days: float) -> None:
        self.root = root
        self.bootstrap = f"127.0.0.1:{port}"
        self.registry = root / "registry"
        self.cards = cards
        self.history_days = history_days
        self.sql = {name: (EXAMPLE / name).read_text().replace(EXAMPLE_ADDRESS, self.bootstrap)
                    for name in ("tables.sql", "features.sql", "train.sql")}
        self.jobs: list[JobHandle] = []

    def session(self, topic: str) -> mlsql.Session:
        """A fresh session with the example's tables (`transactions` reading `topic`) and
        its feature view."""
        session = mlsql.Session(registry=self.registry, mode="streaming")
        session.sql("SET 'parallelism.default' = '1'")
        tables = self.sql["tables.sql"].replace("'topic' = 'transactions'",
                                                f"'topic' = '{topic}'")
        session.sql(tables)
        session.sql(self.sql["features.sql"])
        return session

    def sink(self, session: mlsql.Session, name: str, topic: str, columns: str,
             guarantee: str) -> None:
        transactional = (f", 'sink.transactional-id-prefix' = '{topic}-{time.time_ns()}', "
                         "'properties.transaction.timeout.ms' = '600000'"
                         if guarantee == "exactly-once" else "")
        session.sql(f"CREATE TABLE {name} ({columns}) WITH ('connector' = 'kafka', "
                    f"'topic' = '{topic}', 'properties.bootstrap.servers' = '{self.bootstrap}', "
                    f"'sink.delivery-guarantee' = '{guarantee}'{transactional}, "
                    "'format' = 'json', 'json.timestamp-format.standard' = 'ISO-8601')")

    def start(self, session: mlsql.Session, insert: str) -> JobHandle:
        job = session.sql(insert)
        self.jobs.append(job)
        return job

    def stop_jobs(self) -> None:
        for job in self.jobs:
            try:
                job.cancel()
            except Exception as error:  # the job ended some other way
                print(f"  (cancelling job {job.job_id}: {error})", file=sys.stderr)
        self.jobs.clear()

    def history(self, topic: str) -> tuple[int, object]:
        """The same deterministic history in `topic`; returns its count and the stream's
        iterator, positioned where the live events continue."""
        stream = producer.TransactionStream(self.cards)
        events = iter(stream)
        sent = producer.produce(self.bootstrap, topic, events,
                                until=stream.clock + timedelta(days=self.history_days))
        return sent, events

    def create_topics(self, *topics: str) -> None:
        from confluent_kafka.admin import AdminClient, NewTopic

        admin = AdminClient({"bootstrap.servers": self.bootstrap})
        futures = admin.create_topics([NewTopic(t, 1, 1) for t in topics])
        for future in futures.values():
            future.result(30)


class AlertReader(threading.Thread):
    """Reads an alerts topic from its start as the job writes it (read_committed): for each
    tx_id the record's timestamp and when the reader saw it, both in ms since the epoch."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        super().__init__(daemon=True, name=f"reader-{topic}")
        from confluent_kafka import Consumer

        self.consumer = Consumer({
            "bootstrap.servers": bootstrap, "group.id": f"bench-{time.time_ns()}",
            "auto.offset.reset": "earliest", "enable.auto.commit": False,
            "isolation.level": "read_committed", "fetch.wait.max.ms": 5})
        self.consumer.subscribe([topic])
        self.stamped: dict[int, int] = {}
        self.seen: dict[int, float] = {}
        self.stopping = threading.Event()

    def run(self) -> None:
        try:
            while not self.stopping.is_set():
                message = self.consumer.poll(0.05)  # returns as soon as one has arrived
                now = time.time() * 1000
                if message is not None and not message.error():
                    tx_id = json.loads(message.value())["tx_id"]
                    self.stamped[tx_id] = message.timestamp()[1]
                    self.seen[tx_id] = now
        finally:
            self.consumer.close()

    def wait_for(self, ids: list[int] | range, timeout: float) -> bool:
        """Whether an alert for each of `ids` arrived within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        pending = list(ids)
        while pending:
            pending = [i for i in pending if i not in self.stamped]
            if not pending or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        return not pending


def record_timestamps(bootstrap: str, topic: str, start_offset: int) -> dict[int, int]:
    """tx_id -> the Kafka record timestamp of each transaction from `start_offset` on."""
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"bench-{time.time_ns()}",
                         "enable.auto.commit": False})
    _, end = consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=30)
    consumer.assign([TopicPartition(topic, 0, start_offset)])
    stamps: dict[int, int] = {}
    position = start_offset
    while position < end:
        for message in consumer.consume(10_000, 1.0):
            if message.error():
                continue
            stamps[json.loads(message.value())["tx_id"]] = message.timestamp()[1]
            position = message.offset() + 1
    consumer.close()
    return stamps


def percentiles(values: list[float]) -> tuple[float, float]:
    if not values:
        return float("nan"), float("nan")
    p50, p99 = np.percentile(values, [50, 99])
    return float(p50), float(p99)


def measure_latency(bench: Bench, variant: Variant, seconds: float) -> dict[int, dict]:
    topic, alerts = f"tx_{variant.key}", f"alerts_{variant.key}"
    bench.create_topics(topic, alerts)
    history, events = bench.history(topic)
    session = bench.session(topic)
    session.sql(f"SET 'execution.checkpointing.interval' = '{CHECKPOINT_INTERVAL}'")
    bench.sink(session, "bench_alerts", alerts,
               "tx_id BIGINT, card_id STRING, probability DOUBLE", variant.guarantee)
    reader = AlertReader(bench.bootstrap, alerts)
    reader.start()
    submitted = time.monotonic()
    job = bench.start(session, (
        "INSERT INTO bench_alerts SELECT tx_id, card_id, probability FROM ML_PREDICT("
        f"TABLE features, MODEL {variant.model}, MAP['execution', '{variant.execution}'])"))
    results: dict[int, dict] = {}
    try:
        if not reader.wait_for(range(1, history + 1), 300):
            raise RuntimeError(f"{variant.label}: the job did not score the history "
                               f"({len(reader.stamped)} of {history} alerts; {job.status()})")
        caught_up = time.monotonic() - submitted
        phases = []
        for rate in RATES:
            ids: list[int] = []
            started = time.monotonic()
            sent = producer.produce(bench.bootstrap, topic, events, count=int(rate * seconds),
                                    rate=rate, on_send=lambda e, ids=ids: ids.append(e["tx_id"]))
            phases.append((rate, sent / (time.monotonic() - started), ids))
            if not reader.wait_for(ids, 60):
                print(f"  {variant.label}: {rate}/s: not every alert arrived",
                      file=sys.stderr)
        stamps = record_timestamps(bench.bootstrap, topic, history)
    finally:
        job.cancel()
        bench.jobs.remove(job)
        reader.stopping.set()
        reader.join(10)
    for rate, achieved, ids in phases:
        measured = ids[int(len(ids) * WARM_UP):]
        got = [i for i in measured if i in reader.stamped and i in stamps]
        latency = [reader.stamped[i] - stamps[i] for i in got]
        seen = [reader.seen[i] - stamps[i] for i in got]
        results[rate] = {"achieved": achieved, "events": len(got), "missing":
                         len(measured) - len(got), "latency": percentiles(latency),
                         "seen": percentiles(seen),
                         "raw": ([stamps[i] for i in got], latency, seen)}
    print(f"  {variant.label}: history of {history:,} scored {caught_up:.1f} s after the "
          f"INSERT", file=sys.stderr)
    return results


def measure_throughput(bench: Bench, events: int, rounds: int) -> dict[str, list[float]]:
    topic = "tx_bulk"
    bench.create_topics(topic, "bulk_plain", "bulk_scored")
    stream = producer.TransactionStream(bench.cards)
    started = time.monotonic()
    sent = producer.produce(bench.bootstrap, topic, iter(stream), count=events)
    print(f"  preloaded {sent:,} transactions in {time.monotonic() - started:.1f} s",
          file=sys.stderr)
    columns = ", ".join(f"{n} {t}" for n, t in zip(FEATURES, FEATURE_TYPES, strict=True))
    selected = ", ".join(FEATURES)
    pipelines = {
        "no_model": ("bulk_plain", columns, f"SELECT {selected} FROM features"),
        "sql": ("bulk_scored", f"{columns}, probability DOUBLE",
                f"SELECT {selected}, probability FROM ML_PREDICT(TABLE features, "
                "MODEL fraud_model, MAP['execution', 'sql'])"),
        "trees": ("bulk_scored", f"{columns}, probability DOUBLE",
                  f"SELECT {selected}, probability FROM ML_PREDICT(TABLE features, "
                  "MODEL fraud_trees, MAP['execution', 'udf'])"),
    }
    seconds: dict[str, list[float]] = {name: [] for name in pipelines}
    for round_ in range(rounds):  # alternated, so drift hits every pipeline alike
        for name, (sink_topic, sink_columns, query) in pipelines.items():
            session = bench.session(topic)
            session.sql("ALTER TABLE transactions SET ('scan.bounded.mode' = 'latest-offset')")
            bench.sink(session, "bulk_sink", sink_topic, sink_columns, "at-least-once")
            started = time.perf_counter()
            job = bench.start(session, f"INSERT INTO bulk_sink {query}")
            job.wait()
            took = time.perf_counter() - started
            bench.jobs.remove(job)
            seconds[name].append(took)
            print(f"  round {round_ + 1} {name}: {took:.1f} s", file=sys.stderr)
    return {name: [sent / s for s in runs] for name, runs in seconds.items()}


def free_port(preferred: int) -> int:
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", preferred)) != 0:
            return preferred
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20, help="live seconds per rate")
    parser.add_argument("--events", type=int, default=400_000,
                        help="preloaded transactions for the throughput runs")
    parser.add_argument("--rounds", type=int, default=2, help="throughput rounds")
    parser.add_argument("--cards", type=int, default=1000)
    parser.add_argument("--history-days", type=float, default=10)
    parser.add_argument("--port", type=int, default=29092)
    args = parser.parse_args()

    print(f"{os.cpu_count()} CPUs (1-minute load {os.getloadavg()[0]:.1f} at the start; "
          "anything else running shares them), parallelism 1, streaming mode")
    root = Path(tempfile.mkdtemp(prefix="mlsql-bench-streaming-"))
    broker = LocalKafka(root / "kafka")
    port = free_port(args.port)
    broker.start(port)
    bench = Bench(root, port, args.cards, args.history_days)
    try:
        bench.create_topics("transactions")
        history, _ = bench.history("transactions")
        trainer = bench.session("transactions")
        started = time.monotonic()
        trainer.sql(bench.sql["train.sql"])
        print(f"trained fraud_model and fraud_trees on {history:,} transactions "
              f"({args.history_days:g} simulated days, {args.cards} cards) in "
              f"{time.monotonic() - started:.1f} s")

        print(f"\nlatency, alert record time - transaction record time, live events after "
              f"{WARM_UP:.0%} warm-up; checkpoints every {CHECKPOINT_INTERVAL}:")
        latency: dict[str, dict[int, dict]] = {}
        for variant in LATENCY_VARIANTS:
            latency[variant.key] = measure_latency(bench, variant, args.seconds)
            for rate, r in latency[variant.key].items():
                line = (f"  {variant.label:<38} {rate:>6,}/s (sent {r['achieved']:>6,.0f}/s)"
                        f"  p50 {r['latency'][0]:6.1f} ms  p99 {r['latency'][1]:7.1f} ms")
                if variant.guarantee == "exactly-once":
                    line += (f"  seen read_committed: p50 {r['seen'][0]:6.0f} ms  p99 "
                             f"{r['seen'][1]:6.0f} ms (checkpoints every "
                             f"{CHECKPOINT_INTERVAL})")
                elif rate == RATES[0]:
                    target = TARGETS_MS[variant.execution]
                    line += f"  (target p99 <= {target} ms)"
                if r["missing"]:
                    line += f"  [{r['missing']} alerts missing]"
                print(line)

        print(f"\nthroughput, {args.events:,} preloaded transactions -> features -> "
              f"[ML_PREDICT] -> Kafka (at-least-once), bounded, timed from INSERT to the "
              f"job's end; medians of {args.rounds} rounds:")
        rates = measure_throughput(bench, args.events, args.rounds)
        base = statistics.median(rates["no_model"])
        print(f"  {'no model:':<32}{base:>10,.0f} events/s")
        ratios = {}
        for name, label in (("sql", "logistic, compiled SQL"), ("trees", "100 trees, UDF")):
            rate = statistics.median(rates[name])
            ratios[name] = rate / base
            target = "  (target >= 0.8)" if name == "sql" else ""
            print(f"  {label + ':':<32}{rate:>10,.0f} events/s  ratio {rate / base:.2f}"
                  f"{target}")
    finally:
        bench.stop_jobs()
        broker.stop()
        shutil.rmtree(root, ignore_errors=True)

    def p99(key: str, rate: int, kind: str = "latency") -> float:
        return latency[key][rate][kind][1]

    print(summary("streaming", p99_compiled_1k=p99("sql", 1000),
                  p99_udf_1k=p99("udf", 1000), p99_trees_1k=p99("trees", 1000),
                  p99_compiled_10k=p99("sql", 10_000), p99_trees_10k=p99("trees", 10_000),
                  p99_compiled_eo_seen_1k=p99("sql_eo", 1000, "seen"),
                  no_model_events_per_s=base, ratio_compiled=ratios["sql"],
                  ratio_trees=ratios["trees"]))


if __name__ == "__main__":
    main()

"""The Kafka pipeline of the streaming fraud example: per-event latency and throughput.

    python tests/benchmarks/streaming.py [--seconds 20] [--events 200000] [--rounds 2]
        [--variants none,sql,...] [--rates 1000,10000] [--repeat 1] [--no-throughput]

Everything runs against a broker of its own (LocalKafka in a temporary directory, on
127.0.0.1), at parallelism 1 in streaming mode, with the example's own SQL
(examples/fraud/streaming: tables.sql, features.sql, train.sql; the broker address and the
transactions topic substituted).

Setup: --history-days simulated days of transactions from the example's producer (--cards
cards); train.sql trains `fraud_model` (logistic_reg: compiled SQL) and `fraud_trees` (100
boosted trees: a pandas UDF) through the feature view, the topic read to its end.

Latency: each variant is a fresh scoring job that INSERTs every scored transaction (no
probability filter) into an alerts topic of its own. Its transactions topic gets the same
history first; once every history transaction has its alert, live events follow at 1,000
and then 10,000 events/s for --seconds each (the same pre-generated events for every
variant). Latency is the alert's Kafka record timestamp minus its transaction's (each set by
its producer at send time), over the live events after the first 10% of each rate. "seen" is
when a read_committed consumer polling the alerts topic got the alert, minus the same
transaction timestamp: for the exactly-once sink that waits for the checkpoint that commits
the Kafka transaction. Checkpoints every second, to a directory, in every variant. An
alert not there --drain seconds after the last event was sent counts as infinitely late
(p99 "inf": the job did not keep up; "scored/s": the rate's alerts written while it was
sent, per second). The network buffer timeout is mlsql's streaming default (5 ms) unless
said; extra variants set it to Flink's own default (100 ms: the hash exchange in front of
each of the feature view's four OVER windows waits for it) and to 0 ms. The floor is the
same job without ML_PREDICT ("none": a feature column in the probability's place); the
issue's targets are a p99 at 1,000 events/s at most 1.2 x the floor's for compiled SQL and
the JVM scorer, 2 x for the pandas UDF. Exactly-once is measured with checkpoints every
second and every 200 ms. --variants picks and orders the variants; an unmeasured
no-model job at 1,000 events/s for 5 s runs before them (the first job on a fresh broker
and JVM is slower than any later one).

Throughput: --events transactions preloaded in a topic and read to its end
(scan.bounded.mode latest-offset) by a streaming job, timed from the INSERT to the job's end
(JobHandle.wait()), nothing subtracted: the feature view into a Kafka sink, against the
feature view -> ML_PREDICT -> the same kind of sink; alternated over --rounds rounds,
medians.
"""

from __future__ import annotations

import argparse
import itertools
import json
import shutil
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path

import numpy as np
from common import JobTracker, free_port, load, ms, summary

import mlsql
from mlsql.runtime.job_handle import JobHandle
from mlsql.services.kafka import LocalKafka

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "fraud" / "streaming"
sys.path.insert(0, str(EXAMPLE))
import producer  # noqa: E402  (the example's transaction generator)

EXAMPLE_ADDRESS = "127.0.0.1:9092"
CHECKPOINT_INTERVAL = "1 s"
RATES = (1_000, 10_000)
WARM_UP = 0.1  # of each rate's events, skipped
# Issue 31: p99 at 1,000 events/s, at-least-once, at most this times the no-model p99.
TARGET_RATIOS = {"sql": 1.2, "jvm": 1.2, "udf": 2.0}
BUFFER_TIMEOUT = "execution.buffer-timeout.interval"
# The feature view's columns that reach the throughput sinks (all of them are computed, as
# for the model): the same with or without the model's probability.
FEATURES = {"tx_id": "BIGINT", "card_id": "STRING", "event_time": "TIMESTAMP(3)",
            "category": "STRING", "amount": "DOUBLE", "online": "BOOLEAN",
            "hour_of_day": "INT", "tx_count_10m": "INT", "tx_count_24h": "INT",
            "amount_to_avg_30d": "DOUBLE", "seconds_since_previous": "DOUBLE",
            "km_from_previous": "DOUBLE"}


@dataclass(frozen=True)
class Variant:
    key: str
    label: str
    model: str  # "": the same pipeline without ML_PREDICT (the floor)
    execution: str  # ML_PREDICT's MAP['execution', ...]
    guarantee: str  # the sink's 'sink.delivery-guarantee'
    rates: tuple[int, ...] = RATES
    options: dict[str, str] = field(default_factory=dict)

    def query(self) -> str:
        if not self.model:  # a computed column of the features in the probability's place
            return ("INSERT INTO bench_alerts SELECT tx_id, card_id, amount_to_avg_30d AS "
                    "probability FROM features")
        return ("INSERT INTO bench_alerts SELECT tx_id, card_id, probability FROM ML_PREDICT("
                f"TABLE features, MODEL {self.model}, MAP['execution', '{self.execution}'])")


CHECKPOINT_INTERVAL_KEY = "execution.checkpointing.interval"
WARM_UP_VARIANT = Variant("warm_up", "no model, unmeasured", "", "", "at-least-once",
                          rates=(1_000,))
LATENCY_VARIANTS = [
    Variant("none", "no model, at-least-once", "", "", "at-least-once"),
    Variant("sql", "logistic, compiled SQL, at-least-once", "fraud_model", "sql",
            "at-least-once"),
    Variant("jvm", "logistic, JVM scorer, at-least-once", "fraud_model", "jvm",
            "at-least-once"),
    Variant("trees_jvm", "100 trees, JVM scorer, at-least-once", "fraud_trees", "jvm",
            "at-least-once"),
    Variant("udf", "logistic, pandas UDF, at-least-once", "fraud_model", "udf",
            "at-least-once"),
    Variant("trees", "100 trees, pandas UDF, at-least-once", "fraud_trees", "udf",
            "at-least-once"),
    Variant("sql_eo", "logistic, compiled SQL, exactly-once", "fraud_model", "sql",
            "exactly-once"),
    Variant("trees_eo", "100 trees, pandas UDF, exactly-once", "fraud_trees", "udf",
            "exactly-once"),
    Variant("sql_eo200", "logistic, compiled SQL, exactly-once, checkpoints 200 ms",
            "fraud_model", "sql", "exactly-once", rates=(1_000,),
            options={CHECKPOINT_INTERVAL_KEY: "200 ms"}),
]


def with_setting(base: Variant, suffix: str, label: str, options: dict[str, str]) -> Variant:
    """`base` at 1,000 events/s with one Flink setting changed."""
    return replace(base, key=f"{base.key}_{suffix}", label=f"{base.label}, {label}",
                   rates=(1_000,), options=options)


_BY_KEY = {v.key: v for v in LATENCY_VARIANTS}
LATENCY_VARIANTS += [
    with_setting(_BY_KEY[key], suffix, label, options)
    for suffix, label, options, keys in (
        ("bt100", "buffer timeout 100 ms", {BUFFER_TIMEOUT: "100 ms"}, ("none", "sql")),
        ("bt0", "buffer timeout 0 ms", {BUFFER_TIMEOUT: "0 ms"},
         ("none", "sql", "jvm", "trees_jvm", "udf", "trees")),
        ("nockpt", "no checkpoints", {CHECKPOINT_INTERVAL_KEY: "1 h"}, ("none", "sql")))
    for key in keys]


@dataclass
class Timeline:
    """The example's deterministic transactions, generated once: the history and, after it,
    the live events of each rate (so that the producer's loop only sends)."""

    history: list[dict]
    live: dict[int, list[dict]]

    @classmethod
    def generate(cls, cards: int, days: float, seconds: float) -> Timeline:
        stream = producer.TransactionStream(cards)
        events = iter(stream)
        until = (stream.clock + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S")
        history = list(itertools.takewhile(lambda e: e["event_time"] < until, events))
        live = {rate: list(itertools.islice(events, int(rate * seconds))) for rate in RATES}
        return cls(history, live)


class Bench(JobTracker):
    """The broker, the registry and the example's SQL pointed at them."""

    def __init__(self, root: Path, port: int) -> None:
        self.root = root
        self.bootstrap = f"127.0.0.1:{port}"
        self.registry = root / "registry"
        self.sql = {name: (EXAMPLE / name).read_text().replace(EXAMPLE_ADDRESS, self.bootstrap)
                    for name in ("tables.sql", "features.sql", "train.sql")}
        self.jobs: list[JobHandle] = []

    def session(self, topic: str, options: dict[str, str] | None = None) -> mlsql.Session:
        """A fresh session with the example's tables (`transactions` reading `topic`) and
        its feature view."""
        session = mlsql.Session(registry=self.registry, mode="streaming")
        session.sql("SET 'parallelism.default' = '1'")
        for key, value in (options or {}).items():
            session.sql(f"SET '{key}' = '{value}'")
        session.sql(self.sql["tables.sql"].replace("'topic' = 'transactions'",
                                                   f"'topic' = '{topic}'"))
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

    def produce(self, topic: str, events: list[dict], **pacing) -> int:
        return producer.produce(self.bootstrap, topic, iter(events), **pacing)

    def create_topics(self, *topics: str) -> None:
        from confluent_kafka.admin import AdminClient, NewTopic

        admin = AdminClient({"bootstrap.servers": self.bootstrap})
        for future in admin.create_topics([NewTopic(t, 1, 1) for t in topics]).values():
            future.result(30)


class AlertReader(threading.Thread):
    """Reads an alerts topic from its start while the job writes it (read_committed): per
    tx_id the record's timestamp and when the reader got it, both in ms since the epoch."""

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
        self.duplicates = 0  # alerts written again (at-least-once, after a restart)
        self.stopping = threading.Event()

    def run(self) -> None:
        try:
            while not self.stopping.is_set():
                message = self.consumer.poll(0.05)  # returns as soon as one has arrived
                now = time.time() * 1000
                if message is not None and not message.error():
                    tx_id = json.loads(message.value())["tx_id"]
                    if tx_id in self.stamped:  # the first one counts
                        self.duplicates += 1
                        continue
                    self.stamped[tx_id] = message.timestamp()[1]
                    self.seen[tx_id] = now
        finally:
            self.consumer.close()

    def wait_for(self, ids: list[int], timeout: float) -> bool:
        """Whether an alert for each of `ids` arrived within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        pending = ids
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
            if not message.error():
                stamps[json.loads(message.value())["tx_id"]] = message.timestamp()[1]
                position = message.offset() + 1
    consumer.close()
    return stamps


def percentiles(values: list[float]) -> tuple[float, float]:
    """p50 and p99 (nearest rank, so that an infinitely late alert counts as one)."""
    if not values:
        return float("nan"), float("nan")
    p50, p99 = np.percentile(values, [50, 99], method="inverted_cdf")
    return float(p50), float(p99)


@dataclass
class Phase:
    rate: int
    achieved: float
    events: int
    late: int  # alerts not there --drain seconds after the last send
    scored: float  # the phase's alerts written while it sent, per second of sending
    latency: tuple[float, float]
    seen: tuple[float, float]


def measure_latency(bench: Bench, variant: Variant, timeline: Timeline, seconds: float,
                    drain: float, round_: int = 0) -> tuple[float, int, list[Phase]]:
    """Returns the seconds from the INSERT to the history's last alert, how many alerts
    came twice, and each rate's figures."""
    topic, alerts = f"tx_{variant.key}_{round_}", f"alerts_{variant.key}_{round_}"
    bench.create_topics(topic, alerts)
    history = bench.produce(topic, timeline.history)
    options = {CHECKPOINT_INTERVAL_KEY: CHECKPOINT_INTERVAL, **variant.options}
    session = bench.session(topic, options)
    # A directory: the job manager's memory takes at most 5 MB of state, and the feature
    # view's windows hold more, so every checkpoint would fail and the job restart.
    session.sql("SET 'execution.checkpointing.dir' = "
                f"'{(bench.root / 'checkpoints' / variant.key).as_uri()}'")
    bench.sink(session, "bench_alerts", alerts,
               "tx_id BIGINT, card_id STRING, probability DOUBLE", variant.guarantee)
    reader = AlertReader(bench.bootstrap, alerts)
    reader.start()
    submitted = time.monotonic()
    job = bench.start(session, variant.query())
    sent_phases = []
    try:
        if not reader.wait_for([e["tx_id"] for e in timeline.history], 300):
            raise RuntimeError(f"{variant.label}: the job did not score the history "
                               f"({len(reader.stamped)} of {history} alerts; {job.status()})")
        caught_up = time.monotonic() - submitted
        for rate in variant.rates:
            ids: list[int] = []
            started = time.monotonic()
            deadline = started + seconds * 1.25 + 1  # when the producer cannot keep the rate
            events = itertools.takewhile(lambda _, d=deadline: time.monotonic() < d,
                                         timeline.live[rate])
            sent = producer.produce(bench.bootstrap, topic, events, rate=rate,
                                    on_send=lambda e, ids=ids: ids.append(e["tx_id"]))
            sent_phases.append((rate, sent / (time.monotonic() - started), ids))
            reader.wait_for(ids, drain)
        stamps = record_timestamps(bench.bootstrap, topic, history)
    finally:
        bench.finished(job)
        reader.stopping.set()
        reader.join(10)
    phases = []
    for rate, achieved, ids in sent_phases:
        measured = ids[int(len(ids) * WARM_UP):]
        late = [i for i in measured if i not in reader.stamped]
        got = [i for i in measured if i in reader.stamped]
        inf = [float("inf")] * len(late)
        first, last = stamps[ids[0]], stamps[ids[-1]]
        kept_up = sum(1 for i in ids if reader.stamped.get(i, last + 1) <= last)
        scored = kept_up / max((last - first) / 1000, 1e-3)
        phases.append(Phase(
            rate, achieved, len(measured), len(late), scored,
            percentiles([reader.stamped[i] - stamps[i] for i in got] + inf),
            percentiles([reader.seen[i] - stamps[i] for i in got] + inf)))
    return caught_up, reader.duplicates, phases


def measure_throughput(bench: Bench, events: int, rounds: int,
                       cards: int) -> dict[str, list[float]]:
    topic = "tx_bulk"
    bench.create_topics(topic, "bulk_plain", "bulk_scored")
    started = time.monotonic()
    sent = producer.produce(bench.bootstrap, topic, iter(producer.TransactionStream(cards)),
                            count=events)
    print(f"  ({sent:,} transactions preloaded in {time.monotonic() - started:.1f} s)")
    columns = ", ".join(f"{name} {kind}" for name, kind in FEATURES.items())
    selected = ", ".join(FEATURES)
    scored = f"{columns}, probability DOUBLE"
    pipelines = {
        "no_model": ("bulk_plain", columns, f"SELECT {selected} FROM features"),
        "sql": ("bulk_scored", scored, f"SELECT {selected}, probability FROM ML_PREDICT("
                "TABLE features, MODEL fraud_model, MAP['execution', 'sql'])"),
        "trees": ("bulk_scored", scored, f"SELECT {selected}, probability FROM ML_PREDICT("
                  "TABLE features, MODEL fraud_trees, MAP['execution', 'udf'])"),
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
            bench.finished(job)
            seconds[name].append(took)
            print(f"  (round {round_ + 1}, {name}: {took:.1f} s, {sent / took:,.0f} events/s)")
    return {name: [sent / s for s in runs] for name, runs in seconds.items()}



def print_phase(variant: Variant, phase: Phase, drain: float) -> None:
    line = (f"  {variant.label:<58}{phase.rate:>7,}{phase.achieved:>8,.0f}{phase.scored:>9,.0f}"
            f"{ms(phase.latency[0]):>8}{ms(phase.latency[1]):>8}"
            f"{ms(phase.seen[0]):>10}{ms(phase.seen[1]):>10}")
    if variant.guarantee == "exactly-once":
        interval = variant.options.get(CHECKPOINT_INTERVAL_KEY, CHECKPOINT_INTERVAL)
        line += f"   seen: committed at checkpoints, every {interval}"
    if phase.late:
        line += (f"   {phase.late / phase.events:.0%} of {phase.events:,} not scored "
                 f"{drain:g} s after the last send")
    print(line)


def print_medians(variants: list[Variant], runs: dict[str, dict[int, list[Phase]]],
                  repeat: int) -> dict[str, dict[int, tuple[float, float]]]:
    """Per variant and rate the medians over the rounds of p50 and p99 (the "seen" ones for
    exactly-once), and each model's p99 against the no-model variant with the same settings
    (the issue's targets at 1,000 events/s). Returns the medians."""
    medians: dict[str, dict[int, tuple[float, float]]] = {}
    for variant in variants:
        kind = "seen" if variant.guarantee == "exactly-once" else "latency"
        medians[variant.key] = {
            rate: (statistics.median(getattr(p, kind)[0] for p in phases),
                   statistics.median(getattr(p, kind)[1] for p in phases))
            for rate, phases in runs[variant.key].items()}
    print(f"\nmedians over {repeat} round(s); p99 of each round in brackets")
    for variant in variants:
        floor = next((v for v in variants if not v.model and v.options == variant.options
                      and v.guarantee == variant.guarantee), None)
        for rate, (p50, p99) in medians[variant.key].items():
            each = ", ".join(ms(getattr(p, "seen" if variant.guarantee == "exactly-once"
                                        else "latency")[1])
                             for p in runs[variant.key][rate])
            line = f"  {variant.label:<58}{rate:>7,}  p50 {ms(p50):>5}  p99 {ms(p99):>5} [{each}]"
            if variant.model and floor is not None and rate in medians[floor.key] \
                    and variant.guarantee == "at-least-once":
                ratio = p99 / medians[floor.key][rate][1]
                target = TARGET_RATIOS[variant.execution]
                line += (f"   {ratio:.2f} x no model's p99: target <= {target}: "
                         f"{'met' if ratio <= target else 'NOT met'}")
            print(line)
    return medians


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20, help="live seconds per rate")
    parser.add_argument("--events", type=int, default=200_000,
                        help="preloaded transactions for the throughput runs")
    parser.add_argument("--rounds", type=int, default=2, help="throughput rounds")
    parser.add_argument("--drain", type=float, default=10,
                        help="seconds after the last live event for the last alerts")
    parser.add_argument("--cards", type=int, default=1000)
    parser.add_argument("--history-days", type=float, default=10)
    parser.add_argument("--port", type=int, default=29092)
    parser.add_argument("--variants", default=",".join(v.key for v in LATENCY_VARIANTS),
                        help="latency variants to run, in this order (keys: "
                             f"{', '.join(v.key for v in LATENCY_VARIANTS)})")
    parser.add_argument("--no-throughput", action="store_true")
    parser.add_argument("--repeat", type=int, default=1,
                        help="rounds of the latency variants, alternated")
    parser.add_argument("--rates", default=",".join(str(r) for r in RATES),
                        help="the live rates to run, of each variant's own")
    args = parser.parse_args()
    by_key = {v.key: v for v in LATENCY_VARIANTS}
    unknown = [k for k in args.variants.split(",") if k not in by_key]
    if unknown:
        raise SystemExit(f"unknown variants {unknown}; known: {', '.join(by_key)}")
    live_rates = {int(r) for r in args.rates.split(",")}
    variants = [replace(by_key[k], rates=tuple(r for r in by_key[k].rates if r in live_rates))
                for k in args.variants.split(",")]

    began = time.monotonic()
    print(f"parallelism 1, streaming mode; {load()} at the start (the machine is shared: "
          "other work running on it shows in these figures)")
    timeline = Timeline.generate(args.cards, args.history_days, args.seconds)
    root = Path(tempfile.mkdtemp(prefix="mlsql-bench-streaming-"))
    broker = LocalKafka(root / "kafka")
    port = free_port(args.port)
    broker.start(port)
    bench = Bench(root, port)
    try:
        bench.create_topics("transactions")
        history = bench.produce("transactions", timeline.history)
        trainer = bench.session("transactions")
        started = time.monotonic()
        trainer.sql(bench.sql["train.sql"])
        print(f"train.sql: fraud_model and fraud_trees on {history:,} transactions "
              f"({args.history_days:g} simulated days, {args.cards} cards) in "
              f"{time.monotonic() - started:.1f} s")

        print(f"\nlatency: alert record time - transaction record time, live events after "
              f"{WARM_UP:.0%} warm-up; \"seen\": when a read_committed consumer got the "
              f"alert; checkpoints every {CHECKPOINT_INTERVAL}; mlsql's buffer timeout "
              "(5 ms) unless said")
        print(f"  {'variant':<58}{'rate/s':>7}{'sent/s':>8}{'scored/s':>9}{'p50 ms':>8}"
              f"{'p99 ms':>8}{'seen p50':>10}{'seen p99':>10}")
        runs: dict[str, dict[int, list[Phase]]] = {v.key: {} for v in variants}
        # The first job on a fresh broker and JVM measured a p99 several times the same job's
        # a few minutes later (440 against 91 ms): an unmeasured one pays for that.
        measure_latency(bench, WARM_UP_VARIANT, timeline, min(args.seconds, 5), args.drain)
        for round_ in range(args.repeat):  # variants alternate, so drift hits them alike
            for variant in variants:
                caught_up, duplicates, phases = measure_latency(
                    bench, variant, timeline, args.seconds, args.drain, round_)
                for phase in phases:
                    runs[variant.key].setdefault(phase.rate, []).append(phase)
                    print_phase(variant, phase, args.drain)
                twice = f"; {duplicates:,} alerts written twice: the job restarted" \
                    if duplicates else ""
                print(f"    (history scored {caught_up:.1f} s after the INSERT{twice}; "
                      f"{load()})")
        latency = print_medians(variants, runs, args.repeat)

        ratios: dict[str, float] = {}
        base = float("nan")
        if not args.no_throughput:
            print(f"\nthroughput: {args.events:,} preloaded transactions -> features -> "
                  "[ML_PREDICT] -> Kafka (at-least-once), bounded, from the INSERT to the job's "
                  f"end; medians of {args.rounds} rounds, alternated")
            rates = measure_throughput(bench, args.events, args.rounds, args.cards)
            base = statistics.median(rates["no_model"])
            print(f"  {'no model:':<32}{base:>10,.0f} events/s")
            for name, label in (("sql", "logistic, compiled SQL"),
                                ("trees", "100 trees, pandas UDF")):
                rate = statistics.median(rates[name])
                ratios[name] = rate / base
                target = "   target >= 0.8" if name == "sql" else ""
                print(f"  {label + ':':<32}{rate:>10,.0f} events/s  ratio {rate / base:.2f}"
                      f"{target}")
    finally:
        bench.stop_jobs()
        broker.stop()
        shutil.rmtree(root, ignore_errors=True)
    print(f"({load()} at the end; {time.monotonic() - began:.0f} s in all)")

    figures: dict[str, float] = {}
    for key, by_rate in latency.items():
        for rate, (_, p99) in by_rate.items():
            figures[f"p99_{key}_{rate // 1000}k"] = p99
    if not args.no_throughput:
        figures.update(no_model_events_per_s=base, ratio_compiled=ratios["sql"],
                       ratio_trees=ratios["trees"])
    print(summary("streaming", **figures))


if __name__ == "__main__":
    main()

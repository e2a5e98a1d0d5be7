"""Hot swap: how soon a running job scores with a new version, what following versions costs,
and the throughput of online training.

    python tests/benchmarks/hot_swap.py [--swaps 10] [--rounds 2] [--events 300000]

Everything runs in this process against a broker of its own (LocalKafka in a temporary
directory, on 127.0.0.1), at parallelism 1 ('parallelism.default' = '1'), in streaming mode
unless said. Setup: a batch session trains `swap` (linear_reg on 400 rows of x, y -> z) once;
every later version of `swap` is a copy of version 1's files published through
Registry.new_version (staged, then renamed into place in one step), so every version scores
alike and loads as fast as version 1.

1. Swap delay. For each refresh interval, 1 s (the default) and 200 ms: a thread produces
   --rate events/s (id, x, y, its send time) to a topic, read from its end by a job of its
   own that scores it with ML_PREDICT(TABLE ticks, MODEL swap, MAP['version_column',
   'model_version', 'refresh_interval', <interval>]) into an output topic (id,
   model_version, send time). Unpinned in a streaming job, the model takes the pandas UDF
   path, whose worker looks at the registry at most every refresh interval, between batches
   (udfs/predict.py). (One job per interval: both in one statement set, two Python
   operators at parallelism 1, put 150-400 ms of queueing between send and output on a
   2-core machine.) Once the output keeps up with the input (50 records in a row under
   200 ms), --swaps versions are published, one at a time, at phases of the worker's check
   cycle spread evenly over it ((k + 0.5) / --swaps of the interval, k = 0 .. --swaps - 1, in
   a random order), so that p50 and max estimate the median and the worst case over a
   publication at a random time without the noise of --swaps random draws. The cycle is
   anchored at the first output record of the version before (written a few ms after the
   check that loaded it; the worker checks again one interval after a check, at its next
   batch); a first publication, not counted, sets the first anchor. The publication time is
   time.time() right after the rename. A version's delay is the Kafka record timestamp of
   the first output record that carries it (set by the sink's producer when it wrote the
   record: a few ms after the row was scored) minus its publication time. Expected: about
   half the interval at p50, at most the interval plus a batch, the load of the version and
   the sink's latency. "overhead": the p50 of each delay minus the wait its phase implies
   (the interval times 1 - phase): the time from the check to the first record written, plus
   how far the check came later than one interval after the anchor. "pipeline": the output
   record timestamp minus the event's send time, p50 over the records written during the
   swaps.

2. Path cost. --events events preloaded in a topic, read to its end ('scan.bounded.mode' =
   'latest-offset') by a streaming job into a blackhole sink: the topic's id, x, y alone (no
   model), with the pinned `swap$1` (compiled SQL: the version's coefficients in the plan),
   with the unpinned `swap` (the pandas UDF, which follows versions: what an unpinned model
   costs in a streaming job), and with the pinned `swap$1` forced onto the UDF
   (MAP['execution', 'udf']: the UDF without following, which tells the UDF's own cost from
   the registry checks'). Each run is timed from the INSERT to the job's end
   (JobHandle.wait()), job and Python worker start included ("gross"); each is also run on
   an empty topic, and "net" is --events over the difference of the two medians: the rate
   once the job runs, without its fixed cost (at these sizes the fixed cost, 2-4 s, is most
   of a run). A first no-model run, not counted, warms the JVM. Alternated over --rounds
   rounds; medians; ratios to no model.

3. Online training. The same topic read as (x, y, label, ts), ts one event per 100 ms of
   event time, WATERMARK FOR ts AS ts (Flink's periodic watermarks, every 200 ms), with
   'scan.parallelism' = '1', to its end: CREATE MODEL ... 'online_logistic_reg',
   'update_every' = '1 minute' (600 events a window, a registry version published per
   window; the job ends with the bounded read), against three jobs into blackhole sinks
   without training: the query itself (x, y, ts, label), TUMBLE 1 minute + COUNT(*), and
   TUMBLE 1 minute + ARRAY_AGG(ROW(x, y, label)) as the training job builds it (CARDINALITY
   of the array into the sink: the array is built, the sink's type stays simple). Timed,
   gross and net, as in 2; alternated over --rounds rounds; medians; ratios to the query.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from common import JobTracker, free_port, load, ms, summary

import mlsql
from mlsql.core.durations import parse_duration
from mlsql.models.registry import Registry
from mlsql.runtime.job_handle import JobHandle
from mlsql.services.kafka import LocalKafka

MODEL = "swap"
INTERVALS = ("1 s", "200 ms")  # ML_PREDICT's refresh_interval: the default, and less
SWAP_TIMEOUT = 30  # seconds for a version to show up in an output
START = datetime(2026, 5, 1)
EVENT_STEP = timedelta(milliseconds=100)  # event time between preloaded events


class Bench(JobTracker):
    """The broker, the registry, and the sessions and jobs of this run."""

    def __init__(self, root: Path, port: int) -> None:
        self.root = root
        self.bootstrap = f"127.0.0.1:{port}"
        self.registry = root / "registry"
        self.jobs: list[JobHandle] = []

    def session(self, mode: str = "streaming") -> mlsql.Session:
        return mlsql.Session(registry=self.registry, mode=mode,
                             options={"parallelism.default": "1"})

    def kafka(self, name: str, columns: str, topic: str, extra: str = "") -> str:
        return (f"CREATE TABLE {name} ({columns}) WITH ('connector' = 'kafka', "
                f"'topic' = '{topic}', 'properties.bootstrap.servers' = '{self.bootstrap}', "
                f"'properties.group.id' = '{name}-{time.time_ns()}', "
                "'scan.startup.mode' = 'earliest-offset', 'format' = 'json', "
                f"'json.timestamp-format.standard' = 'ISO-8601'{extra})")

    def create_topics(self, *topics: str) -> None:
        from confluent_kafka.admin import AdminClient, NewTopic

        admin = AdminClient({"bootstrap.servers": self.bootstrap})
        for future in admin.create_topics([NewTopic(t, 1, 1) for t in topics]).values():
            future.result(30)


def train_first_version(bench: Bench) -> float:
    """`swap` version 1 (linear_reg, batch mode); returns the seconds it took."""
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"x": rng.normal(size=400), "y": rng.normal(size=400)})
    frame["z"] = 2 * frame.x - frame.y + 0.5 + rng.normal(scale=0.1, size=400)
    history = bench.root / "history.csv"
    frame.to_csv(history, index=False, header=False)
    session = bench.session("batch")
    started = time.monotonic()
    session.sql(f"CREATE TABLE history (x DOUBLE, y DOUBLE, z DOUBLE) WITH ("
                f"'connector' = 'filesystem', 'path' = '{history}', 'format' = 'csv');\n"
                f"CREATE MODEL {MODEL} WITH ('model_type' = 'linear_reg', 'label' = 'z') "
                "AS SELECT x, y, z FROM history")
    return time.monotonic() - started


def publish_copy(registry: Registry, source: Path) -> tuple[int, float]:
    """A new version of `swap` with `source`'s files; its number and its publication time
    (ms since the epoch, right after the rename that made it visible)."""
    with registry.new_version(MODEL) as staged:
        shutil.copytree(source, staged.path, dirs_exist_ok=True)
    return staged.version, time.time() * 1000


class Ticker(threading.Thread):
    """Produces {"id", "x", "y", "sent_ms"} at `rate` events/s until stopped."""

    def __init__(self, bootstrap: str, topic: str, rate: float) -> None:
        super().__init__(daemon=True, name="ticker")
        self.bootstrap, self.topic, self.rate = bootstrap, topic, rate
        self.stopping = threading.Event()
        self.sent = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        from confluent_kafka import Producer

        try:
            producer = Producer({"bootstrap.servers": self.bootstrap, "linger.ms": 0})
            rng = np.random.default_rng(2)
            started = time.monotonic()
            while not self.stopping.is_set():
                x, y = rng.normal(size=2)
                producer.produce(self.topic, json.dumps({
                    "id": self.sent, "x": float(x), "y": float(y),
                    "sent_ms": time.time() * 1000}).encode())
                self.sent += 1
                producer.poll(0)
                delay = started + self.sent / self.rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            producer.flush(30)
        except BaseException as error:
            self.error = error

    def stop(self) -> int:
        self.stopping.set()
        self.join(60)
        return self.sent


class ScoredReader(threading.Thread):
    """Reads the output topics while the job writes them: per topic, the record timestamp of
    the first record of each model version, and every record's timestamp minus its event's
    send time (ms)."""

    def __init__(self, bootstrap: str, topics: list[str]) -> None:
        super().__init__(daemon=True, name="scored-reader")
        from confluent_kafka import Consumer

        self.consumer = Consumer({
            "bootstrap.servers": bootstrap, "group.id": f"bench-{time.time_ns()}",
            "auto.offset.reset": "earliest", "enable.auto.commit": False,
            "fetch.wait.max.ms": 5})
        self.consumer.subscribe(topics)
        self.first: dict[str, dict[int, int]] = {t: {} for t in topics}
        self.pipeline: dict[str, list[tuple[int, float]]] = {t: [] for t in topics}
        self.stopping = threading.Event()

    def run(self) -> None:
        try:
            while not self.stopping.is_set():
                for message in self.consumer.consume(1000, 0.05):
                    if message.error():
                        continue
                    record = json.loads(message.value())
                    stamp = message.timestamp()[1]
                    topic = message.topic()
                    self.first[topic].setdefault(record["model_version"], stamp)
                    self.pipeline[topic].append((stamp, stamp - record["sent_ms"]))
        finally:
            self.consumer.close()

    def wait(self, condition, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.005)
        return True

    def keeping_up(self, topic: str) -> bool:
        """The newest records of `topic` are less than 200 ms behind their events."""
        recent = self.pipeline[topic][-50:]
        return len(recent) == 50 and max(latency for _, latency in recent) < 200


@dataclass
class SwapPhase:
    delays: list[float]  # ms per version; inf when it never showed
    phases: list[float]  # of the check cycle, per version
    overhead: float  # ms, p50 of delay - the wait for the next check that phases imply
    pipeline: float  # ms, p50 of output record time - send time during the swaps
    caught_up: float  # seconds from the INSERT until the output kept up
    sent: int


def measure_swaps(bench: Bench, interval: str, swaps: int, rate: float,
                  rng: random.Random) -> SwapPhase:
    """A scoring job following `swap` at `interval`, and `swaps` versions published."""
    key = interval.replace(" ", "")
    ticks, scored = f"ticks_{key}", f"scored_{key}"
    bench.create_topics(ticks, scored)
    session = bench.session()
    # From the end: what was sent while the job started is not waited for.
    session.sql(bench.kafka("ticks", "id BIGINT, x DOUBLE, y DOUBLE, sent_ms DOUBLE", ticks)
                .replace("'earliest-offset'", "'latest-offset'"))
    session.sql(bench.kafka("scored", "id BIGINT, model_version INT, sent_ms DOUBLE", scored))
    reader = ScoredReader(bench.bootstrap, [scored])
    reader.start()
    ticker = Ticker(bench.bootstrap, ticks, rate)
    ticker.start()
    started = time.monotonic()
    job = bench.start(session, (
        f"INSERT INTO scored SELECT id, model_version, sent_ms FROM ML_PREDICT(TABLE ticks, "
        f"MODEL {MODEL}, MAP['version_column', 'model_version', 'refresh_interval', "
        f"'{interval}'])"))
    source = bench.registry / MODEL / "v1"
    cycle = parse_duration(interval)
    delays = []
    try:
        if not reader.wait(lambda: reader.keeping_up(scored), 180):
            raise RuntimeError(f"the scoring job did not keep up with {rate:g} events/s "
                               f"({job.status()}; {ticker.sent:,} events sent)")
        caught_up = time.monotonic() - started
        swaps_began = time.time() * 1000
        # Publication k lands at phase k of the worker's check cycle, anchored at the first
        # output record of the version before it (written right after the check that loaded
        # it); the phases are spread evenly over the cycle, in a random order.
        phases = [(k + 0.5) / swaps for k in range(swaps)]
        rng.shuffle(phases)
        anchor = None
        for phase in [None, *phases]:  # the first publication, not counted, sets the anchor
            if anchor is not None:
                time.sleep(max(0.0, anchor + cycle * (1 + phase) - time.time()))
            version, published = publish_copy(session.registry, source)
            reader.wait(lambda v=version: v in reader.first[scored], SWAP_TIMEOUT)
            stamp = reader.first[scored].get(version)
            if phase is not None:
                delays.append(float("inf") if stamp is None else stamp - published)
            # A version that never showed leaves no anchor: the next phase is a random one.
            anchor = time.time() if stamp is None else stamp / 1000
            if ticker.error is not None:
                raise RuntimeError(f"the producer failed: {ticker.error}")
        swaps_ended = time.time() * 1000
    finally:
        sent = ticker.stop()
        bench.finished(job)
        reader.stopping.set()
        reader.join(10)
    pipeline = statistics.median([latency for stamp, latency in reader.pipeline[scored]
                                  if swaps_began <= stamp <= swaps_ended] or [float("nan")])
    overhead = statistics.median(
        d - cycle * 1000 * (1 - f) for d, f in zip(delays, phases, strict=True))
    return SwapPhase(delays, phases, overhead, pipeline, caught_up, sent)


def preload(bench: Bench, topic: str, events: int) -> float:
    """`events` JSON events (id, x, y, label, ts, sent_ms) as fast as the producer goes;
    returns the seconds it took."""
    from confluent_kafka import Producer

    bench.create_topics(topic)
    rng = np.random.default_rng(3)
    x, y, noise = rng.normal(size=(3, events))
    label = (x - y + noise > 0).astype(int)
    stamps = pd.date_range(START, periods=events, freq=EVENT_STEP).strftime(
        "%Y-%m-%dT%H:%M:%S.%f")
    producer = Producer({"bootstrap.servers": bench.bootstrap, "linger.ms": 20,
                         "queue.buffering.max.messages": 1_000_000})
    started = time.monotonic()
    for i in range(events):
        producer.produce(topic, json.dumps({
            "id": i, "x": float(x[i]), "y": float(y[i]), "label": int(label[i]),
            "ts": stamps[i][:-3], "sent_ms": 0.0}).encode())
        if i % 10_000 == 0:
            producer.poll(0)
    remaining = producer.flush(60)
    if remaining:
        raise RuntimeError(f"{remaining} preloaded events were not delivered")
    return time.monotonic() - started


BOUNDED = ", 'scan.bounded.mode' = 'latest-offset'"
WATERMARKED = ", 'scan.bounded.mode' = 'latest-offset', 'scan.parallelism' = '1'"
EMPTY = "empty"  # a topic with no records: each job's fixed cost
SCORING = {  # name -> (label, the blackhole's columns, the query)
    "no_model": ("no model", "id BIGINT, x DOUBLE, y DOUBLE", "SELECT id, x, y FROM bulk"),
    "compiled": ("pinned swap$1, compiled SQL", "id BIGINT, x DOUBLE, y DOUBLE, z DOUBLE",
                 f"SELECT id, x, y, predicted_z FROM ML_PREDICT(TABLE bulk, MODEL `{MODEL}$1`)"),
    "unpinned": ("unpinned swap, pandas UDF (follows versions)",
                 "id BIGINT, x DOUBLE, y DOUBLE, z DOUBLE",
                 f"SELECT id, x, y, predicted_z FROM ML_PREDICT(TABLE bulk, MODEL {MODEL})"),
    "pinned_udf": ("pinned swap$1, pandas UDF", "id BIGINT, x DOUBLE, y DOUBLE, z DOUBLE",
                   f"SELECT id, x, y, predicted_z FROM ML_PREDICT(TABLE bulk, "
                   f"MODEL `{MODEL}$1`, MAP['execution', 'udf'])"),
}
TUMBLE = "TABLE(TUMBLE(TABLE events, DESCRIPTOR(ts), INTERVAL '1' MINUTE))"
ONLINE = {  # name -> (label, the blackhole's columns or None: training, the statement)
    "query": ("query -> blackhole", "x DOUBLE, y DOUBLE, ts TIMESTAMP(3), label INT",
              "SELECT x, y, ts, label FROM events"),
    "count": ("TUMBLE + COUNT(*) -> blackhole",
              "window_start TIMESTAMP(3), window_end TIMESTAMP(3), n BIGINT",
              f"SELECT window_start, window_end, COUNT(*) FROM {TUMBLE} "
              "GROUP BY window_start, window_end"),
    "array_agg": ("TUMBLE + ARRAY_AGG(ROW) -> blackhole",
                  "window_start TIMESTAMP(3), window_end TIMESTAMP(3), n INT",
                  "SELECT window_start, window_end, CARDINALITY(ARRAY_AGG(ROW(x, y, "
                  f"CAST(label AS BIGINT)))) FROM {TUMBLE} GROUP BY window_start, window_end"),
    "training": ("online_logistic_reg training", None,
                 "WITH ('model_type' = 'online_logistic_reg', 'label' = 'label', "
                 "'update_every' = '1 minute') AS SELECT x, y, ts, label FROM events"),
}


@dataclass
class Runs:
    """Seconds of each run of one variant over the preloaded topic and over the empty one."""

    full: list[float] = field(default_factory=list)
    empty: list[float] = field(default_factory=list)

    def gross(self, events: int) -> float:
        return events / statistics.median(self.full)

    def net(self, events: int) -> float:
        return events / max(statistics.median(self.full) - statistics.median(self.empty), 1e-3)


def scoring_run(bench: Bench, topic: str, name: str) -> float:
    _, columns, query = SCORING[name]
    session = bench.session()
    session.sql(bench.kafka("bulk", "id BIGINT, x DOUBLE, y DOUBLE", topic, BOUNDED))
    session.sql(f"CREATE TABLE sink ({columns}) WITH ('connector' = 'blackhole')")
    return bench.run_timed(session, f"INSERT INTO sink {query}")


def measure_scoring(bench: Bench, topic: str, events: int, rounds: int) -> dict[str, Runs]:
    runs = {name: Runs() for name in SCORING}
    took = scoring_run(bench, topic, "no_model")
    print(f"  (warm-up, no_model, not counted: {took:.1f} s)")
    for round_ in range(rounds):  # alternated, so drift hits every variant alike
        for name in SCORING:
            full = scoring_run(bench, topic, name)
            empty = scoring_run(bench, EMPTY, name)
            runs[name].full.append(full)
            runs[name].empty.append(empty)
            print(f"  (round {round_ + 1}, {name}: {full:.1f} s, {events / full:,.0f} "
                  f"events/s; empty topic {empty:.1f} s)")
    return runs


def online_run(bench: Bench, topic: str, name: str, model: str) -> tuple[float, int | None]:
    """Seconds; for training, the versions it published."""
    _, columns, statement = ONLINE[name]
    session = bench.session()
    session.sql(bench.kafka("events", "x DOUBLE, y DOUBLE, label INT, ts TIMESTAMP(3), "
                            "WATERMARK FOR ts AS ts", topic, WATERMARKED))
    if columns is None:
        took = bench.run_timed(session, f"CREATE MODEL {model} {statement}")
        return took, len(session.registry.versions(model))
    session.sql(f"CREATE TABLE sink ({columns}) WITH ('connector' = 'blackhole')")
    return bench.run_timed(session, f"INSERT INTO sink {statement}"), None


def measure_online(bench: Bench, topic: str, events: int, rounds: int) -> dict[str, Runs]:
    runs = {name: Runs() for name in ONLINE}
    windows = -(-events // round(timedelta(minutes=1) / EVENT_STEP))
    for round_ in range(rounds):
        for name in ONLINE:
            full, published = online_run(bench, topic, name, f"online_{round_ + 1}")
            empty, _ = online_run(bench, EMPTY, name, f"online_empty_{round_ + 1}")
            runs[name].full.append(full)
            runs[name].empty.append(empty)
            note = ""
            if published is not None:
                note = f"; {published} versions published"
                if published != windows:
                    note += f" (expected {windows}: one a window)"
            print(f"  (round {round_ + 1}, {name}: {full:.1f} s, {events / full:,.0f} "
                  f"events/s; empty topic {empty:.1f} s{note})")
    return runs


def report(runs: dict[str, Runs], labels: dict[str, str], base: str, events: int) -> None:
    """Gross and net rates (events/s) of each variant, and their ratios to `base`'s."""
    print(f"  {'':<50}{'gross/s':>10}{'ratio':>7}{'empty s':>9}{'net/s':>10}{'ratio':>7}")
    for name, label in labels.items():
        gross, net = runs[name].gross(events), runs[name].net(events)
        ratios = ("", "") if name == base else (
            f"{gross / runs[base].gross(events):.2f}", f"{net / runs[base].net(events):.2f}")
        print(f"  {label + ':':<50}{gross:>10,.0f}{ratios[0]:>7}"
              f"{statistics.median(runs[name].empty):>9.1f}{net:>10,.0f}{ratios[1]:>7}")



def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--swaps", type=int, default=10, help="versions published")
    parser.add_argument("--rounds", type=int, default=2, help="throughput rounds")
    parser.add_argument("--events", type=int, default=300_000,
                        help="preloaded events for the throughput runs")
    parser.add_argument("--rate", type=float, default=1000,
                        help="events/s into the swap job")
    parser.add_argument("--seed", type=int, default=7, help="of the pauses between swaps")
    parser.add_argument("--port", type=int, default=29093)
    args = parser.parse_args()

    began = time.monotonic()
    print(f"parallelism 1, streaming mode; {load()} at the start (the machine is shared: "
          "other work running on it shows in these figures)")
    root = Path(tempfile.mkdtemp(prefix="mlsql-bench-hot-swap-"))
    broker = LocalKafka(root / "kafka")
    port = free_port(args.port)
    broker.start(port)
    bench = Bench(root, port)
    try:
        took = train_first_version(bench)
        print(f"{MODEL} version 1: linear_reg on 400 rows (batch) in {took:.1f} s")

        print(f"\nswap delay: first output record (Kafka record time) carrying a version - "
              f"its publication; {args.swaps} versions, {args.rate:,.0f} events/s, one job "
              "per interval")
        print(f"  {'refresh_interval':<18}{'p50 ms':>8}{'max ms':>8}{'min ms':>8}"
              f"{'overhead ms':>13}{'pipeline ms':>13}   delays (ms), by phase")
        rng = random.Random(args.seed)
        swaps = {}
        for interval in INTERVALS:
            phase = swaps[interval] = measure_swaps(bench, interval, args.swaps, args.rate, rng)
            by_phase = [d for _, d in sorted(zip(phase.phases, phase.delays, strict=True))]
            print(f"  {interval:<18}{ms(float(np.median(phase.delays))):>8}"
                  f"{ms(max(phase.delays)):>8}{ms(min(phase.delays)):>8}"
                  f"{phase.overhead:>13.0f}{phase.pipeline:>13.0f}   "
                  f"{' '.join(ms(d) for d in by_phase)}")
            print(f"    (kept up {phase.caught_up:.1f} s after the INSERT; {phase.sent:,} "
                  f"events sent; {load()})")

        print(f"\npath cost: {args.events:,} preloaded events -> [ML_PREDICT] -> blackhole, "
              f"bounded, from the INSERT to the job's end; medians of {args.rounds} rounds, "
              "alternated; net: the median run on an empty topic subtracted")
        took = preload(bench, "bulk", args.events)
        bench.create_topics(EMPTY)
        print(f"  ({args.events:,} events preloaded in {took:.1f} s)")
        scoring = measure_scoring(bench, "bulk", args.events, args.rounds)
        report(scoring, {name: label for name, (label, _, _) in SCORING.items()}, "no_model",
               args.events)
        udf_vs_sql = {kind: getattr(scoring["unpinned"], kind)(args.events)
                      / getattr(scoring["compiled"], kind)(args.events)
                      for kind in ("gross", "net")}
        print(f"  unpinned (UDF) / pinned (compiled SQL): {udf_vs_sql['gross']:.2f} gross, "
              f"{udf_vs_sql['net']:.2f} net")

        print(f"\nonline training: the same {args.events:,} events, one per "
              f"{EVENT_STEP.total_seconds() * 1000:.0f} ms of event time, 1-minute windows; "
              f"from the statement to the job's end; medians of {args.rounds} rounds, "
              "alternated; net as above")
        online = measure_online(bench, "bulk", args.events, args.rounds)
        report(online, {name: label for name, (label, _, _) in ONLINE.items()}, "query",
               args.events)
    finally:
        bench.stop_jobs()
        broker.stop()
        shutil.rmtree(root, ignore_errors=True)
    print(f"({load()} at the end; {time.monotonic() - began:.0f} s in all)")

    def rate(runs: dict[str, Runs], name: str, kind: str = "gross") -> float:
        return getattr(runs[name], kind)(args.events)

    def ratio(runs: dict[str, Runs], name: str, base: str, kind: str = "net") -> float:
        return rate(runs, name, kind) / rate(runs, base, kind)

    print(summary(
        "hot_swap",
        swap_p50_ms_1s=float(np.median(swaps["1 s"].delays)),
        swap_max_ms_1s=max(swaps["1 s"].delays),
        swap_p50_ms_200ms=float(np.median(swaps["200 ms"].delays)),
        swap_max_ms_200ms=max(swaps["200 ms"].delays),
        no_model_events_per_s=rate(scoring, "no_model"),
        compiled_events_per_s=rate(scoring, "compiled"),
        unpinned_events_per_s=rate(scoring, "unpinned"),
        net_ratio_compiled=ratio(scoring, "compiled", "no_model"),
        net_ratio_unpinned=ratio(scoring, "unpinned", "no_model"),
        net_ratio_pinned_udf=ratio(scoring, "pinned_udf", "no_model"),
        net_ratio_unpinned_to_compiled=udf_vs_sql["net"],
        online_events_per_s=rate(online, "training"),
        online_net_events_per_s=rate(online, "training", "net"),
        online_net_ratio_to_query=ratio(online, "training", "query"),
        online_net_ratio_to_count=ratio(online, "training", "count"),
        online_net_ratio_to_array_agg=ratio(online, "training", "array_agg")))


if __name__ == "__main__":
    main()

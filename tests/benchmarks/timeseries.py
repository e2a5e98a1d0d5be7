"""ML_DETECT_ANOMALIES as an OVER aggregate: throughput, latency and state per key.

    python tests/benchmarks/timeseries.py [--keys 10000] [--rows 64] [--quick]
                                          [--defaults] [--latency-keys 20] [--seconds 60]
                                          [--rate 500] [--latency-only] [--port 29093]

Everything runs in this process on the embedded mini-cluster, streaming mode. Throughput and
state read a datagen table with a `sequence` field i: key = i % --keys, ts =
TO_TIMESTAMP_LTZ(i * 1000, 3) with a WATERMARK on it, so every key's rows come in event-time
order, and v a deterministic per-key series (a slow sine plus hashed noise). The function is
ML_DETECT_ANOMALIES(v, ts, JSON_OBJECT('p' VALUE 1, 'd' VALUE 0, 'q' VALUE 1, ...)) OVER
(PARTITION BY key ORDER BY ts RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW).

1. Throughput: --keys x --rows (rows per key) events into a blackhole, at parallelism 1 and
   2, side by side in one run: the plain projection (SELECT key, ts, v), the same OVER
   window with COUNT(*) only (Flink's ordering by event time, no Python), and the function.
   A key needs minTrainingSize rows before its first fit, so the function runs with
   minTrainingSize 32 / maxTrainingSize 128 (said in the output) unless --defaults (128 /
   512: --rows must then be well above 128, which at 10,000 keys costs many minutes).
   events/s is the rows over the job's running time (every task RUNNING to its end, from
   the REST API) and over the gross time (INSERT to end: planning and start-up included).
   Flink's busy time per vertex shows where the time goes. The Python function's own cost
   per row is measured in this process by replaying the same series through its eval() in
   1,000-row batches (the streaming bundle size), split by phase: before minTrainingSize,
   refit rows, rows carried by the Kalman filter; and the same for a few keys with no orders
   given (auto-ARIMA chooses them at every refit).
2. Latency, measured as tests/benchmarks/streaming.py does (its helpers imported): a Kafka
   broker of its own (LocalKafka, --port), --rate events/s (default 500) for --seconds
   (default 60) over --latency-keys keys (20-100) sent to a topic; one job per pipeline,
   Kafka -> query -> Kafka (at-least-once sink), parallelism 1, checkpoints every second,
   mlsql's streaming defaults (buffer timeout 5 ms, 5 ms Python bundles); the same events for
   both pipelines, one after the other: the rows passed through (no function), and
   ML_DETECT_ANOMALIES with minTrainingSize 32 / maxTrainingSize 128 (so that every key is
   fitted early in the run). The source table is the fraud example's: the watermark is each
   event's own time, emitted on every event. Latency is the output record's Kafka timestamp
   minus its input record's (each set by its producer at send time); "seen" is when a
   consumer got it minus the same. Skipped in both: every event up to the one that gave the
   last key its first forecast. p50 / p99, an event not out 10 s after the last send
   counting as infinitely late. --latency-only runs this part alone.
3. State per key: the JVM ring buffer's bytes from the plan (capacity = maxTrainingSize +
   updateInterval rows, 8 bytes per value and per timestamp), a FULL checkpoint (hashmap,
   incremental off, local directory) of the function's job once every key has rows,
   divided by the keys (REST state_size of the OVER vertex and of the whole job, and the
   files on disk), and the worker's per-key model cache: the pickled size of a fitted key's
   state and the Python heap it holds (tracemalloc).
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import pickle
import shutil
import tempfile
import time
import tracemalloc
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from common import (
    JobTracker,
    finished_job_times,
    free_port,
    full_checkpoint,
    load,
    ms,
    summary,
    vertex_reading,
)
from streaming import CHECKPOINT_INTERVAL, AlertReader, Bench, percentiles, record_timestamps

import mlsql
from mlsql.runtime.environment import STREAMING_NETWORK_OPTIONS, STREAMING_PYTHON_OPTIONS
from mlsql.services.kafka import LocalKafka
from mlsql.syntax.lexer import tokenize
from mlsql.timeseries.calls import find_series_calls
from mlsql.timeseries.options import series_plan
from udfs.timeseries.series_function import SeriesFunction, SeriesPlan

WINDOW = "OVER (PARTITION BY key ORDER BY ts RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)"
ORDERS = "'p' VALUE 1, 'd' VALUE 0, 'q' VALUE 1"
ANOMALY_ROW = ("ROW<`timestamp` TIMESTAMP(3), actual_value DOUBLE, forecast_value DOUBLE, "
               "lower_bound DOUBLE, upper_bound DOUBLE, is_anomaly BOOLEAN, rmse DOUBLE, "
               "aic DOUBLE>")
SHORT_TRAINING = (32, 128)  # minTrainingSize, maxTrainingSize unless --defaults
BUNDLE = 1_000  # rows per pandas batch in the replay (mlsql's streaming bundle size)
REPLAY_KEYS = 100
AUTO_REPLAY_KEYS = 10  # auto-ARIMA costs 50-900 ms a fit


def detect(options: str) -> str:
    return f"ML_DETECT_ANOMALIES(v, ts, JSON_OBJECT({ORDERS}{options})) {WINDOW}"


def training_options(min_training: int | None, max_training: int | None) -> str:
    if min_training is None:
        return ""
    return f", 'minTrainingSize' VALUE {min_training}, 'maxTrainingSize' VALUE {max_training}"


def plan_of(options: str) -> SeriesPlan:
    """The plan mlsql compiles the call to (options checked, defaults filled in)."""
    sql = f"SELECT {detect(options)} FROM series"
    return series_plan(find_series_calls(sql, tokenize(sql), lambda line: sql)[0])


def value_expression(keys: int) -> str:
    """Row n of a key: a slow sine plus hashed noise in [0, 1)."""
    return (f"SIN(CAST(i / {keys} AS DOUBLE) / 5) * 3 + "
            f"CAST(MOD(i * 7919 + 13, 1009) AS DOUBLE) / 1009")


def replay_values(keys: int, rows: int) -> np.ndarray:
    """value_expression for i in [0, keys * rows), as numpy computes it."""
    i = np.arange(keys * rows, dtype=np.int64)
    return np.sin((i // keys).astype(float) / 5) * 3 + ((i * 7919 + 13) % 1009) / 1009


def create_series(session: mlsql.Session, name: str, keys: int, rows: int, rate: int) -> None:
    end = keys * rows - 1
    session.sql(f"DROP TEMPORARY TABLE IF EXISTS {name};"
                f"CREATE TEMPORARY TABLE {name} (i BIGINT, created TIMESTAMP_LTZ(3), "
                f"key AS i % {keys}, ts AS TO_TIMESTAMP_LTZ(i * 1000, 3), "
                f"v AS {value_expression(keys)}, WATERMARK FOR ts AS ts) WITH ("
                "'connector' = 'datagen', 'fields.i.kind' = 'sequence', "
                f"'fields.i.start' = '0', 'fields.i.end' = '{end}', "
                f"'fields.created.max-past' = '0', 'rows-per-second' = '{rate}')")


def create_sinks(session: mlsql.Session) -> None:
    head = "key BIGINT, ts TIMESTAMP_LTZ(3), v DOUBLE"
    for name, extra in (("plain_sink", ""), ("count_sink", ", n BIGINT"),
                        ("detect_sink", f", a {ANOMALY_ROW}")):
        session.sql(f"DROP TEMPORARY TABLE IF EXISTS {name};"
                    f"CREATE TEMPORARY TABLE {name} ({head}{extra}) "
                    "WITH ('connector' = 'blackhole')")


def queries(source: str, options: str) -> dict[str, str]:
    """The three variants' SELECT lists over `source`, by name."""
    return {"plain": f"SELECT key, ts, v FROM {source}",
            "over": f"SELECT key, ts, v, COUNT(*) {WINDOW} AS n FROM {source}",
            "detect": f"SELECT key, ts, v, {detect(options)} AS a FROM {source}"}


SINKS = {"plain": "plain_sink", "over": "count_sink", "detect": "detect_sink"}
LABELS = {"plain": "SELECT key, ts, v (no function)",
          "over": "COUNT(*) OVER (same window, no Python)",
          "detect": "ML_DETECT_ANOMALIES OVER"}


# -- 1. throughput -------------------------------------------------------------------------


@dataclass
class Run:
    gross: float  # seconds from the INSERT to the job's end
    running: float  # seconds from every task RUNNING to the job's end
    busy: dict[str, float] = field(default_factory=dict)  # busy seconds by vertex


def vertex_role(name: str) -> str:
    if "OverAggregate" in name:  # chained with the PythonCalc and the sink
        return "over + python" if "PythonCalc" in name else "over"
    if name.startswith("Source"):
        return "source"
    return "other"


def timed_run(bench: JobTracker, session: mlsql.Session, statement: str,
              verbose: bool = False) -> Run:
    started = time.perf_counter()
    job = bench.start(session, statement)
    job.wait()
    gross = time.perf_counter() - started
    running, busy, vertices = finished_job_times(job, vertex_role)
    if verbose:
        for vertex in vertices:
            print(f"    vertex {vertex_role(vertex['name'])}: {vertex['name'][:150]}")
    bench.finished(job)
    return Run(gross, running, busy)


def measure_throughput(bench: JobTracker, registry: Path, keys: int, rows: int,
                       options: str) -> dict[tuple[str, int], Run]:
    runs: dict[tuple[str, int], Run] = {}
    for parallelism in (1, 2):
        session = mlsql.Session(registry=registry, mode="streaming")
        session.sql(f"SET 'parallelism.default' = '{parallelism}'")
        create_series(session, "series", keys, rows, 1_000_000_000)
        create_sinks(session)
        if parallelism == 1:  # the first Python job pays the JVM's and imports' warm-up
            create_series(session, "warm", 50, 40, 1_000_000_000)
            took = timed_run(bench, session, f"INSERT INTO detect_sink "
                             f"{queries('warm', options)['detect']}", verbose=True).gross
            print(f"  (warm-up, 2,000 rows, not counted: {took:.1f} s)")
        for name, select in queries("series", options).items():
            run = timed_run(bench, session, f"INSERT INTO {SINKS[name]} {select}")
            runs[name, parallelism] = run
            busy = ", ".join(f"{r} {s:.1f} s" for r, s in sorted(run.busy.items()))
            print(f"  (parallelism {parallelism}, {LABELS[name]}: {run.gross:.1f} s gross, "
                  f"{run.running:.1f} s running; busy {busy}; {load()})")
    return runs


def report_throughput(runs: dict[tuple[str, int], Run], events: int) -> dict[str, float]:
    figures: dict[str, float] = {}
    print(f"  {'':<44}{'p1 running/s':>13}{'p1 gross/s':>11}{'p2 running/s':>14}"
          f"{'p2 gross/s':>11}")
    for name, label in LABELS.items():
        cells = ""
        for p in (1, 2):
            run = runs[name, p]
            figures[f"{name}_p{p}_events_per_s"] = events / run.running
            figures[f"{name}_p{p}_gross_events_per_s"] = events / run.gross
            cells += f"{events / run.running:>{13 if p == 1 else 14},.0f}" \
                     f"{events / run.gross:>11,.0f}"
        print(f"  {label + ':':<44}{cells}")
    for p in (1, 2):
        ratio = figures[f"detect_p{p}_events_per_s"] / figures[f"plain_p{p}_events_per_s"]
        figures[f"detect_over_plain_p{p}"] = ratio
        print(f"  parallelism {p}: function / plain {ratio:.3f} (running), "
              f"function / OVER alone "
              f"{figures[f'detect_p{p}_events_per_s'] / figures[f'over_p{p}_events_per_s']:.3f}")
    scaling = figures["detect_p2_events_per_s"] / figures["detect_p1_events_per_s"]
    figures["detect_p2_over_p1"] = scaling
    print(f"  function, parallelism 2 / 1: {scaling:.2f}x (2 cores, shared with the JVM)")
    return figures


@dataclass
class Phases:
    seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(PHASES, 0.0))
    rows: dict[str, int] = field(default_factory=lambda: dict.fromkeys(PHASES, 0))

    def per_row_us(self, phase: str) -> float:
        return self.seconds[phase] / max(self.rows[phase], 1) * 1e6


PHASES = ("before training", "refit", "carried", "batch overhead")


def phase_of(plan: SeriesPlan, n: int, key: str = "") -> str:
    refit = plan.refit_point(n, plan.offset_of(key) if key else 0)
    return PHASES[0] if refit is None else PHASES[1] if refit == n else PHASES[2]


def replay(plan: SeriesPlan, keys: int, rows: int) -> tuple[Phases, SeriesFunction]:
    """The Python function's eval() over the benchmark's series in BUNDLE-row batches of
    consecutive rows (as the stream orders them); each row's own time goes to its phase, the
    rest of eval() (the frames in and out) to "batch overhead"."""
    function = SeriesFunction(plan)
    phases = Phases()
    row = function._row

    def timed_row(key: str, values: tuple) -> tuple:
        started = time.perf_counter()
        result = row(key, values)
        kind = phase_of(plan, int(values[0]), key)
        phases.seconds[kind] += time.perf_counter() - started
        phases.rows[kind] += 1
        return result

    function._row = timed_row  # type: ignore[method-assign]
    values = replay_values(keys, rows).reshape(rows, keys).T  # [key, row]
    times = np.arange(keys * rows, dtype=np.int64).reshape(rows, keys).T * 1000
    batch: list[tuple[str, int, np.ndarray, np.ndarray]] = []

    def flush() -> None:
        frame = pd.DataFrame({"rows": [b[1] for b in batch], "width": 1,
                              "times": [b[2] for b in batch], "history": [b[3] for b in batch]})
        keys_ = pd.Series([b[0] for b in batch])
        inside = sum(phases.seconds[k] for k in PHASES[:3])
        started = time.perf_counter()
        function.eval(keys_, frame)
        took = time.perf_counter() - started
        phases.seconds[PHASES[3]] += took - (sum(phases.seconds[k] for k in PHASES[:3]) - inside)
        phases.rows[PHASES[3]] += len(batch)
        batch.clear()

    for i in range(keys * rows):
        key, n = i % keys, i // keys + 1
        first = max(0, n - plan.capacity)
        batch.append((f"[{key}]", n, times[key, first:n], values[key, first:n]))
        if len(batch) == BUNDLE:
            flush()
    if batch:
        flush()
    return phases, function


def report_python(plan: SeriesPlan, keys: int, rows: int) -> dict[str, float]:
    replay_keys = min(keys, REPLAY_KEYS)
    phases, _ = replay(plan, replay_keys, rows)
    total_rows = sum(phases.rows[k] for k in PHASES[:3])
    total = sum(phases.seconds.values())
    print(f"  Python function alone (eval() in this process, {replay_keys} keys x {rows} rows, "
          f"{BUNDLE}-row batches): {total / total_rows * 1e6:.0f} us/row on average; "
          + "; ".join(f"{k} {phases.per_row_us(k):,.0f} us/row ({phases.rows[k]:,} rows)"
                      for k in PHASES))
    steady = (phases.per_row_us("carried") + phases.per_row_us("refit") / plan.update_interval
              + phases.per_row_us("batch overhead"))
    print(f"  steady state (every key trained, a refit every {plan.update_interval} rows, "
          "batch overhead included): "
          f"{steady:.0f} us/row -> at most {1e6 / steady:,.0f} events/s per Python worker")
    print(f"  composition of this run's rows per key: "
          f"{min(rows, plan.min_training - 1)} before training, "
          f"{sum(plan.refit_point(n) == n for n in range(1, rows + 1))} refit, "
          f"{sum(phase_of(plan, n) == PHASES[2] for n in range(1, rows + 1))} carried")
    auto = dataclasses.replace(plan, spec=dataclasses.replace(plan.spec, order=None))
    auto_phases, _ = replay(auto, AUTO_REPLAY_KEYS, rows)
    auto_steady = (auto_phases.per_row_us("carried") + auto_phases.per_row_us("batch overhead")
                   + auto_phases.per_row_us("refit") / plan.update_interval)
    print(f"  the same with no orders given (auto-ARIMA at every refit), {AUTO_REPLAY_KEYS} "
          f"keys: refit {auto_phases.per_row_us('refit') / 1000:,.0f} ms, steady state "
          f"{auto_steady:.0f} us/row -> at most {1e6 / auto_steady:,.0f} events/s per Python "
          "worker")
    return {"python_us_per_row": total / total_rows * 1e6,
            "python_refit_ms": phases.per_row_us("refit") / 1000,
            "python_carried_us": phases.per_row_us("carried"),
            "python_steady_us": steady,
            "python_auto_refit_ms": auto_phases.per_row_us("refit") / 1000,
            "python_auto_steady_us": auto_steady}


# -- 2. latency ----------------------------------------------------------------------------


BASE_SECONDS = 1_000_000  # event time of event i: BASE_SECONDS + i seconds
PRIMES = (-2, -1)  # tx_ids of the events sent before the paced ones (key -1)
DRAIN_S = 10
PACED_LABELS = {"plain": "SELECT tx_id, key, v (no function)",
                "detect": "ML_DETECT_ANOMALIES OVER"}


def event(i: int, keys: int, value: float) -> dict:
    key = -1 if i < 0 else i % keys
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(BASE_SECONDS + i))
    return {"tx_id": i, "card_id": str(key), "key": key, "ts": stamp, "v": value}


def latency_events(keys: int, rate: int, seconds: int) -> list[dict]:
    """The paced events: i = 0 .. rate x seconds - 1, key i % keys, v as value_expression."""
    rows = -(-rate * seconds // keys)
    values = replay_values(keys, rows)
    return [event(i, keys, float(values[i])) for i in range(rate * seconds)]


def output_records(bootstrap: str, topic: str) -> list[dict]:
    """Every record of `topic` (one partition), decoded."""
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"bench-{time.time_ns()}",
                         "enable.auto.commit": False})
    _, end = consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=30)
    consumer.assign([TopicPartition(topic, 0, 0)])
    records, position = [], 0
    while position < end:
        for message in consumer.consume(10_000, 1.0):
            if not message.error():
                records.append(json.loads(message.value()))
                position = message.offset() + 1
    consumer.close()
    return records


@dataclass
class Paced:
    ids: list[int]  # the paced events' tx_ids, in sending order
    sent_per_s: float
    stamped: dict[int, int]  # tx_id -> output record timestamp (ms)
    seen: dict[int, float]  # tx_id -> when the consumer got it (ms since the epoch)
    sent: dict[int, int]  # tx_id -> input record timestamp (ms)
    duplicates: int
    load: str  # the load average as the paced events ended
    first_fit: dict[int, int] = field(default_factory=dict)  # key -> first fitted tx_id


def paced_run(bench: Bench, name: str, select: str, columns: str, events: list[dict],
              rate: int, seconds: int) -> Paced:
    """Kafka -> `select` -> Kafka at parallelism 1, `events` sent at `rate` once the job has
    passed two priming events through."""
    source, sink = f"series_{name}", f"out_{name}"
    bench.create_topics(source, sink)
    session = mlsql.Session(registry=bench.registry, mode="streaming")
    session.sql("SET 'parallelism.default' = '1'")
    session.sql(f"SET 'execution.checkpointing.interval' = '{CHECKPOINT_INTERVAL}';"
                "SET 'execution.checkpointing.dir' = "
                f"'{(bench.root / 'checkpoints' / name).as_uri()}'")
    # as the fraud example's transactions table: the watermark is each event's own time,
    # emitted on every event, one source reader for the one partition
    session.sql(f"CREATE TABLE paced (tx_id BIGINT, key BIGINT, ts TIMESTAMP(3), v DOUBLE, "
                f"WATERMARK FOR ts AS ts) WITH ('connector' = 'kafka', 'topic' = '{source}', "
                f"'properties.bootstrap.servers' = '{bench.bootstrap}', "
                "'properties.group.id' = 'bench', 'scan.startup.mode' = 'earliest-offset', "
                "'scan.watermark.emit.strategy' = 'on-event', 'scan.parallelism' = '1', "
                "'format' = 'json', 'json.timestamp-format.standard' = 'ISO-8601')")
    bench.sink(session, "paced_out", sink, columns, "at-least-once")
    reader = AlertReader(bench.bootstrap, sink)
    reader.start()
    job = bench.start(session, f"INSERT INTO paced_out {select}")
    try:
        bench.produce(source, [event(i, 1, 0.0) for i in PRIMES])
        if not reader.wait_for([PRIMES[0]], 300):
            raise RuntimeError(f"{name}: the priming event came not through ({job.status()})")
        ids: list[int] = []
        started = time.monotonic()
        deadline = started + seconds * 1.25 + 1  # when the producer cannot keep the rate
        paced = itertools.takewhile(lambda _: time.monotonic() < deadline, events)
        sent = bench.produce(source, paced, rate=rate,
                             on_send=lambda e: ids.append(e["tx_id"]))
        achieved, during = sent / (time.monotonic() - started), load()
        reader.wait_for(ids, DRAIN_S)
        stamps = record_timestamps(bench.bootstrap, source, 0)
    finally:
        bench.finished(job)
        reader.stopping.set()
        reader.join(10)
    run = Paced(ids, achieved, dict(reader.stamped), dict(reader.seen), stamps,
                reader.duplicates, during)
    for record in output_records(bench.bootstrap, sink):
        fitted = (record.get("a") or {}).get("forecast_value") is not None
        if fitted and record["tx_id"] >= 0:
            key = record["key"]
            run.first_fit[key] = min(run.first_fit.get(key, record["tx_id"]), record["tx_id"])
    return run


def latency_figures(run: Paced, after: int) -> tuple[int, int, tuple, tuple]:
    """Events measured (tx_id > `after`), how many never came out, p50/p99 of output minus
    input record time, and of when the consumer got it minus input record time."""
    measured = [i for i in run.ids if i > after]
    got = [i for i in measured if i in run.stamped]
    inf = [float("inf")] * (len(measured) - len(got))
    return (len(measured), len(inf),
            percentiles([run.stamped[i] - run.sent[i] for i in got] + inf),
            percentiles([run.seen[i] - run.sent[i] for i in got] + inf))


def measure_latency(root: Path, port: int, keys: int, rate: int, seconds: int,
                    training: str, plan: SeriesPlan) -> dict[str, float]:
    broker = LocalKafka(root / "kafka")
    bench = Bench(root, broker.start(free_port(port)).port)  # its registry: root / "registry"
    events = latency_events(keys, rate, seconds)
    head = "tx_id BIGINT, key BIGINT, v DOUBLE"
    pipelines = {
        "plain": ("SELECT tx_id, key, v FROM paced", head),
        "detect": (f"SELECT tx_id, key, v, {detect(training)} AS a FROM paced",
                   f"{head}, a {ANOMALY_ROW}")}
    runs: dict[str, Paced] = {}
    try:
        for name, (select, columns) in pipelines.items():
            runs[name] = paced_run(bench, name, select, columns, events, rate, seconds)
            print(f"  ({PACED_LABELS[name]}: {len(runs[name].ids):,} events sent at "
                  f"{runs[name].sent_per_s:,.0f}/s; {runs[name].load} as they ended)")
    finally:
        bench.stop_jobs()
        broker.stop()
    first_fit = runs["detect"].first_fit
    unfitted = [k for k in range(keys) if k not in first_fit]
    planned = (plan.min_training - 1) * keys + keys - 1  # the last key's row minTrainingSize
    if unfitted:
        after = len(events)
        print(f"  {len(unfitted)} of {keys} keys never fitted: nothing measured")
    else:
        after = max(first_fit.values())
        print(f"  warm-up skipped in both pipelines: events 0 .. {after:,}, until every key's "
              f"first fit (planned: the last key's row {plan.min_training}, event {planned:,})")
    print(f"  {'':<44}{'events':>8}{'p50 ms':>8}{'p99 ms':>8}{'seen p50':>10}{'seen p99':>10}")
    figures: dict[str, float] = {}
    for name, run in runs.items():
        events_, late, latency, seen = latency_figures(run, after)
        line = (f"  {PACED_LABELS[name] + ':':<44}{events_:>8,}{ms(latency[0]):>8}"
                f"{ms(latency[1]):>8}{ms(seen[0]):>10}{ms(seen[1]):>10}")
        if late:
            line += f"   {late:,} not out {DRAIN_S} s after the last send"
        if run.duplicates:
            line += f"   {run.duplicates:,} written twice (the job restarted)"
        print(line)
        thirds = np.array_split(np.asarray([i for i in run.ids if i > after]), 3)
        print("    p50 by thirds of the measured events (a backlog grows to the end): " + ", ".join(
            ms(percentiles([run.stamped.get(i, float("inf")) - run.sent[i] for i in part])[0])
            for part in thirds) + " ms")
        figures[f"{name}_p50_ms"], figures[f"{name}_p99_ms"] = latency
    return figures


# -- 3. state ------------------------------------------------------------------------------


def ring_bytes(plan: SeriesPlan, width: int = 1) -> int:
    """SeriesHistory's arrays for one key: capacity x width doubles + capacity longs."""
    return plan.capacity * 8 * width + plan.capacity * 8


@dataclass
class Checkpoint:
    over: int  # bytes of the OVER vertex's state (REST state_size)
    total: int  # the checkpoint's state_size, all vertices (the sequence source's included)
    disk: int  # bytes of its files


def checkpoint_of(bench: JobTracker, root: Path, registry: Path, keys: int) -> Checkpoint:
    """A FULL checkpoint of the function's job once its OVER vertex has read 2 rows a key
    (so every key's ring exists and the watermark has passed its first row)."""
    directory = root / "checkpoints"
    session = mlsql.Session(registry=registry, mode="streaming", options={
        "parallelism.default": "1", "state.backend.type": "hashmap",
        "execution.checkpointing.incremental": "false",
        "execution.checkpointing.interval": "1 h",  # only the checkpoint triggered below
        "execution.checkpointing.dir": directory.as_uri()})
    rate = max(1_000, keys)  # 2 rows a key in 2 s; the sequence lasts 2 minutes
    create_series(session, "endless", keys, 2 + 120 * rate // keys, rate)
    create_sinks(session)
    job = bench.start(session, f"INSERT INTO detect_sink {queries('endless', '')['detect']}")
    try:
        deadline = time.monotonic() + 300
        over, _ = vertex_reading(job, "OverAggregate", 2 * keys, deadline, "the OVER vertex")
        details, disk = full_checkpoint(job, deadline)
    finally:
        bench.finished(job)
    return Checkpoint(details["tasks"][over["id"]]["state_size"], details["state_size"], disk)



def model_cache_bytes(plan: SeriesPlan, keys: int = 20) -> tuple[float, float]:
    """Pickled bytes of one fitted key's cached state, and Python heap per fitted key."""
    rows = plan.min_training + plan.update_interval // 2  # fitted, then carried a while
    tracemalloc.start()
    _, function = replay(plan, keys, rows)
    held = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    state = next(iter(function._keys.values()))
    assert state.track is not None, "the replayed key has no model"
    return float(len(pickle.dumps(state))), held / keys


def report_state(bench: JobTracker, root: Path, registry: Path, keys: int,
                 short: SeriesPlan, defaults: SeriesPlan) -> dict[str, float]:
    figures: dict[str, float] = {}
    for label, plan in (("defaults", defaults), ("short training", short)):
        print(f"  ring buffer from the plan, {label} (min/max training {plan.min_training}/"
              f"{plan.max_training}, updateInterval {plan.update_interval}): capacity "
              f"{plan.capacity} rows x (8 B value + 8 B timestamp) = {ring_bytes(plan):,} B/key")
    figures["ring_bytes_per_key"] = ring_bytes(defaults)
    checkpoint = checkpoint_of(bench, root, registry, keys)
    figures["checkpoint_over_bytes_per_key"] = checkpoint.over / keys
    figures["checkpoint_bytes_per_key"] = checkpoint.total / keys
    print(f"  FULL checkpoint (hashmap), {keys:,} keys, default options: OVER vertex "
          f"{checkpoint.over:,} B = {checkpoint.over / keys:,.0f} B/key; whole job "
          f"{checkpoint.total:,} B = {checkpoint.total / keys:,.0f} B/key; "
          f"{checkpoint.disk:,} B on disk = {checkpoint.disk / keys:,.0f} B/key")
    for label, plan in (("defaults", defaults), ("short training", short)):
        pickled, heap = model_cache_bytes(plan)
        figures[f"model_pickle_bytes_{label.split()[0]}"] = pickled
        figures[f"model_heap_bytes_{label.split()[0]}"] = heap
        print(f"  Python worker's model cache per fitted key, {label}: {pickled:,.0f} B "
              f"pickled, {heap:,.0f} B of Python heap (tracemalloc, whole SeriesFunction / "
              "keys); not checkpointed: a worker without it refits from the ring")
    return figures


# -- main ----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keys", type=int, default=10_000)
    parser.add_argument("--rows", type=int, default=None,
                        help="rows per key (default: 64, or 256 with --defaults)")
    parser.add_argument("--defaults", action="store_true",
                        help="throughput with the default minTrainingSize 128 / "
                             "maxTrainingSize 512 instead of 32 / 128")
    parser.add_argument("--rate", type=int, default=500, help="latency: events/s")
    parser.add_argument("--seconds", type=int, default=60,
                        help="latency: seconds of paced events per pipeline")
    parser.add_argument("--latency-keys", type=int, default=20, help="latency: keys (20-100)")
    parser.add_argument("--latency-only", action="store_true",
                        help="only the latency part (no throughput, no state)")
    parser.add_argument("--port", type=int, default=29093, help="latency: the broker's port")
    parser.add_argument("--quick", action="store_true",
                        help="smoke test: 200 keys x 48 rows, 10 s latency runs, 20 keys")
    args = parser.parse_args()
    if args.quick:
        args.keys, args.seconds, args.latency_keys = 200, 10, 20
        args.rows = args.rows or 48
    rows = args.rows or (256 if args.defaults else 64)
    training = (None, None) if args.defaults else SHORT_TRAINING
    options = training_options(*training)
    plan, defaults = plan_of(options), plan_of("")
    short = plan_of(training_options(*SHORT_TRAINING))
    events = args.keys * rows

    began = time.monotonic()
    print(f"streaming mode; {load()} at the start (the machine is shared: other work running "
          "on it shows in these figures)")
    root = Path(tempfile.mkdtemp(prefix="mlsql-bench-timeseries-"))
    bench = JobTracker()
    bench.jobs = []
    try:
        which = ("the defaults" if args.defaults else
                 f"minTrainingSize {plan.min_training} / maxTrainingSize {plan.max_training} "
                 "(smaller than the defaults 128 / 512, so that every key is fitted)")
        throughput, python, state = {}, {}, {}
        if not args.latency_only:
            print(f"\n1. throughput: {args.keys:,} keys x {rows} rows = {events:,} events, "
                  f"datagen -> blackhole; ARIMA(1,0,1) with {which}, updateInterval "
                  f"{plan.update_interval}")
            runs = measure_throughput(bench, root / "registry", args.keys, rows, options)
            throughput = report_throughput(runs, events)
            python = report_python(plan, args.keys, rows)

        settings = {"parallelism.default": "1", "execution.checkpointing.interval":
                    CHECKPOINT_INTERVAL, **STREAMING_NETWORK_OPTIONS, **STREAMING_PYTHON_OPTIONS}
        print(f"\n2. latency at {args.rate} events/s for {args.seconds} s, {args.latency_keys} "
              f"keys ({args.rate / args.latency_keys:g} rows/s per key): a Kafka broker of its "
              "own (LocalKafka), events sent at that rate, Kafka -> query -> Kafka "
              "(at-least-once sink), one job per pipeline, one after the other, same events; "
              "latency = output record's Kafka timestamp - input record's; \"seen\" = when a "
              "consumer got it - input record's (as tests/benchmarks/streaming.py). "
              f"ARIMA(1,0,1) with minTrainingSize {short.min_training} / maxTrainingSize "
              f"{short.max_training} (not the defaults 128 / 512, so that every key is fitted "
              f"early in the run), updateInterval {short.update_interval}. Flink settings as "
              "streaming.py's: " + ", ".join(f"{k} {v}" for k, v in settings.items())
              + ", checkpoints to a directory; the watermark is each event's own time, "
              "emitted on every event (scan.watermark.emit.strategy on-event)")
        latency = measure_latency(root, args.port, args.latency_keys, args.rate, args.seconds,
                                  training_options(*SHORT_TRAINING), short)

        if not args.latency_only:
            print("\n3. state per key")
            state = report_state(bench, root, root / "registry", args.keys, short, defaults)
    finally:
        bench.stop_jobs()
        shutil.rmtree(root, ignore_errors=True)
    print(f"({load()} at the end; {time.monotonic() - began:.0f} s in all)")
    print(summary("timeseries", keys=args.keys, rows_per_key=rows,
                  min_training=plan.min_training, **throughput, **python, **latency, **state))


if __name__ == "__main__":
    main()

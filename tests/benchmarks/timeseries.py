"""ML_DETECT_ANOMALIES as an OVER aggregate: throughput, latency and state per key.

    python tests/benchmarks/timeseries.py [--keys 10000] [--rows 64] [--quick]
                                          [--defaults] [--latency-keys 20] [--seconds 30]

Everything runs in this process on the embedded mini-cluster, streaming mode. The data is a
datagen table with a `sequence` field i: key = i % --keys, ts = TO_TIMESTAMP_LTZ(i * 1000, 3)
with a WATERMARK on it, so every key's rows come in event-time order, and v a deterministic
per-key series (a slow sine plus hashed noise). The function is
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
   refit rows, rows carried by the Kalman filter.
2. Latency: the same three queries at 500 events/s (--rate) over --latency-keys keys with
   the default options: datagen stamps each event with its creation time (`max-past` 0),
   as latency.py does, but the result is stamped on arrival in this process (Flink moves
   CURRENT_ROW_TIMESTAMP() below the OVER aggregate, so latency.py's stamp reads 0 here);
   p50 / p99 of the difference, the first 10% skipped, for the function only over rows
   whose key has a model (forecast_value not NULL). The collect path adds its own delay
   (PyFlink fetches and unpickles the rows one by one through py4j): the plain projection's
   figure is that floor, and a backlog there inflates all three; read the differences.
3. State per key: the JVM ring buffer's bytes from the plan (capacity = maxTrainingSize +
   updateInterval rows, 8 bytes per value and per timestamp), a FULL checkpoint (hashmap,
   incremental off, local directory) of the function's job once every key has rows,
   divided by the keys (REST state_size of the OVER vertex and of the whole job, and the
   files on disk), and the worker's per-key model cache: the pickled size of a fitted key's
   state and the Python heap it holds (tracemalloc).
"""

from __future__ import annotations

import argparse
import json
import pickle
import shutil
import tempfile
import time
import tracemalloc
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
from common import JobTracker, load, summary

import mlsql
from mlsql.runtime import minicluster
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


def rest(path: str, body: dict | None = None) -> dict:
    """GET (or POST `body` to) the mini-cluster's REST API."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{minicluster.started_port()}{path}",
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json"}, method="GET" if body is None else "POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


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
    info = rest(f"/jobs/{job.job_id}")
    running_since, busy = 0, {}
    for vertex in info["vertices"]:
        times = rest(f"/jobs/{job.job_id}/vertices/{vertex['id']}/subtasktimes")
        running_since = max([running_since]
                            + [s["timestamps"]["RUNNING"] for s in times["subtasks"]])
        role = vertex_role(vertex["name"])
        seconds = float(vertex["metrics"]["accumulated-busy-time"]) / 1000
        busy[role] = busy.get(role, 0.0) + (0.0 if np.isnan(seconds) else seconds)
        if verbose:
            print(f"    vertex {role}: {vertex['name'][:150]}")
    bench.finished(job)
    return Run(gross, (info["end-time"] - running_since) / 1000, busy)


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


def phase_of(plan: SeriesPlan, n: int) -> str:
    refit = plan.refit_point(n)
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
        kind = phase_of(plan, int(values[0]))
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
    return {"python_us_per_row": total / total_rows * 1e6,
            "python_refit_ms": phases.per_row_us("refit") / 1000,
            "python_carried_us": phases.per_row_us("carried"),
            "python_steady_us": steady}


# -- 2. latency ----------------------------------------------------------------------------


def latency_of(session: mlsql.Session, name: str, select_list: str, keys: int, rate: int,
               seconds: int) -> tuple[np.ndarray, int]:
    """Milliseconds from each event's creation to its arrival in this process; and how many
    rows there were. Flink computes CURRENT_ROW_TIMESTAMP() and PROCTIME() before the OVER
    whatever the query says (it moves them below the aggregate), so the stamp is taken here,
    as the rows come out of the collect sink (the same path for every variant)."""
    create_series(session, "paced", keys, rate * seconds // keys, rate)
    session.sql(f"DROP TEMPORARY VIEW IF EXISTS measured; "
                f"CREATE TEMPORARY VIEW measured AS {select_list}")
    trained = ", a.forecast_value" if name == "detect" else ""
    # PyFlink cannot collect a TIMESTAMP_LTZ: the wall-clock time in the session's zone,
    # which is this process's local time
    result = session.table_env.execute_sql(
        f"SELECT CAST(created AS TIMESTAMP(3)){trained} FROM measured")
    latency, keep = [], []
    with result.collect() as rows:
        for row in rows:
            arrived = datetime.now()
            latency.append((arrived - row[0]).total_seconds() * 1000)
            keep.append(name != "detect" or row[1] is not None)
    skip = np.arange(len(latency)) >= len(latency) // 10  # the first 10%: start-up
    return np.asarray(latency)[skip & np.asarray(keep, dtype=bool)], len(latency)


def measure_latency(registry: Path, keys: int, rate: int, seconds: int) -> dict[str, float]:
    figures: dict[str, float] = {}
    for name, select in queries("paced", "").items():
        session = mlsql.Session(registry=registry, mode="streaming",
                                options={"parallelism.default": "1"})
        select = select.replace("SELECT key", "SELECT created, key")
        latency, total = latency_of(session, name, select, keys, rate, seconds)
        if latency.size == 0:
            print(f"  {LABELS[name]:<44} no rows measured ({total} rows)")
            continue
        p50, p99 = np.percentile(latency, [50, 99])
        print(f"  {LABELS[name]:<44} p50 {p50:7.1f} ms  p99 {p99:7.1f} ms  max "
              f"{latency.max():7.0f} ms  ({latency.size:,} of {total:,} events)")
        figures[f"{name}_p50_ms"], figures[f"{name}_p99_ms"] = float(p50), float(p99)
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
        while True:  # the REST metrics lag up to 10 s
            vertices = rest(f"/jobs/{job.job_id}")["vertices"]
            over = next(v for v in vertices if "OverAggregate" in v["name"])
            if over["metrics"]["read-records"] >= 2 * keys:
                break
            if job.done() or time.monotonic() > deadline:
                raise RuntimeError(f"the OVER vertex read {over['metrics']['read-records']:,}"
                                   f" of {2 * keys:,} rows ({job.status()})")
            time.sleep(0.5)
        trigger = rest(f"/jobs/{job.job_id}/checkpoints", {"checkpointType": "FULL"})
        while True:
            status = rest(f"/jobs/{job.job_id}/checkpoints/{trigger['request-id']}")
            if status["status"]["id"] == "COMPLETED":
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"the checkpoint did not complete: {status}")
            time.sleep(0.2)
        if "failure-cause" in status.get("operation", {}):
            raise RuntimeError(f"the checkpoint failed: {status['operation']}")
        details = rest(f"/jobs/{job.job_id}/checkpoints/details/"
                       f"{status['operation']['checkpointId']}")
        path = Path(details["external_path"].removeprefix("file:"))  # gone once cancelled
        disk = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
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
    parser.add_argument("--seconds", type=int, default=30, help="latency: seconds per query")
    parser.add_argument("--latency-keys", type=int, default=20)
    parser.add_argument("--quick", action="store_true",
                        help="smoke test: 200 keys x 48 rows, 10 s latency runs, 10 keys")
    args = parser.parse_args()
    if args.quick:
        args.keys, args.seconds, args.latency_keys = 200, 10, 10
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
        print(f"\n1. throughput: {args.keys:,} keys x {rows} rows = {events:,} events, datagen "
              f"-> blackhole; ARIMA(1,0,1) with {which}, updateInterval "
              f"{plan.update_interval}")
        runs = measure_throughput(bench, root / "registry", args.keys, rows, options)
        throughput = report_throughput(runs, events)
        python = report_python(plan, args.keys, rows)

        print(f"\n2. latency at {args.rate} events/s, {args.seconds} s per query, "
              f"{args.latency_keys} keys ({args.rate // args.latency_keys} rows/s per key), "
              "default options (first fit at row 128 of each key), parallelism 1")
        latency = measure_latency(root / "registry", args.latency_keys, args.rate,
                                  args.seconds)
        print("  (stamped on arrival in this process: the plain projection's figure is the "
              "collect path's own delay, a floor under the others; Flink moves "
              "CURRENT_ROW_TIMESTAMP() below the OVER, so it cannot stamp the result)")

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

"""Monitoring beside scoring: what it costs in throughput, and the state a 30-day label bound
holds.

    python tests/benchmarks/monitoring.py [--rows 200000] [--rounds 3] [--held 50000,100000]
                                          [--no-pinned]

Everything runs in this process on the embedded mini-cluster, streaming mode, parallelism 1,
with the data of examples/fraud/monitoring (transactions.py) in CSV files under a temporary
directory. `fraud_model` is trained by the example's own train.sql (boosted_tree_classifier,
50 trees, on 30 days x 200 transactions before the fraud pattern changes, as run.py does)
into a temporary registry.

1. Throughput. --rows transactions (40 days of event time, the pattern changing on day 5)
   and their labels (transactions.labels: 1-30 days later, 1% late, 2% never), read from
   filesystem tables with a WATERMARK (bounded, so the streaming jobs finish):
     scoring alone:   ML_PREDICT -> blackhole, as monitor.sql scores (version column, refresh
                      interval 1 s);
     with monitoring: the same INSERT plus ML_EVALUATE_DELAYED over those scored rows and the
                      labels (window 1 day, label_delay 30 days) and ML_VALIDATE_DATA_SKEW(...,
                      MAP['window', '1 day']) over the transactions, each into a blackhole, in
                      one statement set (monitor.sql's three INSERTs; the scored rows are a
                      view over ML_PREDICT rather than a Kafka topic, so Flink scores once and
                      feeds both the sink and the join). ML_VALIDATE_DATA_SKEW pins the
                      version it resolves at planning, so with the unpinned model it scores
                      the transactions again, on the JVM (the job-graph line counts both).
   The model is unpinned, as in the demo: in a streaming job it is scored by the pandas UDF
   (it follows new versions); that is the realistic pair. The same pair with `fraud_model$1`
   (pinned: the JVM scorer) follows unless --no-pinned. A first run of each unpinned job,
   not counted, warms the JVM (the first monitoring job ran 1.7x longer than the next ones);
   then the variants alternate over --rounds rounds. Each run is
   timed from the INSERT to the job's end ("gross": planning and job start included) and,
   from Flink's REST API, from the moment every task was RUNNING (Python worker up) to the
   job's end ("running"): rows/s is --rows over that time (the labels are read too, not
   counted; in this replay they come as fast as the transactions, not days later). Ratios:
   with / without, medians, and per round. "busy": Flink's accumulated busy time of each
   vertex (neither idle nor back-pressured; wall-clock, the tasks share 2 cores), medians
   over the rounds.

2. State. ML_EVALUATE_DELAYED is a left interval join: each prediction is held until the
   labels' watermark passes its time + label_delay + late_horizon (30 days + the 1-day
   default). The demo's quality query runs as a streaming job over K predictions (--held;
   one per ms of event time, 10-digit ids, random probabilities) whose labels have not come
   (an empty, monitored labels directory: its watermark never moves, so all K are held; both
   tables are monitored directories, so the job runs until cancelled). Once the join has
   read all K rows (REST metrics), a FULL checkpoint is triggered through the REST API
   (checkpoints to a local directory, incremental off), and its size is read from Flink's
   checkpoint statistics (per vertex) and from the files on disk, for the hashmap and the
   RocksDB state backends (RocksDB's, incremental off, is a copy of its SST files:
   compressed, and as linear as its compactions are); also the heap the job held (used heap
   after System.gc(), before minus after cancelling it; per prediction the slope between the
   two sizes under hashmap, since a job holds some heap of its own besides the state). Extra
   runs: every label in time (1 s after its prediction), so the join has emitted each
   prediction into the windows' aggregates (COUNT(DISTINCT prediction) keeps one entry per
   prediction until the window fires), and a scored table with an unused 100-character
   column (does the join hold it?). Bytes per held prediction are extrapolated to 1,000
   events/s x 31 days = 2.68e9 held predictions.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from common import (
    JobTracker,
    finished_job_times,
    full_checkpoint,
    load,
    rest,
    summary,
    vertex_reading,
)

import mlsql

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "fraud" / "monitoring"
sys.path.insert(0, str(EXAMPLE))
from transactions import START, labels, transactions  # noqa: E402  (the example's data)

DAYS = 40  # of event time in the scored stream
CHANGE_DAY = 5
CSV_TIME = "%Y-%m-%d %H:%M:%S.%f"
BOUND_DAYS = 30 + 1  # label_delay + late_horizon (its default: the window)
RATE = 1_000  # events/s for the extrapolation
HELD_AT_RATE = RATE * 86_400 * BOUND_DAYS
FIRST_ID = 1_000_000_000  # 10-digit ids, as a stream of billions has
WIDE = 100  # characters of the unused column

TABLES = """
CREATE TABLE transactions (
  tx_id BIGINT, event_time TIMESTAMP(3), amount DOUBLE, category STRING, hour_of_day INT,
  distance_km DOUBLE, online BOOLEAN, WATERMARK FOR event_time AS event_time
) WITH ('connector' = 'filesystem', 'path' = '{root}/transactions.csv', 'format' = 'csv');
CREATE TABLE labels (
  tx_id BIGINT, labelled_at TIMESTAMP(3), is_fraud INT, WATERMARK FOR labelled_at AS labelled_at
) WITH ('connector' = 'filesystem', 'path' = '{root}/labels.csv', 'format' = 'csv');
CREATE TABLE scored_sink (
  tx_id BIGINT, event_time TIMESTAMP(3), probability DOUBLE, predicted_is_fraud INT,
  model_version INT
) WITH ('connector' = 'blackhole');
"""
# monitor.sql's quality and drift tables, as blackholes.
SINKS = """
CREATE TABLE quality (
  window_start TIMESTAMP(3), window_end TIMESTAMP(3), model_version INT, predictions BIGINT,
  labelled BIGINT, late_labels BIGINT, unlabelled BIGINT, accuracy DOUBLE,
  `precision` DOUBLE, recall DOUBLE, f1_score DOUBLE, roc_auc DOUBLE, log_loss DOUBLE,
  mean_predicted DOUBLE, observed_rate DOUBLE
) WITH ('connector' = 'blackhole');
CREATE TABLE drift (
  window_start TIMESTAMP(3), window_end TIMESTAMP(3), input STRING, metric STRING,
  threshold DOUBLE, `value` DOUBLE, is_anomaly BOOLEAN
) WITH ('connector' = 'blackhole');
"""
SCORED_VIEW = """
CREATE TEMPORARY VIEW {view} AS
SELECT tx_id, event_time, probability, predicted_is_fraud, model_version
FROM ML_PREDICT(TABLE transactions, MODEL {model},
                MAP['version_column', 'model_version', 'refresh_interval', '1 s'])
"""
QUALITY = """
INSERT INTO quality
SELECT window_start, window_end, model_version, predictions, labelled, late_labels,
       unlabelled, accuracy, `precision`, recall, f1_score, roc_auc, log_loss,
       mean_predicted, observed_rate
FROM ML_EVALUATE_DELAYED(TABLE {scored}, TABLE labels, MODEL {model}, DESCRIPTOR(tx_id),
                         MAP['window', '1 day', 'label_delay', '30 days'])
"""
DRIFT = """
INSERT INTO drift
SELECT window_start, window_end, input, metric, threshold, `value`, is_anomaly
FROM ML_VALIDATE_DATA_SKEW(TABLE transactions, MODEL {model}, MAP['window', '1 day'])
"""
SCORING = {  # name -> (label, the view, the model)
    "unpinned": ("unpinned fraud_model (pandas UDF)", "scored", "fraud_model"),
    "pinned": ("pinned fraud_model$1 (JVM scorer)", "scored_pinned", "`fraud_model$1`"),
}


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    frame.to_csv(path, index=False, header=False, date_format=CSV_TIME)


# -- 1. throughput -------------------------------------------------------------------------


@dataclass
class Run:
    gross: float  # seconds from the INSERT to the job's end
    running: float  # seconds from every task RUNNING to the job's end
    busy: dict[str, float]  # seconds of accumulated busy time by role


@dataclass
class Variant:
    label: str
    statement: str
    runs: list[Run] = field(default_factory=list)


def role(vertex: str) -> str:
    if vertex.startswith("Source: transactions"):
        return "transactions: read, score, skew's buckets"
    if vertex.startswith("Source: labels"):
        return "labels: read"
    if "IntervalJoin" in vertex or "quality" in vertex:
        return "quality: interval join, window aggregates"
    return "skew: window aggregates and joins"


def finished_run(job, gross: float) -> Run:
    running, busy, _ = finished_job_times(job, role)
    return Run(gross, running, busy)


def job_graph(job) -> str:
    plan = json.dumps(rest(f"/jobs/{job.job_id}/plan"))
    info = rest(f"/jobs/{job.job_id}")
    names = " ".join(v["name"] for v in info["vertices"])
    return (f"{len(info['vertices'])} vertices, {names.count('PythonCalc')} pandas-UDF "
            f"operator(s), {plan.count('__mlsql_jvm_scores')} JVM scorer call(s) in the plan")


def measure_throughput(bench: JobTracker, root: Path, registry: Path, rows: int, rounds: int,
                       pinned: bool) -> dict[str, Variant]:
    session = mlsql.Session(registry=registry, mode="streaming",
                            options={"parallelism.default": "1"})
    session.sql(TABLES.format(root=root) + SINKS)
    variants: dict[str, Variant] = {}
    for key in ("unpinned", "pinned") if pinned else ("unpinned",):
        label, view, model = SCORING[key]
        session.sql(SCORED_VIEW.format(view=view, model=model))
        scoring = f"INSERT INTO scored_sink SELECT * FROM {view}"
        variants[f"{key}_without"] = Variant(f"scoring alone, {label}", scoring)
        variants[f"{key}_with"] = Variant(
            f"with monitoring, {label}",
            f"BEGIN STATEMENT SET;\n{scoring};\n{QUALITY.format(scored=view, model=model)};\n"
            f"{DRIFT.format(model=model)};\nEND;")
    for warm_up in (variants["unpinned_without"], variants["unpinned_with"]):
        took = bench.run_timed(session, warm_up.statement)
        print(f"  (warm-up, {warm_up.label}, not counted: {took:.1f} s)")
    for round_ in range(rounds):  # alternated, so drift hits every variant alike
        for name, variant in variants.items():
            started = time.perf_counter()
            job = bench.start(session, variant.statement)
            job.wait()
            run = finished_run(job, time.perf_counter() - started)
            if round_ == 0:
                print(f"  ({name}: {job_graph(job)})")
            bench.finished(job)
            variant.runs.append(run)
            print(f"  (round {round_ + 1}, {variant.label}: {run.gross:.1f} s gross, "
                  f"{run.running:.1f} s running, {rows / run.running:,.0f} rows/s; {load()})")
    return variants


def report_throughput(variants: dict[str, Variant], rows: int) -> dict[str, float]:
    figures: dict[str, float] = {}
    print(f"  {'':<58}{'running/s':>10}{'gross/s':>9}   per round (running)")
    for name, variant in variants.items():
        running = [rows / r.running for r in variant.runs]
        gross = [rows / r.gross for r in variant.runs]
        figures[f"{name}_rows_per_s"] = statistics.median(running)
        figures[f"{name}_gross_rows_per_s"] = statistics.median(gross)
        print(f"  {variant.label + ':':<58}{statistics.median(running):>10,.0f}"
              f"{statistics.median(gross):>9,.0f}   "
              f"{', '.join(f'{r:,.0f}' for r in running)}")
    for key in dict.fromkeys(name.rsplit("_", 1)[0] for name in variants):
        without, with_ = variants[f"{key}_without"], variants[f"{key}_with"]
        paired = [b.running / a.running for a, b in zip(with_.runs, without.runs, strict=True)]
        ratio = figures[f"{key}_with_rows_per_s"] / figures[f"{key}_without_rows_per_s"]
        gross = (figures[f"{key}_with_gross_rows_per_s"]
                 / figures[f"{key}_without_gross_rows_per_s"])
        figures[f"{key}_ratio"], figures[f"{key}_gross_ratio"] = ratio, gross
        print(f"  ratio with / without monitoring, {SCORING[key][0]}: {ratio:.2f} running "
              f"(per round {', '.join(f'{p:.2f}' for p in paired)}), {gross:.2f} gross")
        planning = [w.gross - w.running for w in with_.runs]
        alone = [w.gross - w.running for w in without.runs]
        print(f"    planning and job start (gross - running): {statistics.median(planning):.1f}"
              f" s with monitoring, {statistics.median(alone):.1f} s without")
        roles = sorted({r for run in with_.runs + without.runs for r in run.busy})
        print("    busy seconds by vertex (median), without -> with: " + "; ".join(
            f"{r} {busy(without, r):.1f} -> {busy(with_, r):.1f}" for r in roles))
    return figures


def busy(variant: Variant, name: str) -> float:
    return statistics.median(run.busy.get(name, 0.0) for run in variant.runs)


# -- 2. state ------------------------------------------------------------------------------


@dataclass
class Held:
    label: str
    held: int
    backend: str
    join: int  # bytes of the interval join's vertex in the checkpoint
    windows: int  # bytes of the window aggregate's vertex
    total: int  # the checkpoint's state_size (all vertices)
    disk: int  # bytes of the checkpoint's files
    heap: float  # bytes of heap the job held (used after GC, before - after cancelling)

    @property
    def per_prediction(self) -> float:
        return self.total / self.held


def held_state(bench: JobTracker, root: Path, registry: Path, held: int, backend: str,
               labelled: bool = False, wide: bool = False) -> Held:
    name = f"{backend}_{held}{'_labelled' if labelled else ''}{'_wide' if wide else ''}"
    directory = root / "held" / name
    (directory / "scored").mkdir(parents=True)
    (directory / "labels").mkdir()
    rng = np.random.default_rng(held)
    event_time = START + pd.to_timedelta(np.arange(held), unit="ms")  # 1,000 a second
    probability = rng.random(held)
    scored = pd.DataFrame({"tx_id": np.arange(FIRST_ID, FIRST_ID + held),
                           "event_time": event_time, "probability": probability.round(6),
                           "predicted_is_fraud": (probability > 0.5).astype(int),
                           "model_version": 1})
    if wide:
        scored["note"] = "x" * WIDE
    write_csv(scored, directory / "scored" / "part-0.csv")
    if labelled:  # every label 1 s after its prediction: in time
        write_csv(pd.DataFrame({"tx_id": scored["tx_id"],
                                "labelled_at": event_time + pd.Timedelta(seconds=1),
                                "is_fraud": (rng.random(held) < 0.05).astype(int)}),
                  directory / "labels" / "part-0.csv")
    session = mlsql.Session(registry=registry, mode="streaming", options={
        "parallelism.default": "1", "state.backend.type": backend,
        "execution.checkpointing.incremental": "false",
        "execution.checkpointing.interval": "1 h",  # only the checkpoint triggered below
        "execution.checkpointing.dir": (directory / "checkpoints").as_uri()})
    monitored = "'format' = 'csv', 'source.monitor-interval' = '1 h'"  # unbounded
    note = ", note STRING" if wide else ""
    session.sql(f"""
        CREATE TABLE scored (tx_id BIGINT, event_time TIMESTAMP(3), probability DOUBLE,
          predicted_is_fraud INT, model_version INT{note}, WATERMARK FOR event_time AS event_time)
          WITH ('connector' = 'filesystem', 'path' = '{directory}/scored', {monitored});
        CREATE TABLE labels (tx_id BIGINT, labelled_at TIMESTAMP(3), is_fraud INT,
          WATERMARK FOR labelled_at AS labelled_at)
          WITH ('connector' = 'filesystem', 'path' = '{directory}/labels', {monitored});
        {SINKS}""")
    submitted = time.monotonic()
    job = bench.start(session, QUALITY.format(scored="scored", model="fraud_model"))
    try:
        configured = rest(f"/jobs/{job.job_id}/checkpoints/config")["state_backend"]
        expected = held * (2 if labelled else 1)
        deadline = time.monotonic() + 180
        _, vertices = vertex_reading(job, "IntervalJoin", expected, deadline, f"{name}: the join")
        read = time.monotonic() - submitted
        details, disk = full_checkpoint(job, deadline, f"{name}: ")
        by_vertex = {v["name"]: details["tasks"][v["id"]]["state_size"] for v in vertices}
        before = used_heap()
    finally:
        bench.finished(job)
    heap = before - used_heap()
    join_bytes = sum(b for n, b in by_vertex.items() if "IntervalJoin" in n)
    window_bytes = sum(b for n, b in by_vertex.items() if "GlobalWindowAggregate" in n)
    label = (f"{backend}, {'every label in time' if labelled else 'no label yet'}"
             f"{f', an unused {WIDE}-char column' if wide else ''}")
    print(f"  ({label}, {held:,} held: Flink's {configured}; the join read all rows "
          f"{read:.1f} s after the INSERT)")
    return Held(label, held, backend, join_bytes, window_bytes, details["state_size"], disk,
                heap)


def used_heap() -> int:
    """Bytes of the JVM's heap in use after full collections (the mini-cluster lives in this
    process's JVM)."""
    from pyflink.java_gateway import get_gateway

    jvm = get_gateway().jvm
    for _ in range(3):
        jvm.java.lang.System.gc()
        time.sleep(0.2)
    return jvm.java.lang.management.ManagementFactory.getMemoryMXBean().getHeapMemoryUsage() \
        .getUsed()


def measure_state(bench: JobTracker, root: Path, registry: Path,
                  sizes: list[int]) -> list[Held]:
    plan = [(k, backend, False, False) for backend in ("hashmap", "rocksdb") for k in sizes]
    plan += [(sizes[-1], "hashmap", True, False), (sizes[0], "hashmap", False, True)]
    results = []
    for held, backend, labelled, wide in plan:
        results.append(held_state(bench, root, registry, held, backend, labelled, wide))
    return results


def report_state(results: list[Held]) -> dict[str, float]:
    print(f"  {'':<42}{'held':>8}{'join B':>11}{'windows B':>11}{'total B':>11}"
          f"{'on disk B':>11}{'B/pred':>8}{'heap MB':>9}")
    for r in results:
        print(f"  {r.label:<42}{r.held:>8,}{r.join:>11,}{r.windows:>11,}{r.total:>11,}"
              f"{r.disk:>11,}{r.per_prediction:>8.1f}{r.heap / 1e6:>9.1f}")
    plain = {(r.backend, r.held): r for r in results if "no label" in r.label
             and "unused" not in r.label}
    figures: dict[str, float] = {}
    for backend in ("hashmap", "rocksdb"):
        sizes = sorted(k for b, k in plain if b == backend)
        small, large = plain[backend, sizes[0]], plain[backend, sizes[-1]]
        marginal = (large.total - small.total) / (large.held - small.held)
        figures[f"{backend}_bytes_per_prediction"] = large.per_prediction
        figures[f"{backend}_marginal_bytes"] = marginal
        print(f"  {backend} checkpoint: {small.per_prediction:.1f} B/prediction at "
              f"{small.held:,} held, {large.per_prediction:.1f} at {large.held:,}; "
              f"{marginal:.1f} B per prediction between the two")
    sizes = sorted(k for b, k in plain if b == "hashmap")
    small, large = plain["hashmap", sizes[0]], plain["hashmap", sizes[-1]]
    # The heap a job holds has a fixed part (its operators, readers, buffers): the slope
    # between the two sizes is the state's, the intercept the rest.
    heap_slope = (large.heap - small.heap) / (large.held - small.held)
    heap_fixed = large.heap - heap_slope * large.held
    labelled = next(r for r in results if "in time" in r.label)
    labelled_heap = (labelled.heap - heap_fixed) / labelled.held
    print(f"  hashmap heap: {heap_slope:,.0f} B per held prediction between the two sizes "
          f"({heap_fixed / 1e6:.1f} MB the job holds besides); "
          f"{heap_slope / large.per_prediction:.1f}x the checkpoint's bytes")
    wide = next(r for r in results if "unused" in r.label)
    base = plain["hashmap", labelled.held]
    figures["hashmap_heap_bytes"] = heap_slope
    figures["labelled_bytes_per_prediction"] = labelled.per_prediction
    figures["labelled_heap_bytes"] = labelled_heap
    print(f"  every label in: join {labelled.join / labelled.held:.1f} B + the windows' "
          f"distinct predictions {labelled.windows / labelled.held:.1f} B = "
          f"{labelled.per_prediction:.1f} B/prediction checkpointed (no label yet: "
          f"{base.per_prediction:.1f}); heap about {labelled_heap:,.0f} B")
    narrow = plain["hashmap", wide.held]
    figures["unused_column_join_bytes"] = (wide.join - narrow.join) / wide.held
    print(f"  an unused {WIDE}-character column in the scored table: join "
          f"{wide.join / wide.held:.1f} B/prediction against {narrow.join / narrow.held:.1f}"
          " without it (Flink projects it away before the join)"
          if wide.join == narrow.join else
          f"  an unused {WIDE}-character column in the scored table: join "
          f"{wide.join / wide.held:.1f} B/prediction against {narrow.join / narrow.held:.1f}"
          " without it: the join holds it")

    print(f"\n  at {RATE:,} events/s x {BOUND_DAYS} days = {HELD_AT_RATE:.3g} held predictions "
          "(GB = 1e9 bytes):")
    half = (base.per_prediction + labelled.per_prediction) / 2
    rows = [("hashmap checkpoint, no label yet", base.per_prediction),
            ("hashmap checkpoint, every label in", labelled.per_prediction),
            ("hashmap checkpoint, half labelled (the demo's steady state, estimate)", half),
            ("hashmap heap, no label yet", heap_slope),
            ("hashmap heap, every label in", labelled_heap),
            ("rocksdb checkpoint (its SST files), no label yet",
             figures["rocksdb_bytes_per_prediction"])]
    for what, per in rows:
        print(f"    {what + ':':<74}{per:>8.1f} B -> {per * HELD_AT_RATE / 1e9:>8,.0f} GB")
    figures["hashmap_gb_at_1k"] = base.per_prediction * HELD_AT_RATE / 1e9
    figures["half_labelled_gb_at_1k"] = half * HELD_AT_RATE / 1e9
    figures["hashmap_heap_gb_at_1k"] = heap_slope * HELD_AT_RATE / 1e9
    figures["rocksdb_gb_at_1k"] = figures["rocksdb_bytes_per_prediction"] * HELD_AT_RATE / 1e9
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=200_000, help="scored transactions")
    parser.add_argument("--rounds", type=int, default=3, help="throughput rounds")
    parser.add_argument("--held", default="50000,100000",
                        help="held predictions for the state runs (two or more sizes)")
    parser.add_argument("--pinned", action=argparse.BooleanOptionalAction, default=True,
                        help="also measure the pinned model (`fraud_model$1`, JVM scorer)")
    args = parser.parse_args()
    sizes = sorted(int(k) for k in args.held.split(","))

    began = time.monotonic()
    print(f"parallelism 1, streaming mode; {load()} at the start (the machine is shared: "
          "other work running on it shows in these figures)")
    root = Path(tempfile.mkdtemp(prefix="mlsql-bench-monitoring-"))
    registry = root / "registry"
    bench = JobTracker()
    bench.jobs = []
    try:
        history = transactions(30, 200, CHANGE_DAY, seed=1, start=START - pd.Timedelta(days=30))
        write_csv(history, root / "history.csv")
        stream = transactions(DAYS, -(-args.rows // DAYS), CHANGE_DAY, seed=2,
                              first_id=1_000_000).head(args.rows)
        label_rows = labels(stream, seed=3)
        write_csv(stream.drop(columns=["is_fraud"]), root / "transactions.csv")
        write_csv(label_rows, root / "labels.csv")
        started = time.monotonic()
        mlsql.Session(registry=registry).sql(
            (EXAMPLE / "train.sql").read_text().replace("{{ data }}", str(root)))
        print(f"train.sql: fraud_model (50 boosted trees) on {len(history):,} transactions in "
              f"{time.monotonic() - started:.1f} s")

        print(f"\n1. throughput: {len(stream):,} transactions ({DAYS} days) and "
              f"{len(label_rows):,} labels from CSV -> [monitoring] -> blackholes, streaming "
              f"jobs over bounded files; {args.rounds} rounds, alternated")
        variants = measure_throughput(bench, root, registry, len(stream), args.rounds,
                                      args.pinned)
        throughput = report_throughput(variants, len(stream))

        print(f"\n2. state: ML_EVALUATE_DELAYED (window 1 day, label_delay 30 days, "
              f"late_horizon 1 day) holding {' and '.join(f'{k:,}' for k in sizes)} "
              "predictions; a FULL checkpoint, incremental off, per vertex (REST "
              "state_size) and on disk; heap MB: used heap after GC, before - after "
              "cancelling the job")
        state = report_state(measure_state(bench, root, registry, sizes))
    finally:
        bench.stop_jobs()
        shutil.rmtree(root, ignore_errors=True)
    elapsed = time.monotonic() - began
    print(f"({load()} at the end; {elapsed:.0f} s in all)")

    print("\nsummary:")
    unpinned = "unpinned fraud_model, pandas UDF"
    print(f"  throughput, {unpinned}: {throughput['unpinned_without_rows_per_s']:,.0f} rows/s "
          f"scoring alone, {throughput['unpinned_with_rows_per_s']:,.0f} with monitoring: "
          f"ratio {throughput['unpinned_ratio']:.2f} ({throughput['unpinned_gross_ratio']:.2f} "
          "gross)")
    if args.pinned:
        print(f"  throughput, pinned fraud_model$1, JVM scorer: "
              f"{throughput['pinned_without_rows_per_s']:,.0f} -> "
              f"{throughput['pinned_with_rows_per_s']:,.0f} rows/s: ratio "
              f"{throughput['pinned_ratio']:.2f} ({throughput['pinned_gross_ratio']:.2f} gross)")
    print(f"  state per held prediction: hashmap {state['hashmap_bytes_per_prediction']:.0f} B "
          f"checkpointed ({state['hashmap_heap_bytes']:,.0f} B of heap), "
          f"{state['labelled_bytes_per_prediction']:.0f} B once labelled; RocksDB "
          f"{state['rocksdb_bytes_per_prediction']:.0f} B")
    print(f"  at {RATE:,} events/s, {BOUND_DAYS} days held ({HELD_AT_RATE:.3g} predictions): "
          f"{state['hashmap_gb_at_1k']:,.0f} GB per hashmap checkpoint "
          f"({state['half_labelled_gb_at_1k']:,.0f} GB half labelled), "
          f"{state['hashmap_heap_gb_at_1k']:,.0f} GB of heap; "
          f"{state['rocksdb_gb_at_1k']:,.0f} GB of RocksDB files")
    columns = ("the join already holds only the columns the query reads (an unused column "
               "added nothing)" if state["unused_column_join_bytes"] == 0 else
               "select only the columns the query needs into the scored table (an unused "
               f"column added {state['unused_column_join_bytes']:.0f} B)")
    print("  what helps: the state is rate x (label_delay + late_horizon): a 7-day delay + "
          "1-day horizon holds 8/31 of it; evaluating a sample of the predictions (a view "
          "WHERE MOD(tx_id, 10) = 0) a tenth; RocksDB keeps it on local disk instead of the "
          "heap, with incremental checkpoints so that each one uploads only what changed; "
          f"parallelism splits it by key over the slots; {columns}")
    print(summary("monitoring", rows=len(stream), **throughput, **state))


if __name__ == "__main__":
    main()

"""Boosted trees trained inside Flink tasks against single-machine training, on the same rows.

    python tests/benchmarks/distributed_trees.py [--rows 10000000] [--workers 1,2]
        [--model boosted_tree_classifier|xgboost_classifier] [--trees 50] [--no-single]
        [--jobmanager 127.0.0.1:8081]

On the embedded mini-cluster by default; with --jobmanager the distributed runs go to that
cluster (`mlsql cluster start --taskmanagers 2 --slots 1`), whose TaskManagers then hold
the JVM's share of the work (the JVM figure is the planner's own, idle one).

The rows are common.repeatable_table's: 8 hashed features and a noisy label, the same on
every scan. Each configuration runs in a process of its own, so that its figures are its
own: wall time of the CREATE MODEL, rows/s, the peak resident memory of the planner
(this Python process), of its JVM (the embedded mini-cluster's, which sorts and ships the
rows) and of each training worker (read from /proc while it lives), and the held-out
metrics ('eval_fraction' 0.2).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from common import load, repeatable_table

FEATURES = 8


def peak_rss_mib(pid: int) -> float | None:
    """The process's peak resident set (VmHWM), or None once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


class Peaks:
    """Polls the peak memory of the processes it is given until they end."""

    def __init__(self) -> None:
        self.peaks: dict[int, float] = {}
        self._stop = threading.Event()
        threading.Thread(target=self._poll, daemon=True).start()

    def watch(self, pid: int) -> None:
        self.peaks.setdefault(pid, 0.0)

    def _poll(self) -> None:
        while not self._stop.wait(0.25):
            for pid in list(self.peaks):
                value = peak_rss_mib(pid)
                if value is not None:
                    self.peaks[pid] = max(self.peaks[pid], value)

    def stop(self) -> dict[int, float]:
        self._stop.set()
        return self.peaks


def jvm_pid() -> int | None:
    """PyFlink's JVM: this process's child running java."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            command = (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue
        if int(fields[1]) == os.getpid() and b"java" in command:
            return int(stat.parent.name)
    return None


def train_once(rows: int, model_type: str, mode: str, workers: int, trees: int,
               jobmanager: str | None) -> dict:
    import mlsql

    peaks = Peaks()
    started = time.perf_counter()

    def progress(line) -> None:
        found = re.search(r"worker \d+/\d+ \(process (\d+)\)", str(line))
        if found:
            peaks.watch(int(found.group(1)))
        print(f"  [{mode} {time.perf_counter() - started:6.1f} s] {line}", file=sys.stderr,
              flush=True)

    remote = {"jobmanager": jobmanager} if jobmanager and mode == "distributed" else {}
    session = mlsql.Session(registry=tempfile.mkdtemp(prefix="mlsql-bench-"), mode="batch",
                            progress=progress, **remote)
    repeatable_table(session, "rows_table", rows, FEATURES)
    selected = ", ".join([f"f{i}" for i in range(FEATURES)] + ["label"])
    distributed = f", 'num_workers' = '{workers}'" if mode == "distributed" else ""
    started = time.perf_counter()
    session.sql(f"CREATE MODEL m WITH ('model_type' = '{model_type}', 'label' = 'label', "
                f"'num_trees' = '{trees}', 'training_mode' = '{mode}'{distributed}) "
                f"AS SELECT {selected} FROM rows_table")
    seconds = time.perf_counter() - started
    jvm = jvm_pid()
    return {"seconds": seconds, "metrics": session.registry.resolve("m").metadata["metrics"],
            "planner_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "jvm_rss_mib": peak_rss_mib(jvm) if jvm else None,
            "worker_rss_mib": sorted(peaks.stop().values())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--model", default="boosted_tree_classifier",
                        choices=["boosted_tree_classifier", "xgboost_classifier"])
    parser.add_argument("--workers", default="1,2", help="worker counts, comma-separated")
    parser.add_argument("--trees", type=int, default=50)
    parser.add_argument("--no-single", action="store_true",
                        help="skip single-machine training (rows that do not fit)")
    parser.add_argument("--jobmanager", help="train the distributed runs on this cluster")
    parser.add_argument("--child", help=argparse.SUPPRESS)  # mode:workers, in a child
    args = parser.parse_args()
    if args.child:
        mode, workers = args.child.split(":")
        print(json.dumps(train_once(args.rows, args.model, mode, int(workers), args.trees,
                                    args.jobmanager)))
        return

    where = f"the cluster at {args.jobmanager}" if args.jobmanager else "the mini-cluster"
    print(f"{args.model}, {args.rows:,} rows x {FEATURES} features, {args.trees} trees, "
          f"distributed on {where}; load {load()}")
    runs = [("distributed", int(w)) for w in args.workers.split(",")]
    if not args.no_single:
        runs.append(("single", 1))
    results = {}
    for mode, workers in runs:
        child = subprocess.run([sys.executable, __file__, "--rows", str(args.rows), "--model",
                                args.model, "--trees", str(args.trees), "--child",
                                f"{mode}:{workers}",
                                *(["--jobmanager", args.jobmanager] if args.jobmanager else [])],
                               stdout=subprocess.PIPE, text=True)
        if child.returncode != 0:
            sys.exit(f"{mode} training with {workers} worker(s) failed (output above)")
        result = json.loads(child.stdout.strip().splitlines()[-1])
        results[(mode, workers)] = result
        label = f"{mode} x{workers}" if mode == "distributed" else mode
        workers_rss = ", ".join(f"{v:,.0f}" for v in result["worker_rss_mib"]) or "-"
        print(f"{label:>15}: {result['seconds']:7.1f} s, {args.rows / result['seconds']:9,.0f} "
              f"rows/s; peak MiB planner {result['planner_rss_mib']:6,.0f}, JVM "
              f"{result['jvm_rss_mib'] or 0:6,.0f}, workers {workers_rss}; "
              + ", ".join(f"{k} {v:.4f}" for k, v in result["metrics"].items()))
    if ("single", 1) in results:
        single = results[("single", 1)]["metrics"]
        for (mode, workers), result in results.items():
            if mode == "distributed":
                worst = max(abs(result["metrics"][k] - v) for k, v in single.items())
                print(f"distributed x{workers}: largest metric difference from single-machine "
                      f"training {worst:.4f}")


if __name__ == "__main__":
    main()

"""Shared pieces of the benchmark scripts: timing, medians, the summary line, the mini-cluster's
REST API (a vertex's progress, a FULL checkpoint and its size)."""

from __future__ import annotations

import json
import os
import socket
import statistics
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


def timed(run: Callable[[], object]) -> float:
    return timed_value(run)[0]


def timed_value(run: Callable[[], T]) -> tuple[float, T]:
    started = time.perf_counter()
    value = run()
    return time.perf_counter() - started, value


def median_rate(rows: int, seconds: list[float]) -> float:
    return rows / statistics.median(seconds)


def summary(name: str, **figures: float | int | str) -> str:
    parts = [f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in figures.items()]
    return f"{name}: {' '.join(parts)}"


def datagen_table(session, name: str, rows: int, features: int, label: bool = True) -> None:
    """A bounded datagen table; a label learnable from the features, if asked."""
    columns = ", ".join(f"f{i} DOUBLE" for i in range(features))
    bounds = ", ".join(f"'fields.f{i}.min' = '0', 'fields.f{i}.max' = '1'"
                       for i in range(features))
    computed = ", label AS CASE WHEN f0 + f1 > 1.0 THEN 1 ELSE 0 END" if label else ""
    session.sql(f"CREATE TABLE {name} ({columns}{computed}) WITH ('connector' = 'datagen', "
                f"'number-of-rows' = '{rows}', 'rows-per-second' = '1000000000', {bounds})")


_PRIME = 1_000_003


def repeatable_table(session, name: str, rows: int, features: int) -> None:
    """A bounded table that returns the same rows on every scan (datagen's random fields do
    not), as training in several passes needs: features are hashes of a sequence id in
    [0, 1), the label is f0 + f1 - f2 plus hashed noise above 0.5. Select the features and
    the label; `id` is the sequence."""
    def hashed(salt: int) -> str:
        return f"CAST(MOD(id * {7_919 + 104_729 * salt} + {salt * 31}, {_PRIME}) AS DOUBLE) " \
               f"/ {_PRIME}"
    computed = ", ".join(f"f{i} AS {hashed(i + 1)}" for i in range(features))
    noise = f"({hashed(features + 1)} - 0.5E0) * 0.4E0"
    signal = f"{hashed(1)} + {hashed(2)} - {hashed(3)}"  # f0 + f1 - f2
    session.sql(f"CREATE TABLE {name} (id BIGINT, {computed}, label AS CASE WHEN "
                f"{signal} + {noise} > 0.5E0 THEN 1 ELSE 0 END) WITH ("
                f"'connector' = 'datagen', 'fields.id.kind' = 'sequence', "
                f"'fields.id.start' = '1', 'fields.id.end' = '{rows}', "
                f"'number-of-rows' = '{rows}', 'rows-per-second' = '1000000000')")


def free_port(preferred: int) -> int:
    from mlsql.services.processes import free_port as any_free_port

    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", preferred)) != 0:
            return preferred
    return any_free_port()


def busy_cpu_seconds() -> float:
    """Seconds of CPU the whole machine has spent outside idle and I/O wait."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def load() -> str:
    return f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"


def ms(value: float) -> str:
    return "inf" if value == float("inf") else f"{value:.0f}"


class JobTracker:
    """The benchmark's running jobs (`self.jobs`), cancelled when a run ends or fails."""

    jobs: list

    def start(self, session, statement: str):
        job = session.sql(statement)
        self.jobs.append(job)
        return job

    def finished(self, job) -> None:
        job.cancel()  # a no-op for a job that ended
        self.jobs.remove(job)

    def run_timed(self, session, statement: str) -> float:
        """Seconds from submitting `statement` to its job's end."""
        started = time.perf_counter()
        job = self.start(session, statement)
        job.wait()
        took = time.perf_counter() - started
        self.finished(job)
        return took

    def stop_jobs(self) -> None:
        for job in self.jobs:
            try:
                job.cancel()
            except Exception as error:  # it ended some other way
                print(f"  (cancelling job {job.job_id}: {error})", file=sys.stderr)
        self.jobs.clear()


def rest(path: str, body: dict | None = None) -> dict:
    """GET (or POST `body` to) the mini-cluster's REST API."""
    from mlsql.runtime import minicluster

    request = urllib.request.Request(
        f"http://127.0.0.1:{minicluster.started_port()}{path}",
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json"}, method="GET" if body is None else "POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def vertex_reading(job, name_part: str, rows: int, deadline: float,
                   what: str) -> tuple[dict, list[dict]]:
    """Wait until the job's vertex whose name holds `name_part` has read `rows` rows (the REST
    metrics lag up to 10 s, the fetcher's interval); that vertex, and all of them."""
    while True:
        vertices = rest(f"/jobs/{job.job_id}")["vertices"]
        vertex = next(v for v in vertices if name_part in v["name"])
        if vertex["metrics"]["read-records"] >= rows:
            return vertex, vertices
        if job.done() or time.monotonic() > deadline:
            raise RuntimeError(f"{what} read {vertex['metrics']['read-records']:,} of "
                               f"{rows:,} rows ({job.status()})")
        time.sleep(0.5)


def full_checkpoint(job, deadline: float, prefix: str = "") -> tuple[dict, int]:
    """Trigger a FULL checkpoint of a running job and wait for it: its REST details and the
    bytes of its files (read now: cancelling the job deletes them). `prefix` starts errors."""
    trigger = rest(f"/jobs/{job.job_id}/checkpoints", {"checkpointType": "FULL"})
    while True:
        status = rest(f"/jobs/{job.job_id}/checkpoints/{trigger['request-id']}")
        if status["status"]["id"] == "COMPLETED":
            break
        if time.monotonic() > deadline:
            raise RuntimeError(f"{prefix}the checkpoint did not complete: {status}")
        time.sleep(0.2)
    if "failure-cause" in status.get("operation", {}):
        raise RuntimeError(f"{prefix}the checkpoint failed: {status['operation']}")
    details = rest(f"/jobs/{job.job_id}/checkpoints/details/"
                   f"{status['operation']['checkpointId']}")
    path = Path(details["external_path"].removeprefix("file:"))
    return details, sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def finished_job_times(job, role: Callable[[str], str]) -> tuple[float, dict[str, float], list]:
    """A finished job's running seconds (its end after its last subtask started running), its
    busy seconds per `role(vertex name)` (Flink's NaN, a vertex it did not measure, as 0) and
    its vertices (a finished job's graph stays in the REST API)."""
    info = rest(f"/jobs/{job.job_id}")
    running_since, busy = 0, {}
    for vertex in info["vertices"]:
        times = rest(f"/jobs/{job.job_id}/vertices/{vertex['id']}/subtasktimes")
        running_since = max([running_since]
                            + [s["timestamps"]["RUNNING"] for s in times["subtasks"]])
        seconds = float(vertex["metrics"]["accumulated-busy-time"]) / 1000
        name = role(vertex["name"])
        busy[name] = busy.get(name, 0.0) + (0.0 if seconds != seconds else seconds)
    return (info["end-time"] - running_since) / 1000, busy, info["vertices"]

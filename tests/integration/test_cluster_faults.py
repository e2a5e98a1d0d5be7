"""Faults on a standalone cluster under the streaming jobs, and what survives them.

One cluster of two TaskManagers (`mlsql cluster start --taskmanagers 2`), one Kafka broker,
and two jobs that `mlsql run --jobmanager` submits and leaves running: a scoring job (Kafka →
ML_PREDICT of the unpinned model `swap`, which hot-swaps → Kafka, exactly-once, a checkpoint
each second) and an online-training job (`learner`, a version per minute of event time). The
tests below break one thing each, in file order, and measure how long it took until results
of events sent after the fault were visible; the last one checks what survived all of them:
every event scored exactly once, by one version, equal to a bounded ML_PREDICT of the same
events, and every online update published once, none missing.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mlsql
from mlsql.services.processes import free_port
from tests.integration.cluster_helpers import Cluster, alive, python_worker_processes
from tests.integration.kafka_helpers import (
    PacedProducer,
    TopicReader,
    checkpoints,
    run_mlsql,
    wait_for,
)
from tests.integration.stream_models import (
    START,
    WINDOW,
    event,
    first,
    history_csv,
    kafka_table,
    online_sql,
    online_versions,
    publisher_sql,
    runs,
    second,
)

pytestmark = [pytest.mark.slow, pytest.mark.kafka, pytest.mark.cluster]

TICKS_PER_SECOND = 100
RECOVERY_TIMEOUT = 240


@dataclass
class Pipeline:
    cluster: Cluster
    bootstrap: str
    broker: tuple[int, Path]  # port, data directory
    local: mlsql.Session  # on the mini-cluster: training, and the bounded check at the end
    ticks: PacedProducer
    events: PacedProducer
    scored: TopicReader
    jobs: dict[str, str] = field(default_factory=dict)  # scoring/online -> job id
    recovery: dict[str, float] = field(default_factory=dict)  # fault -> seconds
    orphans: list[int] = field(default_factory=list)  # Python workers of killed TaskManagers

    @property
    def registry(self) -> Path:
        return self.cluster.registry

    def checkpoint_dir(self, job: str) -> Path:
        return self.cluster.root / "checkpoints" / job

    def submit(self, job: str, *resume: str) -> None:
        script = (_scoring_sql(self.bootstrap, self.checkpoint_dir(job)) if job == "scoring"
                  else online_sql(self.bootstrap, self.checkpoint_dir(job)))
        submitted = self.cluster.run_sql(script, *resume)
        assert submitted.returncode == 0, submitted.stderr[-3000:]
        self.jobs[job] = re.findall(r"submitted job ([0-9a-f]{32})", submitted.stderr)[-1]

    def kill_taskmanager_of(self, job: str) -> None:
        """SIGKILL the TaskManager running the job's tasks (its Python workers may outlive
        it until `mlsql cluster stop`)."""
        taskmanager = self.cluster.job_taskmanagers(self.jobs[job]).pop()
        pid = self.cluster.taskmanager_pid(taskmanager)
        self.orphans += [worker for worker, _ in python_worker_processes(pid)]
        os.kill(pid, signal.SIGKILL)

    def publish(self, formula, name: str) -> None:
        """A version of `swap` that follows `formula` exactly."""
        self.local.sql(publisher_sql(history_csv(self.cluster.root / f"{name}.csv", formula),
                                     "SELECT x, y, z FROM history"))
        self.local.sql("DROP TABLE history")  # the next version's is another file

    def results_after(self, fault: str, started: float) -> None:
        """Wait until events sent after the fault are scored and visible (read_committed),
        and an online version is published after it; record the seconds it took."""
        sent = self.ticks.sent
        versions = len(online_versions(self.registry, "learner"))
        self.scored.read_until(lambda r: r and r[-1]["id"] > sent, RECOVERY_TIMEOUT,
                               f"results of events sent after {fault}")
        self.recovery[fault] = time.monotonic() - started
        wait_for(lambda: len(online_versions(self.registry, "learner")) > versions,
                 RECOVERY_TIMEOUT, f"an online update after {fault}")
        self.recovery[f"{fault} (online)"] = time.monotonic() - started
        print(f"{fault}: results again after {self.recovery[fault]:.1f} s, the online job's "
              f"next version after {self.recovery[f'{fault} (online)']:.1f} s")

    def add_taskmanager(self) -> None:
        added = self.cluster.mlsql("cluster", "add-taskmanager")
        assert added.returncode == 0, added.stdout + added.stderr


def _scoring_sql(bootstrap: str, checkpoint_dir: Path) -> str:
    return f"""
        SET 'execution.checkpointing.interval' = '1 s';
        SET 'execution.checkpointing.externalized-checkpoint-retention' = 'RETAIN_ON_CANCELLATION';
        SET 'execution.checkpointing.dir' = '{checkpoint_dir.as_uri()}';
        SET 'parallelism.default' = '1';
        {kafka_table("ticks", "id BIGINT, x DOUBLE, y DOUBLE", "ticks", bootstrap)};
        CREATE TABLE scored (id BIGINT, x DOUBLE, y DOUBLE, predicted_z DOUBLE,
          model_version INT) WITH ('connector' = 'kafka', 'topic' = 'scored',
          'properties.bootstrap.servers' = '{bootstrap}',
          'properties.transaction.timeout.ms' = '600000',
          'sink.delivery-guarantee' = 'exactly-once',
          'sink.transactional-id-prefix' = 'faults-scored', 'format' = 'json');
        INSERT INTO scored SELECT id, x, y, predicted_z, model_version FROM ML_PREDICT(
          TABLE ticks, MODEL swap,
          MAP['version_column', 'model_version', 'refresh_interval', '500 ms']);
        """


@pytest.fixture(scope="module")
def pipeline(broker, tmp_path_factory):
    bootstrap, port, data = broker
    root = tmp_path_factory.mktemp("faults")
    cluster = Cluster(root, free_port())
    started = cluster.mlsql("cluster", "start", "--port", str(cluster.port), "--slots", "2",
                            "--taskmanagers", "2")
    assert started.returncode == 0, started.stdout + started.stderr
    assert "TaskManagers: 2, slots: 4" in started.stdout, started.stdout
    points = np.random.default_rng(3).normal(size=(200_000, 2))  # x, y of event `id`
    ticks = PacedProducer(bootstrap, "ticks", lambda i: {
        "id": i, "x": float(points[i, 0]), "y": float(points[i, 1])}, rate=TICKS_PER_SECOND)
    # A window of event time every 1.5 s: checkpoints fall inside windows and between them.
    events = PacedProducer(bootstrap, "events_learner", event, rate=WINDOW / 1.5)
    scored = TopicReader(bootstrap, "scored", committed=True)
    local = mlsql.Session(registry=cluster.registry)
    pipeline = Pipeline(cluster, bootstrap, (port, data), local, ticks, events, scored)
    try:
        pipeline.publish(first, "first")
        pipeline.submit("scoring")
        pipeline.submit("online")
        wait_for(lambda: len(online_versions(cluster.registry, "learner")) >= 3
                 and checkpoints(pipeline.checkpoint_dir("scoring")), RECOVERY_TIMEOUT,
                 "both jobs running: three online versions and a checkpoint")
        scored.read_until(lambda r: len(r) >= 200, RECOVERY_TIMEOUT, "scored events")
        yield pipeline
    finally:
        ticks.stop()
        events.stop()
        scored.close()
        print("recovery, seconds:", {k: round(v, 1) for k, v in pipeline.recovery.items()})
        cluster.mlsql("cluster", "stop")


def test_a_killed_taskmanager_is_recovered_from_the_last_checkpoint(pipeline):
    """SIGKILL the TaskManager running the scoring job (and the online job, where the
    scheduler put both on it): they restart from their last checkpoint on the other one."""
    pipeline.kill_taskmanager_of("scoring")
    started = time.monotonic()
    pipeline.results_after("a TaskManager killed", started)
    pipeline.add_taskmanager()  # back to two, the documented way


def test_a_taskmanager_killed_as_a_hot_swap_commits_its_first_results(pipeline):
    """Killed once the first results of version 2 are committed, while more of them are in
    flight: the restored task scores the replayed events with version 2 too (it went back to
    the version it was planned with, 1, until its next refresh)."""
    pipeline.publish(second, "second")
    pipeline.scored.read_until(lambda r: r[-1]["model_version"] == 2, RECOVERY_TIMEOUT,
                               "version 2's first committed results")
    pipeline.kill_taskmanager_of("scoring")
    started = time.monotonic()
    pipeline.results_after("a TaskManager killed in a hot swap", started)
    pipeline.add_taskmanager()


def test_a_restarted_broker_loses_and_repeats_nothing(pipeline):
    port, data = pipeline.broker
    started = time.monotonic()
    stopped = run_mlsql("kafka", "stop", "--data", str(data))
    assert stopped.returncode == 0, stopped.stderr
    restarted = run_mlsql("kafka", "start", "--port", str(port), "--data", str(data))
    assert restarted.returncode == 0, restarted.stderr
    pipeline.results_after("the broker restarted", started)


def test_a_lost_jobmanager_is_recovered_by_resuming_from_the_last_checkpoint(pipeline):
    """A standalone cluster has no JobManager high availability: the way back is a new
    cluster and each job resubmitted with --resume-from its checkpoint directory."""
    cluster = pipeline.cluster
    os.kill(cluster.pid("standalonesession"), signal.SIGKILL)
    started = time.monotonic()
    stopped = cluster.mlsql("cluster", "stop")  # the orphaned TaskManagers and workers
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    # the Python workers of the TaskManagers killed above, which outlived them, end too
    assert pipeline.orphans and not any(alive(pid) for pid in pipeline.orphans)
    restarted = cluster.mlsql("cluster", "start", "--port", str(cluster.port), "--slots", "2")
    assert restarted.returncode == 0, restarted.stdout + restarted.stderr
    for job in ("scoring", "online"):
        pipeline.submit(job, "--resume-from", str(pipeline.checkpoint_dir(job)))
    pipeline.results_after("the JobManager killed", started)


def test_every_event_was_scored_once_and_every_update_published_once(pipeline):
    sent = pipeline.ticks.stop()
    pipeline.events.stop()
    rows = pipeline.scored.read_until(lambda r: len(r) >= sent, RECOVERY_TIMEOUT,
                                      "every event scored")
    by_id = sorted(rows, key=lambda r: r["id"])
    assert [r["id"] for r in by_id] == list(range(sent))  # none lost, none twice
    versions = [r["model_version"] for r in by_id]
    assert runs(versions) == [1, 2]  # each event by one version; no way back to the old one
    for r in by_id:
        formula = second if r["model_version"] == 2 else first
        assert r["predicted_z"] == pytest.approx(formula(r["x"], r["y"]), abs=1e-6)

    # The same events, scored by a bounded ML_PREDICT of each version.
    session = pipeline.local
    session.sql(kafka_table("ticks", "id BIGINT, x DOUBLE, y DOUBLE", "ticks",
                            pipeline.bootstrap)[:-1] + ", 'scan.bounded.mode' = 'latest-offset')")
    bounded = session.sql(
        "SELECT id, predicted_z, 1 AS v FROM ML_PREDICT(TABLE ticks, MODEL `swap$1`) UNION ALL "
        "SELECT id, predicted_z, 2 AS v FROM ML_PREDICT(TABLE ticks, MODEL `swap$2`)")
    streamed = pd.DataFrame(by_id).rename(columns={"model_version": "v"})
    merged = streamed.merge(bounded, on=["id", "v"], suffixes=("_stream", "_bounded"))
    assert len(merged) == sent
    assert (merged.predicted_z_stream - merged.predicted_z_bounded).abs().max() < 1e-9

    updates = online_versions(pipeline.registry, "learner")
    ends = [m["online"]["window_end"] for m in updates]
    assert len(set(ends)) == len(ends), "a window was published twice"
    assert ends == [(START + dt.timedelta(minutes=k + 1)).strftime("%Y-%m-%d %H:%M:%S")
                    for k in range(len(ends))], "a window was lost"
    assert [m["online"]["update"] for m in updates] == list(range(1, len(updates) + 1))
    assert len({m["online"]["stream"] for m in updates}) == 1  # one stream, resumed
    assert [m["rows"]["total"] for m in updates] == [WINDOW * (k + 1)
                                                     for k in range(len(updates))], \
        "a window was lost or counted twice"
    assert len(pipeline.recovery) == 8, "the tests above run first, in this order"

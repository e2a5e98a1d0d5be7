"""The embedded mini-cluster that every local job of a process shares
(mlsql.runtime.minicluster)."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

import mlsql
from mlsql.runtime import minicluster
from tests.helpers import subprocess_env

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]


def rest(port: str, path: str) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as answer:
        return json.load(answer)


def test_the_jobs_of_two_sessions_run_on_one_cluster(tmp_path):
    names = {}
    for mode in ("batch", "streaming"):
        session = mlsql.Session(registry=tmp_path / "registry", mode=mode)
        names[mode] = f"probe-{mode}-{tmp_path.name}"
        session.sql(f"SET 'pipeline.name' = '{names[mode]}'")
        rows = session.sql("SELECT x * 2 AS y FROM (VALUES (1), (2)) AS t(x)")
        assert sorted(rows["y"]) == [2, 4]
    port = minicluster.started_port()
    jobs = {job["name"]: job["state"] for job in rest(port, "/jobs/overview")["jobs"]}
    assert jobs.get(names["batch"]) == "FINISHED", jobs
    assert jobs.get(names["streaming"]) == "FINISHED", jobs


CHILD = """
import json, sys, tempfile, urllib.request
import mlsql
from mlsql.runtime import minicluster
session = mlsql.Session(registry=tempfile.mkdtemp(), mode="batch",
                        options={"taskmanager.numberOfTaskSlots": "3"})
rows = session.sql("SELECT COUNT(*) AS n FROM (VALUES (1), (2), (3)) AS t(x)")
slots = None
if minicluster.mode() == "shared":
    port = minicluster.started_port()
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/overview", timeout=10) as answer:
        slots = json.load(answer)["slots-total"]
print(json.dumps({"n": int(rows["n"][0]), "clusters": int(minicluster.started_port() is not None),
                  "slots": slots}))
"""


def run_child(mode: str) -> dict:
    done = subprocess.run([sys.executable, "-c", CHILD], cwd=REPO, capture_output=True,
                          text=True, timeout=300,
                          env=subprocess_env(PYTHONPATH=str(REPO), MLSQL_LOCAL_CLUSTER=mode))
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_starting_session_sizes_the_cluster():
    assert run_child("shared") == {"n": 3, "clusters": 1, "slots": 3}


def test_per_job_mode_runs_on_flinks_own_local_executor():
    assert run_child("per-job") == {"n": 3, "clusters": 0, "slots": None}


def test_show_jobs_and_stop_job_reach_the_local_cluster(tmp_path):
    """Flink's TableEnvironment refuses SHOW JOBS and STOP JOB; with one cluster per process
    mlsql answers them from its REST API, as for a standalone cluster."""
    session = mlsql.Session(registry=tmp_path / "registry", mode="streaming")
    session.sql(f"SET 'execution.checkpointing.savepoint-dir' = '{tmp_path.as_uri()}'")
    session.sql("CREATE TABLE ticks (n BIGINT) WITH ('connector' = 'datagen', "
                "'rows-per-second' = '20')")
    session.sql("CREATE TABLE sink (n BIGINT) WITH ('connector' = 'blackhole')")
    cancelled = session.sql("INSERT INTO sink SELECT n FROM ticks").job_id
    drained = session.sql("INSERT INTO sink SELECT n + 1 FROM ticks").job_id
    listed = session.sql("SHOW JOBS").set_index("job id")
    assert list(listed.columns) == ["job name", "status", "start time"]
    assert (listed.loc[[cancelled, drained], "status"] == "RUNNING").all(), listed
    assert session.sql(f"STOP JOB '{cancelled}'") is None
    saved = session.sql(f"STOP JOB '{drained}' WITH SAVEPOINT")
    savepoint = Path(saved["savepoint path"][0].removeprefix("file:"))
    assert (savepoint / "_metadata").exists() and savepoint.is_relative_to(tmp_path)
    states = session.sql("SHOW JOBS").set_index("job id")["status"]
    assert states[cancelled] == "CANCELED" and states[drained] == "FINISHED", states

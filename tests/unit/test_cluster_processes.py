"""`mlsql cluster stop` ends every process that inherited the cluster's FLINK_PID_DIR, such as
the Python workers of a TaskManager that was killed; nothing else. No Flink process starts:
stand-ins carry the environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from mlsql.services.cluster.local import LocalCluster


@pytest.fixture
def cluster(tmp_path, monkeypatch):
    monkeypatch.setenv("MLSQL_CACHE", str(tmp_path / "cache"))
    local = LocalCluster()
    local.root.mkdir(parents=True)
    local.pid_dir.mkdir()
    (local.root / "cluster.json").write_text(json.dumps({"port": 1, "slots": 1, "settings": {
        "rest.port": 1, "env.pid.dir": str(local.pid_dir)}}))
    return local


def _sleeper(**env: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"],
                            env={**os.environ, **env})


def test_stop_ends_what_a_killed_taskmanager_left_and_nothing_else(cluster):
    orphan = _sleeper(FLINK_PID_DIR=str(cluster.pid_dir))
    other = _sleeper(FLINK_PID_DIR=str(cluster.pid_dir) + "-another-cluster")
    try:
        deadline = time.monotonic() + 10
        while orphan.pid not in cluster._descendants():
            assert time.monotonic() < deadline, "the stand-in was not found"
            time.sleep(0.1)
        assert other.pid not in cluster._descendants()
        assert cluster.stop(timeout=10)
        assert orphan.wait(10) is not None
        assert other.poll() is None
    finally:
        for process in (orphan, other):
            process.kill()
            process.wait()

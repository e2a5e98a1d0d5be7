"""Boosted trees trained across a standalone cluster's two TaskManagers (`mlsql cluster start
--taskmanagers 2 --slots 1`): each worker runs under a different TaskManager, and the model
equals single-machine training's on the embedded mini-cluster."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from sklearn import datasets

import mlsql
from mlsql.errors import TrainingError
from mlsql.services.processes import free_port
from tests.helpers import create_csv_table
from tests.integration.cluster_helpers import Cluster, python_worker_processes

pytestmark = [pytest.mark.slow, pytest.mark.cluster]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    root = tmp_path_factory.mktemp("cluster_trees")
    cluster = Cluster(root, free_port())
    try:
        started = cluster.mlsql("cluster", "start", "--port", str(cluster.port), "--slots", "1",
                                "--taskmanagers", "2")
        assert started.returncode == 0, started.stdout + started.stderr
        assert "TaskManagers: 2, slots: 2" in started.stdout
        yield cluster
    finally:
        cluster.mlsql("cluster", "stop")


def test_each_worker_runs_under_its_own_taskmanager(cluster):
    """While the training job runs, a Python worker appears under each TaskManager (watched
    from /proc: the workers live from the job's start to its end)."""
    taskmanagers = cluster.pids("taskexecutor")
    assert len(taskmanagers) == 2
    seen: set[int] = set()
    training = threading.Event()

    def watch() -> None:
        while not training.is_set():
            seen.update(tm for tm in taskmanagers if python_worker_processes(tm))
            time.sleep(0.05)

    cancer = datasets.load_breast_cancer(as_frame=True).frame
    cancer.columns = [c.replace(" ", "_") for c in cancer.columns]
    remote = mlsql.Session(registry=cluster.registry, mode="batch", jobmanager=cluster.address)
    local = mlsql.Session(registry=cluster.registry, mode="batch")
    for session in (remote, local):
        create_csv_table(session, "cancer", cancer, cluster.root)
    before = set(cluster.jobs())
    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    remote.sql("CREATE MODEL on_cluster WITH ('model_type' = 'xgboost_classifier', "
               "'label' = 'target', 'training_mode' = 'distributed', 'num_workers' = '2', "
               "'num_trees' = '20') "
               "AS SELECT * FROM cancer")
    training.set()
    watcher.join()
    assert len(set(cluster.jobs()) - before) == 1  # the training job ran on the cluster
    assert seen == set(taskmanagers)

    local.sql("CREATE MODEL on_one_machine WITH ('model_type' = 'xgboost_classifier', "
              "'label' = 'target', 'training_mode' = 'single', 'num_trees' = '20') "
              "AS SELECT * FROM cancer")
    scored = {name: local.sql(f"SELECT probability FROM ML_PREDICT(TABLE cancer, MODEL {name})"
                              )["probability"].to_numpy(dtype=np.float64)
              for name in ("on_cluster", "on_one_machine")}
    np.testing.assert_allclose(scored["on_cluster"], scored["on_one_machine"], rtol=1e-6,
                               atol=1e-7)

    with pytest.raises(TrainingError, match=r"needs 3 free task slots at once \(.*\); "
                                            r"the cluster at .* has 2 free of 2"):
        remote.sql("CREATE OR REPLACE MODEL on_cluster WITH ('model_type' = "
                   "'boosted_tree_classifier', 'label' = 'target', 'training_mode' = "
                   "'distributed', 'num_workers' = '3') AS SELECT * FROM cancer")
    assert remote.registry.versions("on_cluster") == [1]

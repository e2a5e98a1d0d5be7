"""mlsql on a real Flink standalone cluster (`mlsql cluster start`, PyFlink's own scripts).

One cluster per module, on a free port, with its conf, logs and pid files in a cache of its
own (so a developer's `mlsql cluster` is left alone); it is stopped at the end even when a
test fails. Sessions submit with `jobmanager=`; each test checks on the cluster's REST API
that its jobs ran there, and compares what they computed with the same model run on the
embedded mini-cluster.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mlsql
from mlsql.errors import MlsqlError
from mlsql.services.processes import free_port
from tests.integration.cluster_helpers import (
    Cluster,
)
from tests.integration.cluster_helpers import (
    alive as _alive,
)
from tests.integration.cluster_helpers import (
    python_worker_processes as _python_worker_processes,
)
from tests.integration.gateway_helpers import (
    run_sql_client_script,
    start_gateway,
    stop_gateway,
    tableau_rows,
)
from tests.integration.kafka_helpers import wait_for

pytestmark = [pytest.mark.slow, pytest.mark.cluster]

ROWS = 3_000


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    root = tmp_path_factory.mktemp("cluster")
    cluster = Cluster(root, free_port())
    try:
        started = cluster.mlsql("cluster", "start", "--port", str(cluster.port), "--slots", "2")
        assert started.returncode == 0, started.stdout + started.stderr
        assert f"running at http://{cluster.address}" in started.stdout
        assert "TaskManagers: 1, slots: 2" in started.stdout
        yield cluster
    finally:
        cluster.mlsql("cluster", "stop")


@pytest.fixture(scope="module")
def sessions(cluster):
    """(a batch session on the cluster, a batch session on the mini-cluster), one registry,
    with the training tables declared in both."""
    rng = np.random.default_rng(5)
    frame = pd.DataFrame({"id": np.arange(ROWS), "a": rng.normal(size=ROWS),
                          "b": rng.normal(size=ROWS), "c": rng.choice(["x", "y", "z"], ROWS)})
    frame["label"] = ((frame.a - frame.b + (frame.c == "x") + rng.normal(scale=0.5, size=ROWS))
                      > 0.3).astype(int)
    frame["target"] = 3 * frame.a - frame.b + frame.c.map({"x": 1, "y": 0, "z": -2}) \
        + rng.normal(scale=0.1, size=ROWS)
    frame.loc[::17, "a"] = np.nan
    frame.loc[::23, "c"] = None
    path = cluster.root / "train.csv"
    frame.to_csv(path, index=False, header=False)
    remote = mlsql.Session(registry=cluster.registry, mode="batch", jobmanager=cluster.address)
    local = mlsql.Session(registry=cluster.registry, mode="batch")
    for session in (remote, local):
        session.sql(f"CREATE TABLE train (id BIGINT, a DOUBLE, b DOUBLE, c STRING, label INT, "
                    f"target DOUBLE) WITH ('connector' = 'filesystem', 'path' = '{path}', "
                    "'format' = 'csv', 'csv.null-literal' = '')")
    return remote, local


@pytest.fixture(scope="module")
def models(cluster, sessions):
    """Trained on the cluster: a logistic regression, a boosted-tree classifier, and a
    linear regression by both training modes."""
    remote, _ = sessions
    before = set(cluster.jobs())
    remote.sql("CREATE MODEL clf WITH ('model_type' = 'logistic_reg', 'label' = 'label') "
               "AS SELECT a, b, c, label FROM train")
    remote.sql("CREATE MODEL trees WITH ('model_type' = 'boosted_tree_classifier', "
               "'label' = 'label', 'num_trees' = '20') AS SELECT a, b, c, label FROM train")
    for mode in ("single", "distributed"):
        remote.sql(f"CREATE MODEL reg_{mode} WITH ('model_type' = 'linear_reg', "
                   f"'label' = 'target', 'eval_fraction' = '0', 'training_mode' = '{mode}') "
                   "AS SELECT a, b, c, target FROM train")
    return {job_id: job for job_id, job in cluster.jobs().items() if job_id not in before}


def test_training_runs_on_the_cluster(cluster, sessions, models):
    remote, _ = sessions
    names = [job["name"] for job in models.values()]
    assert all(job["state"] == "FINISHED" for job in models.values()), models
    # one extraction per in-Python fit, and the distributed fit's aggregate passes
    assert sum("__mlsql_extract_" in name for name in names) >= 5, names
    clf = remote.registry.resolve("clf")
    assert clf.metadata["rows"]["total"] == ROWS
    assert clf.metadata["metrics"]["roc_auc"] > 0.85


def test_distributed_training_on_the_cluster_matches_the_single_process_fit(sessions, models):
    remote, _ = sessions
    single, distributed = (remote.registry.resolve(f"reg_{m}") for m in ("single", "distributed"))
    assert distributed.metadata["training_mode"] == "distributed"
    assert single.metadata["training_mode"] == "single"
    for key in ("coef", "intercept"):
        np.testing.assert_allclose(np.array(_predictor(distributed)[key]),
                                   np.array(_predictor(single)[key]), rtol=1e-6, atol=1e-6)
    assert distributed.metadata["metrics"]["r2_score"] == pytest.approx(
        single.metadata["metrics"]["r2_score"], rel=1e-9)


@pytest.mark.parametrize("reference", ["MODEL clf, MAP['execution', 'sql']", "MODEL clf$1"])
def test_compiled_scoring_on_the_cluster_matches_the_mini_cluster(cluster, sessions, models,
                                                                  reference):
    remote, local = sessions
    query = (f"SELECT id, predicted_label, probability FROM ML_PREDICT(TABLE train, "
             f"{reference})")
    ours, job = _scored(cluster, remote, query)
    theirs = local.sql(query).sort_values("id").reset_index(drop=True)
    assert len(ours) == ROWS
    np.testing.assert_allclose(ours["probability"], theirs["probability"], rtol=0, atol=1e-12)
    assert (ours["predicted_label"] == theirs["predicted_label"]).all()
    assert "Python" not in cluster.plan(job)  # plain SQL expressions: no Python operator


def test_jvm_scoring_on_the_cluster_matches_the_udf(cluster, sessions, models):
    """The scorer jar travels with the job (ADD JAR) and scores on the TaskManager."""
    remote, local = sessions
    query = ("SELECT id, predicted_label, probability FROM ML_PREDICT(TABLE train, "
             "MODEL trees, MAP['execution', '{}'])")
    ours, job = _scored(cluster, remote, query.format("jvm"))
    theirs = local.sql(query.format("udf")).sort_values("id").reset_index(drop=True)
    assert len(ours) == ROWS
    np.testing.assert_allclose(ours["probability"], theirs["probability"], rtol=0, atol=1e-9)
    assert (ours["predicted_label"] == theirs["predicted_label"]).all()
    plan = cluster.plan(job)
    assert "__mlsql_jvm_scores" in plan and "Python" not in plan


@pytest.mark.parametrize("model", ["clf", "trees"])
def test_udf_scoring_runs_python_on_the_taskmanager(cluster, sessions, models, model):
    remote, local = sessions
    query = (f"SELECT id, predicted_label, probability FROM ML_PREDICT(TABLE train, "
             f"MODEL {model}, MAP['execution', 'udf'])")
    ours, job = _scored(cluster, remote, query)
    theirs = local.sql(query).sort_values("id").reset_index(drop=True)
    assert len(ours) == ROWS
    np.testing.assert_allclose(ours["probability"], theirs["probability"], rtol=0, atol=1e-9)
    assert (ours["predicted_label"] == theirs["predicted_label"]).all()
    assert "PythonCalc" in cluster.plan(job)
    # A worker the TaskManager started itself, not a call back into this process (PyFlink's
    # loopback mode, which it picks for any client it thinks local).
    log = cluster.taskmanager_log()
    assert "Python sdk harness starting" in log
    assert "loopback mode" not in log


STREAM = """
CREATE TABLE live (
  id BIGINT,
  a AS CAST(MOD(id * 7919, 1000) AS DOUBLE) / 250 - 2,
  b AS CAST(MOD(id * 104729, 1000) AS DOUBLE) / 250 - 2,
  c AS CASE MOD(id, 3) WHEN 0 THEN 'x' WHEN 1 THEN 'y' ELSE 'z' END
) WITH ('connector' = 'datagen', 'rows-per-second' = '{rate}', 'fields.id.kind' = 'sequence',
        'fields.id.start' = '1', 'fields.id.end' = '{end}'{rows});
"""
SCORE = """
CREATE TABLE scored (id BIGINT, p DOUBLE) WITH ('connector' = 'print',
                                                'print-identifier' = 'scored');
CREATE TABLE drained (id BIGINT, p DOUBLE) WITH ('connector' = 'blackhole');
INSERT INTO scored SELECT id, probability FROM ML_PREDICT(TABLE live, MODEL trees,
                                                         MAP['execution', 'udf']);
INSERT INTO drained SELECT id, probability FROM ML_PREDICT(TABLE live, MODEL clf);
"""
_PRINTED = re.compile(r"scored(?::\d+)?> \+I\[(\d+), ([^\]]+)\]")


def test_streaming_jobs_outlive_mlsql_run_and_stop_with_stop_job(cluster, sessions, models):
    remote, local = sessions
    submitted = cluster.run_sql(STREAM.format(rate=20, end=100_000, rows="") + SCORE)
    assert submitted.returncode == 0, submitted.stderr[-3000:]
    job_ids = re.findall(r"submitted job ([0-9a-f]{32})", submitted.stderr)
    assert len(job_ids) == 2, submitted.stderr
    assert "keeps running on the cluster" in submitted.stderr
    assert f"STOP JOB '<job id>';\" | mlsql run --jobmanager {cluster.address}" \
        in submitted.stderr
    scoring, draining = job_ids

    # `mlsql run` has exited; the jobs go on and score rows on the TaskManager.
    assert all(cluster.state(job) == "RUNNING" for job in job_ids)
    wait_for(lambda: len(_printed(cluster)) >= 40, 90, "rows scored after mlsql run exited")
    seen = len(_printed(cluster))
    wait_for(lambda: len(_printed(cluster)) > seen + 20, 60, "more rows scored")
    workers = _python_workers(cluster.pid("taskexecutor"))
    assert len(workers) >= 2, workers  # one per running Python job, children of the TM

    # What the TaskManager scored equals the mini-cluster's scores of the same rows.
    printed = _printed(cluster)
    last = max(printed)
    local.sql(STREAM.format(rate=1_000_000, end=last, rows=f", 'number-of-rows' = '{last}'"))
    theirs = local.sql("SELECT id, probability FROM ML_PREDICT(TABLE live, MODEL trees, "
                       "MAP['execution', 'udf'])").set_index("id")["probability"]
    ids = sorted(printed)
    np.testing.assert_allclose([printed[i] for i in ids], theirs.loc[ids].to_numpy(),
                               rtol=0, atol=1e-12)

    listed = remote.sql("SHOW JOBS")
    assert list(listed.columns) == ["job id", "job name", "status", "start time"]
    running = listed.set_index("job id").loc[job_ids]
    assert (running["status"] == "RUNNING").all(), listed
    status = cluster.mlsql("cluster", "status", "--port", str(cluster.port))
    assert "running jobs: 2" in status.stdout and scoring in status.stdout, status.stdout

    stopped = cluster.run_sql(f"STOP JOB '{scoring}';\n"
                              f"STOP JOB '{draining}' WITH SAVEPOINT;\nSHOW JOBS;",
                              "--format", "json")
    assert stopped.returncode == 0, stopped.stderr[-3000:]
    rows = [json.loads(line) for line in stopped.stdout.splitlines() if line.strip()]
    savepoint = Path(next(r["savepoint path"] for r in rows if "savepoint path" in r)
                     .removeprefix("file:"))
    assert (savepoint / "_metadata").exists()
    assert savepoint.is_relative_to(cluster.root / "savepoints")
    states = {r["job id"]: r["status"] for r in rows if "job id" in r}
    assert states[scoring] == "CANCELED" and states[draining] == "FINISHED", states
    assert cluster.state(scoring) == "CANCELED"
    assert cluster.state(draining) == "FINISHED"
    assert cluster.rest("/overview")["jobs-running"] == 0


def test_the_gateway_submits_every_session_to_the_cluster(cluster, sessions, tmp_path):
    """`mlsql gateway --jobmanager`: Flink's SQL client trains and scores on the cluster, and
    a streaming INSERT it submits outlives the client until a later session stops it."""
    train = cluster.root / "train.csv"
    ddl = (f"CREATE TABLE train (id BIGINT, a DOUBLE, b DOUBLE, c STRING, label INT, "
           f"target DOUBLE) WITH ('connector' = 'filesystem', 'path' = '{train}', "
           "'format' = 'csv', 'csv.null-literal' = '');\n")
    gateway = start_gateway(tmp_path, "--jobmanager", cluster.address)
    try:
        before = set(cluster.jobs())
        output = run_sql_client_script(gateway, (
            "SET 'sql-client.execution.result-mode' = 'tableau';\n"
            "SET 'execution.runtime-mode' = 'batch';\n" + ddl +
            "CREATE MODEL gw_clf WITH ('model_type' = 'logistic_reg', 'label' = 'label') "
            "AS SELECT a, b, c, label FROM train;\n"
            "SELECT COUNT(*) AS scored FROM ML_PREDICT(TABLE train, MODEL gw_clf);\n"),
            tmp_path, "batch.sql")
        assert "[ERROR]" not in output, output[-3000:]
        assert [str(ROWS)] in tableau_rows(output, 1)
        batch_jobs = set(cluster.jobs()) - before
        assert len(batch_jobs) >= 2  # the training extraction and the scoring query
        assert all(cluster.state(job) == "FINISHED" for job in batch_jobs)

        output = run_sql_client_script(gateway, (
            "CREATE TABLE live (a DOUBLE, b DOUBLE, c STRING) WITH ('connector' = 'datagen', "
            "'rows-per-second' = '10', 'fields.c.length' = '1');\n"
            "CREATE TABLE sink (p DOUBLE) WITH ('connector' = 'blackhole');\n"
            "INSERT INTO sink SELECT probability FROM ML_PREDICT(TABLE live, MODEL gw_clf);\n"),
            tmp_path, "stream.sql")
        (job,) = re.findall(r"Job ID: ([0-9a-f]{32})", output)
        wait_for(lambda: cluster.state(job) == "RUNNING", 60, "the INSERT job running")
        time.sleep(3)  # the client has exited and its session closed: the job goes on
        assert cluster.state(job) == "RUNNING"
        output = run_sql_client_script(gateway, (
            "SET 'sql-client.execution.result-mode' = 'tableau';\n"
            f"SHOW JOBS;\nSTOP JOB '{job}';\n"), tmp_path, "stop.sql")
        assert any(row[0] == job and row[2] == "RUNNING" for row in tableau_rows(output, 4))
        wait_for(lambda: cluster.state(job) == "CANCELED", 60, "the job canceled")
    finally:
        stop_gateway(gateway)


def test_a_second_start_finds_the_cluster_running(cluster):
    again = cluster.mlsql("cluster", "start", "--port", str(cluster.port))
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("already running:")
    assert "started by mlsql" in again.stdout
    elsewhere = cluster.mlsql("cluster", "start", "--port", str(free_port()))
    assert elsewhere.returncode == 1
    assert f"already runs on port {cluster.port}" in elsewhere.stderr


def test_nothing_listening_is_a_plain_error_before_anything_runs(cluster, sessions):
    port = free_port()
    with pytest.raises(MlsqlError, match=f"no Flink JobManager at 127.0.0.1:{port}: nothing "
                                         "answers .*mlsql cluster start --port"):
        mlsql.Session(registry=cluster.root / "unused", jobmanager=f"127.0.0.1:{port}")
    assert not (cluster.root / "unused").exists()  # refused before the registry was made
    failed = cluster.mlsql("run", "--jobmanager", f"127.0.0.1:{port}", "-",
                           stdin="SELECT 1;")
    assert failed.returncode == 1
    assert f"error: no Flink JobManager at 127.0.0.1:{port}" in failed.stderr
    assert "Traceback" not in failed.stderr
    remote, _ = sessions
    with pytest.raises(MlsqlError, match="'not-a-job' is not a Flink job id"):
        remote.sql("STOP JOB 'not-a-job'")
    with pytest.raises(MlsqlError, match=r"the cluster has no job 0{32}"):
        remote.sql(f"STOP JOB '{'0' * 32}'")


def test_stop_ends_every_process(cluster):
    pids = [pid for daemon in ("standalonesession", "taskexecutor")
            for pid in cluster.pids(daemon)]
    stopped = cluster.mlsql("cluster", "stop")
    assert stopped.returncode == 0 and "Flink cluster stopped" in stopped.stdout
    assert not any(_alive(pid) for pid in pids)
    status = cluster.mlsql("cluster", "status", "--port", str(cluster.port))
    assert status.returncode == 3
    assert f"no Flink cluster is running on {cluster.address}" in status.stdout


def _scored(cluster: Cluster, session, query: str) -> tuple[pd.DataFrame, str]:
    """The query's rows by id, and the id of the cluster job that computed them."""
    before = set(cluster.jobs())
    frame = session.sql(query).sort_values("id").reset_index(drop=True)
    new = [job for job in cluster.jobs() if job not in before]
    assert len(new) == 1, new
    return frame, new[0]


def _printed(cluster: Cluster) -> dict[int, float]:
    return {int(i): float(p) for i, p in _PRINTED.findall(cluster.taskmanager_log("out"))}


def _python_workers(parent: int) -> list[str]:
    """Command lines of PyFlink Python workers below process `parent`."""
    return [command for _, command in _python_worker_processes(parent)]


def _predictor(version) -> dict:
    return json.loads((version.path / "predictor.json").read_text())


@pytest.mark.parametrize(("text", "expected"), [
    ("127.0.0.1:8081", ("127.0.0.1", 8081)),
    ("flink-jm", ("flink-jm", 8081)),
    ("http://jm.example:9000/", ("jm.example", 9000)),
    ("[::1]:8082", ("::1", 8082)),
])
def test_jobmanager_addresses(text, expected):
    from mlsql.services.cluster import parse_address

    address = parse_address(text)
    assert (address.host, address.port) == expected
    assert parse_address(str(address)) == address


@pytest.mark.parametrize("text", ["127.0.0.1:", "127.0.0.1:port", ":8081", "host:70000"])
def test_bad_jobmanager_addresses(text):
    from mlsql.services.cluster import parse_address

    with pytest.raises(MlsqlError, match="a JobManager address is HOST:PORT"):
        parse_address(text)

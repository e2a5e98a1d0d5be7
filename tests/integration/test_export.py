"""`mlsql explain` and `mlsql compile`: the rewritten job runs on PyFlink without mlsql."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlsql.services.processes import free_port
from tests.helpers import subprocess_env

pytestmark = pytest.mark.slow
MLSQL = Path(sys.executable).with_name("mlsql")
RUNNER = Path(__file__).with_name("plain_flink_runner.py")


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    result = subprocess.run([*args], cwd=cwd, env=subprocess_env(), capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    root = tmp_path_factory.mktemp("export")
    rng = np.random.default_rng(6)
    frame = pd.DataFrame({"id": np.arange(400), "a": rng.normal(size=400),
                          "c": rng.choice(["p", "q"], 400)})
    frame["y"] = ((frame["a"] > 0) ^ (frame["c"] == "p")).astype(int)
    frame.to_csv(root / "rows.csv", index=False, header=False)
    table = (f"CREATE TABLE rows_t (id BIGINT, a DOUBLE, c STRING, y INT) WITH ("
             f"'connector' = 'filesystem', 'path' = '{root}/rows.csv', 'format' = 'csv');\n")
    (root / "train.sql").write_text(
        "SET 'execution.runtime-mode' = 'batch';\n" + table +
        "CREATE MODEL exp_lr WITH ('model_type' = 'logistic_reg', 'label' = 'y') "
        "AS SELECT a, c, y FROM rows_t;\n"
        "CREATE MODEL exp_gbt WITH ('model_type' = 'boosted_tree_classifier', 'label' = 'y', "
        "'num_trees' = '20', 'min_data_in_leaf' = '5') AS SELECT a, c, y FROM rows_t;\n")
    _run(str(MLSQL), "run", "train.sql", "--registry", "reg", cwd=root)
    (root / "score.sql").write_text(
        "SET 'execution.runtime-mode' = 'batch';\n" + table +
        "SELECT id, predicted_y, probability FROM ML_PREDICT(TABLE rows_t, MODEL exp_lr) "
        "ORDER BY id;\n"
        "SELECT id, predicted_y, probability FROM ML_PREDICT(TABLE rows_t, MODEL exp_gbt, "
        "MAP['execution', 'udf']) ORDER BY id;\n"
        "SELECT id, predicted_y, probability FROM ML_PREDICT(TABLE rows_t, MODEL exp_gbt) "
        "ORDER BY id;\n")  # trees under 'auto': the JVM scorer
    return root


def test_explain_prints_the_rewritten_sql_and_flinks_plan(workdir):
    (workdir / "explain.sql").write_text(
        (workdir / "score.sql").read_text()
        + "CREATE MODEL not_exported WITH ('model_type' = 'kmeans') AS SELECT a FROM rows_t;\n")
    out = _run(str(MLSQL), "explain", "explain.sql", "--registry", "reg", cwd=workdir).stdout
    assert "FROM ML_PREDICT" not in out and "1E0 / (1E0 + EXP(" in out
    assert "== Optimized Physical Plan ==" in out and "PythonCalc" in out
    assert "-- line 6: run by mlsql, no Flink SQL form\n-- CREATE MODEL not_exported" in out
    assert "__mlsql_jvm_scores(" in out  # the trees under auto
    assert not (workdir / "reg" / "not_exported").exists()  # nothing was trained


@pytest.fixture(scope="module")
def compiled(workdir) -> str:
    """score.sql compiled into job/ once, and the rows `mlsql run score.sql` prints (CSV)."""
    _run(str(MLSQL), "compile", "score.sql", "--registry", "reg", "-o", "job", cwd=workdir)
    return _run(str(MLSQL), "run", "score.sql", "--registry", "reg", "--format", "csv",
                cwd=workdir).stdout


def test_compiled_job_runs_without_mlsql_and_agrees(workdir, compiled):
    job = (workdir / "job" / "job.sql").read_text()
    assert "ML_PREDICT" not in job.replace("-- CREATE MODEL", "")
    assert "LANGUAGE PYTHON" in job and (workdir / "job" / "models" / "exp_gbt").is_dir()
    assert "LANGUAGE JAVA" in job and re.search(r"ADD JAR '[^']*/job/mlsql-jvm-\w+\.jar'", job)
    assert str(workdir / "reg") not in job  # the JVM scorer reads the copied version
    plain = _run(sys.executable, str(RUNNER), "job/job.sql", cwd=workdir).stdout
    assert plain.count("\n") == 3 * 401 and plain == compiled


def test_compiled_job_runs_unchanged_in_flinks_sql_client(workdir, compiled):
    """Flink's own SQL client (embedded mode, an in-process mini-cluster) runs job.sql as
    written and prints the same rows mlsql does."""
    client = _run(str(MLSQL), "sql-client", "-Dexecution.target=local",
                  f"-Drest.port={free_port()}", "-f", "job/job.sql", cwd=workdir).stdout
    assert "[ERROR]" not in client, client[-3000:]
    rows = [[cell.strip() for cell in line.strip().strip("|").split("|")]
            for line in client.splitlines() if re.match(r"^\|\s+\d+ \|", line)]
    printed = pd.DataFrame(rows, columns=["id", "predicted_y", "probability"]).astype(float)
    expected = pd.read_csv(io.StringIO(compiled), dtype=str)  # a header per query
    expected = expected[expected["id"] != "id"].astype(float)
    assert len(printed) == len(expected) == 1_200
    np.testing.assert_allclose(printed.to_numpy(), expected.to_numpy(), rtol=1e-12)

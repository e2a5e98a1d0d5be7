"""The `mlsql` command, run as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.helpers import subprocess_env

pytestmark = pytest.mark.slow
MLSQL = Path(sys.executable).with_name("mlsql")


def _mlsql(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = subprocess_env(MLSQL_REGISTRY=str(cwd / "default-registry"))
    return subprocess.run([str(MLSQL), *args], cwd=cwd, env=env, input=stdin,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    rng = np.random.default_rng(2)
    frame = pd.DataFrame({"a": rng.normal(size=300), "b": rng.choice(["x", "y"], 300)})
    frame["label"] = ((frame["a"] > 0) ^ (frame["b"] == "x")).astype(int)
    frame.to_csv(root / "train.csv", index=False, header=False)
    table = ("CREATE TABLE train (a DOUBLE, b STRING, label INT) WITH ("
             "'connector' = 'filesystem', 'path' = 'train.csv', 'format' = 'csv');\n")
    (root / "train.sql").write_text(
        "SET 'execution.runtime-mode' = 'batch';\n" + table +
        "CREATE MODEL cli_model WITH ('model_type' = 'boosted_tree_classifier', "
        "'label' = 'label', 'num_trees' = '20', 'min_data_in_leaf' = '5') AS SELECT * FROM train;\n"
        "SELECT label, predicted_label FROM ML_PREDICT(TABLE train, MODEL cli_model) "
        "ORDER BY a LIMIT 3;\n")
    return root


def test_console_script_is_installed():
    assert MLSQL.exists(), "pip install should create the mlsql console script"


def test_run_trains_scores_and_lists(workdir):
    run = _mlsql("run", "train.sql", "--registry", "reg", "--format", "csv", cwd=workdir)
    assert run.returncode == 0, run.stderr
    assert "extracted 300 rows" in run.stderr  # progress goes to stderr
    assert "boosting: 20/20 trees" in run.stderr
    lines = run.stdout.strip().splitlines()
    assert lines[0].startswith("model,version,model_type")
    assert lines[1].startswith("cli_model,1,boosted_tree_classifier")
    assert lines[-4] == "label,predicted_label" and len(lines) == 6

    models = _mlsql("models", "--registry", "reg", "--format", "json", cwd=workdir)
    assert models.returncode == 0, models.stderr
    (row,) = [json.loads(line) for line in models.stdout.splitlines()]
    assert row["model"] == "cli_model" and row["version"] == 1 and row["label"] == "label"


def test_table_format_and_default_registry(workdir):
    run = _mlsql("run", "-", cwd=workdir, stdin="SHOW MODELS;")
    assert run.returncode == 0, run.stderr
    assert "(no rows)" in run.stdout  # MLSQL_REGISTRY points at an empty registry


def test_errors_go_to_stderr_with_a_nonzero_exit(workdir):
    (workdir / "bad.sql").write_text("SHOW MODELS;\nSELECT * FROM ML_PREDICT(TABLE t MODEL m)")
    run = _mlsql("run", "bad.sql", cwd=workdir)
    assert run.returncode == 1
    assert run.stdout == ""  # a syntax error stops the script before anything runs
    assert "line 2, column 34" in run.stderr and "^" in run.stderr

    missing = _mlsql("run", "nope.sql", cwd=workdir)
    assert missing.returncode == 1 and "cannot read nope.sql" in missing.stderr

    unknown = _mlsql("run", "-", "--registry", "reg", cwd=workdir,
                     stdin="CREATE TABLE t (a DOUBLE) WITH ('connector' = 'datagen');\n"
                           "SELECT * FROM ML_PREDICT(TABLE t, MODEL cli_modle)")
    assert unknown.returncode == 1
    assert "did you mean 'cli_model'" in unknown.stderr


def test_script_variables_fill_the_sql_and_a_missing_one_stops_it_first(workdir):
    (workdir / "vars.sql").write_text(
        "SET 'execution.runtime-mode' = 'batch';\n"
        "SELECT x * {{ factor }} AS y, '{{ tag }}' AS tag FROM (VALUES (1), (2)) AS t(x)\n"
        "{% if descending %}ORDER BY y DESC{% endif %};\n")
    run = _mlsql("run", "vars.sql", "--format", "csv", "--var", "factor=10",
                 "--var", "tag=a=b", "--var", "descending=yes", cwd=workdir)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["y,tag", "20,a=b", "10,a=b"]

    # Rendered before any JVM starts, in every command that reads a script.
    for command in ("run", "explain", "compile"):
        extra = ("-o", "job-vars") if command == "compile" else ()
        missing = _mlsql(command, "vars.sql", *extra, "--var", "factor=10", cwd=workdir)
        assert missing.returncode == 1 and missing.stdout == "", command
        assert "vars.sql, line 2: 'tag' is undefined; give it with --var" in missing.stderr

"""mlsql models in Flink's own ML_PREDICT, run by the real `sql-client.sh`.

Models trained by mlsql are scored by mlsql's ML_PREDICT (the Python UDF path), then
`mlsql compile --predict flink` writes the same queries as Flink's built-in ML_PREDICT over
mlsql's model provider (`CREATE TEMPORARY MODEL ... WITH ('provider' = 'mlsql', ...)`, ADD
JAR of mlsql's jar); PyFlink's bin/sql-client.sh runs that job.sql in embedded mode against a
standalone cluster (`mlsql cluster start`, its own port and cache), with no mlsql process
and no Python in the job. One cluster and one client run serve every model; the script ends
with a model whose OUTPUT the version lacks, which the client must report.
"""

from __future__ import annotations

import contextlib
import io
import re
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mlsql
from mlsql.cli import main as cli
from mlsql.errors import MlsqlError
from mlsql.export import compile_job
from mlsql.services.processes import free_port
from tests.helpers import create_csv_table, subprocess_env
from tests.integration.kafka_helpers import MLSQL

pytestmark = [pytest.mark.slow, pytest.mark.cluster]

SCORE_TYPES = {"id": "BIGINT", "a": "DOUBLE", "b": "BIGINT", "c": "STRING", "flag": "BOOLEAN"}
# tag -> (the query's ML_PREDICT, the output columns); the tag is the first column of every
# result, so the client's tables can be told apart.
QUERIES = {
    "lr": ("ML_PREDICT(TABLE score, MODEL lr)", ["predicted_y", "probability"]),
    "gbt": ("ML_PREDICT(TABLE score, MODEL gbt$1, DESCRIPTOR(a, b, c))",
            ["predicted_k", "probability"]),
    "km": ("ML_PREDICT(TABLE score, MODEL km, DESCRIPTOR(a, b))", ["cluster_id", "distance"]),
    "reg": ("ML_PREDICT(TABLE score, MODEL reg)", ["predicted_t"]),
    # a view's columns, b as a DECIMAL (Flink's CAST to DOUBLE, as the Python path reads it)
    "regd": ("ML_PREDICT(TABLE score_dec, MODEL reg)", ["predicted_t"]),
}
SCORE_VIEW = ("CREATE VIEW score_dec AS SELECT id, a / 3 AS a, CAST(b / 7.0 AS DECIMAL(12, 5)) "
              "AS b, c FROM score")
BAD_OUTPUT = "predicted_z"


def _frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(11)
    n = 300
    train = pd.DataFrame({"a": rng.normal(size=n), "b": rng.integers(0, 10, n).astype("int32"),
                          "c": rng.choice(["x", "y", "z"], n), "flag": rng.random(n) < 0.4})
    logit = train.a + (train.c == "x") - 0.2 * train.b + train.flag
    train["y"] = (logit + rng.normal(scale=0.5, size=n) > 0).astype("int32")
    train["k"] = np.where(train.y == 1, "hi", np.where(train.a > 0, "mid", "lo"))
    train["t"] = 2 * train.a - train.b + (train.c == "y") + rng.normal(size=n)
    train.loc[::7, "a"] = np.nan
    train.loc[::11, "c"] = None
    m = 40
    score = pd.DataFrame({"id": np.arange(m), "a": rng.normal(size=m) * 2,
                          "b": rng.integers(-3, 14, m), "c": rng.choice(["x", "y", "z", "w"], m),
                          "flag": rng.random(m) < 0.5})
    score.loc[::5, "a"] = np.nan  # NULLs take the training mean
    score.loc[::6, "c"] = None  # NULL and the unseen "w": no category
    return train, score


def _script(score_csv: Path) -> str:
    columns = ", ".join(f"{name} {kind}" for name, kind in SCORE_TYPES.items())
    lines = ["SET 'execution.runtime-mode' = 'streaming';",
             f"CREATE TABLE score ({columns}) WITH ('connector' = 'filesystem', "
             f"'path' = '{score_csv}', 'format' = 'csv', 'csv.null-literal' = '');",
             f"{SCORE_VIEW};"]
    for tag, (call, outputs) in QUERIES.items():
        lines.append(f"SELECT '{tag}' AS tag, id, {', '.join(outputs)} FROM {call};")
    return "\n".join(lines) + "\n"


class Setup:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.registry = root / "registry"
        self.port = free_port()
        self.cluster_env = subprocess_env(MLSQL_CACHE=str(root / "cache"))

    def start_cluster(self) -> None:
        """`mlsql cluster start` in the background: it boots while the models train."""
        self.starting = subprocess.Popen(
            [str(MLSQL), "cluster", "start", "--port", str(self.port), "--slots", "2",
             "--timeout", "150"], env=self.cluster_env, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True)
        self.running = True

    def wait_for_cluster(self) -> None:
        output, _ = self.starting.communicate(timeout=200)
        assert self.starting.returncode == 0, output
        assert f"running at http://127.0.0.1:{self.port}" in output, output

    def stop_cluster(self) -> None:
        if not self.running:
            return
        if self.starting.poll() is None:
            self.starting.communicate(timeout=200)
        subprocess.run([str(MLSQL), "cluster", "stop"], env=self.cluster_env,
                       capture_output=True, text=True, timeout=180)
        self.running = False


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """Trained models, their scores by mlsql's own ML_PREDICT, the compiled job, and a
    standalone cluster started meanwhile (stopped once the client ran, or at the end)."""
    setup = Setup(tmp_path_factory.mktemp("provider"))
    setup.start_cluster()
    try:
        yield _prepare(setup)
    finally:
        setup.stop_cluster()


def _prepare(setup: Setup) -> Setup:
    train, score = _frames()
    setup.score = score
    session = mlsql.Session(registry=setup.registry, mode="batch")
    create_csv_table(session, "train", train, setup.root)
    create_csv_table(session, "score", score, setup.root, types=SCORE_TYPES)
    session.sql("CREATE MODEL lr WITH ('model_type' = 'logistic_reg', 'label' = 'y') "
                "AS SELECT a, b, c, flag, y FROM train")
    session.sql("CREATE MODEL gbt WITH ('model_type' = 'boosted_tree_classifier', "
                "'label' = 'k', 'num_trees' = '15') AS SELECT a, b, c, k FROM train")
    session.sql("CREATE MODEL km WITH ('model_type' = 'kmeans', 'num_clusters' = '4') "
                "AS SELECT a, b FROM train")
    session.sql("CREATE MODEL reg WITH ('model_type' = 'linear_reg', 'label' = 't') "
                "AS SELECT a, b, c, t FROM train")
    # What the provider does not serve: an algorithm without a Java scorer, a TRANSFORM.
    session.sql("CREATE MODEL nb WITH ('model_type' = 'naive_bayes', 'label' = 'y') "
                "AS SELECT a, b, y FROM train")
    session.sql("CREATE MODEL tr TRANSFORM (ML_STANDARD_SCALER(a) OVER () AS a_z, c, y) "
                "WITH ('model_type' = 'logistic_reg', 'label' = 'y') AS SELECT * FROM train")
    session.sql(SCORE_VIEW)
    setup.session = session
    setup.expected = {
        tag: session.sql(f"SELECT id, {', '.join(outputs)} FROM "
                         f"{call[:-1]}, MAP['execution', 'udf'])").sort_values("id")
        .reset_index(drop=True)
        for tag, (call, outputs) in QUERIES.items()}
    source = setup.root / "score.sql"
    source.write_text(_script(setup.root / "score.csv"))
    setup.out = setup.root / "job"
    # `mlsql compile`, in this process (its JVM is warm); its progress goes to stderr.
    progress = io.StringIO()
    with contextlib.redirect_stderr(progress):
        code = cli.main(["compile", str(source), "-o", str(setup.out), "--predict", "flink",
                         "--registry", str(setup.registry)])
    setup.compile_output = progress.getvalue()
    assert code == 0, setup.compile_output
    return setup


@pytest.fixture(scope="module")
def client_run(setup):
    """job.sql, then a model whose OUTPUT the version lacks, run once by sql-client.sh."""
    job = (setup.out / "job.sql").read_text()
    model = setup.out / "models" / "lr" / "v1"
    script = setup.root / "client.sql"
    script.write_text(
        job + "\nCREATE TEMPORARY MODEL bad INPUT (a DOUBLE, b BIGINT, c STRING, flag BOOLEAN) "
        f"OUTPUT ({BAD_OUTPUT} INT, probability DOUBLE) "
        f"WITH ('provider' = 'mlsql', 'path' = 'file://{model}');\n"
        "SELECT * FROM ML_PREDICT(TABLE score, MODEL bad, DESCRIPTOR(a, b, c, flag));\n")
    try:
        setup.wait_for_cluster()
        result = subprocess.run(
            [str(MLSQL), "sql-client", "-D", f"rest.port={setup.port}", "-f", str(script)],
            env=subprocess_env(), capture_output=True, text=True, timeout=300,
            cwd=setup.root)
    finally:
        setup.stop_cluster()
    output = result.stdout + result.stderr
    (setup.root / "client.out").write_text(output)
    return output


def _results(output: str) -> dict[str, pd.DataFrame]:
    """The client's tableau rows, by their tag column."""
    rows: dict[str, list[list[str]]] = {}
    for line in output.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.lstrip().startswith("|") and len(cells) > 2 and cells[1] in QUERIES:
            rows.setdefault(cells[1], []).append(cells[2:])
    frames = {}
    for tag, (_, outputs) in QUERIES.items():
        frame = pd.DataFrame(rows.get(tag, []), columns=["id", *outputs])
        frames[tag] = frame.astype({"id": "int64"}).sort_values("id").reset_index(drop=True)
    return frames


def test_the_compiled_job_uses_flinks_ml_predict_and_mlsqls_provider(setup):
    job = (setup.out / "job.sql").read_text()
    assert re.search(r"ADD JAR '[^']*/job/mlsql-jvm-\w+\.jar';", job)
    # one model per version and INPUT types: reg is read with a DECIMAL b from the view
    assert job.count("CREATE TEMPORARY MODEL") == len(QUERIES)
    assert job.count("'provider' = 'mlsql'") == len(QUERIES)
    assert "MODEL `mlsql_reg_v1_2`" in job
    assert "INPUT (`a` DOUBLE, `b` DECIMAL(12, 5), `c` STRING)" in job
    assert "ML_PREDICT(TABLE score, MODEL `mlsql_gbt_v1`, DESCRIPTOR(`a`, `b`, `c`))" in job
    assert "INPUT (`a` DOUBLE, `b` BIGINT, `c` STRING, `flag` BOOLEAN)" in job
    assert "OUTPUT (`predicted_k` STRING, `probability` DOUBLE)" in job
    assert "python" not in job.lower()  # nothing for a Python worker
    for name in ("lr", "gbt", "km", "reg"):
        assert (setup.out / "models" / name / "v1" / "predictor.json").exists()
    # an unpinned model keeps the version it was compiled with
    assert "scores 'lr' version 1" in setup.compile_output


def test_flinks_ml_predict_matches_mlsqls_python_scoring(setup, client_run):
    results = _results(client_run)
    for tag, (_, outputs) in QUERIES.items():
        ours, expected = results[tag], setup.expected[tag]
        assert len(ours) == len(setup.score), (tag, client_run[-3000:])
        assert (ours["id"].to_numpy() == expected["id"].to_numpy()).all()
        for column in outputs:
            if expected[column].dtype.kind == "f":
                worst = np.abs(ours[column].astype(float) - expected[column]).max()
                print(f"{tag}.{column}: largest difference {worst:.3g}")
                np.testing.assert_allclose(ours[column].astype(float), expected[column],
                                           rtol=0, atol=1e-9, err_msg=f"{tag}.{column}")
            else:
                assert list(ours[column]) == [str(v) for v in expected[column]], (tag, column)
    # the labels really vary, and NULL inputs were scored
    assert results["gbt"]["predicted_k"].nunique() > 1
    assert results["km"]["cluster_id"].nunique() > 1


def test_the_provider_reports_an_output_the_model_lacks(client_run):
    assert "[ERROR]" in client_run
    message = re.sub(r"\x1b\[[0-9;]*m", "", client_run)
    assert ("mlsql model default_catalog.default_database.bad ('path' = 'file://"
            in message)
    assert (f"OUTPUT column {BAD_OUTPUT} is not an output of the model; its outputs are "
            "predicted_y INT, probability DOUBLE") in message


def test_models_are_declared_before_a_statement_set(setup, tmp_path):
    session = mlsql.Session(registry=setup.registry)
    create_csv_table(session, "score", setup.score, tmp_path, types=SCORE_TYPES)
    script = ("CREATE TABLE sink (id BIGINT, cluster_id INT) WITH ('connector' = 'blackhole');\n"
              "BEGIN STATEMENT SET;\n"
              "INSERT INTO sink SELECT id, cluster_id FROM ML_PREDICT(TABLE score, MODEL km$1);\n"
              "END;\n")
    job = compile_job(session, script, tmp_path / "job", "flink").read_text()
    assert job.index("CREATE TEMPORARY MODEL `mlsql_km_v1`") < job.index("BEGIN STATEMENT SET")
    inside = job[job.index("BEGIN STATEMENT SET") : job.index("END;")]
    assert "CREATE" not in inside
    assert "ML_PREDICT(TABLE score, MODEL `mlsql_km_v1`, DESCRIPTOR(`a`, `b`))" in inside


REFUSALS = {
    "batch": ("lr", "runs only in streaming mode"),
    "challenger": ("lr, MAP['challenger', 'reg']",
                   "MAP['challenger', ...] has no form in Flink's ML_PREDICT"),
    "algorithm": ("nb", "mlsql's model provider cannot serve model 'nb'"),
    "transform": ("tr", "model 'tr' has a TRANSFORM"),
    "updating": ("reg", "table totals is updating (changelog mode [I,UA])"),
}


@pytest.mark.parametrize("problem", list(REFUSALS))
def test_what_flinks_ml_predict_cannot_say_is_refused(setup, tmp_path, problem):
    session = mlsql.Session(registry=setup.registry,
                            mode="batch" if problem == "batch" else "streaming")
    create_csv_table(session, "score", setup.score, tmp_path, types=SCORE_TYPES)
    model, message = REFUSALS[problem]
    table = "score"
    script = ""
    if problem == "updating":
        table = "totals"
        script = ("CREATE VIEW totals AS SELECT c, AVG(a) AS a, MAX(b) AS b FROM score "
                  "GROUP BY c;\n")
    script += f"SELECT * FROM ML_PREDICT(TABLE {table}, MODEL {model});"
    with pytest.raises(MlsqlError, match=re.escape(message)):
        compile_job(session, script, tmp_path / "job", "flink")


# The provider's checks, planned in this process's own Flink (no job runs): each CREATE
# TEMPORARY MODEL's INPUT/OUTPUT/options against the version, and the message it gives.
PROVIDER_ERRORS = {
    "input count": ("lr", "a DOUBLE, b BIGINT", "probability DOUBLE", "",
                    "the model takes 4 inputs (a DOUBLE numeric, b INT numeric, c STRING "
                    "categorical, flag BOOLEAN numeric) but INPUT declares 2 columns"),
    "input kind": ("reg", "a DOUBLE, b BIGINT, n BIGINT", "predicted_t DOUBLE", "",
                   "INPUT column n (position 3) is BIGINT, but the model's input c is "
                   "categorical (STRING): declare it STRING"),
    "output type": ("gbt", "a DOUBLE, b BIGINT, c STRING", "predicted_k INT", "",
                    "OUTPUT column predicted_k is declared INT, but the model outputs it as "
                    "STRING; declare it STRING"),
    "algorithm": ("nb", "a DOUBLE, b BIGINT", "predicted_y INT", "",
                  "which the mlsql provider does not score"),
    "no version": ("km/v7", "a DOUBLE, b BIGINT", "distance DOUBLE", "",
                   "there is no model version at"),
    "option": ("km", "a DOUBLE, b BIGINT", "distance DOUBLE", ", 'paht' = 'x'",
               "Unsupported options found for 'mlsql'"),
}


@pytest.mark.parametrize("case", list(PROVIDER_ERRORS))
def test_the_provider_checks_the_declaration_against_the_version(setup, case):
    from pyflink.table import EnvironmentSettings, TableEnvironment

    from mlsql.jvm.build import scorer_jar

    model, inputs, outputs, options, message = PROVIDER_ERRORS[case]
    path = setup.registry / (model if "/" in model else f"{model}/v1")
    env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    env.execute_sql(f"ADD JAR '{scorer_jar()}'")
    env.execute_sql("CREATE TABLE score (a DOUBLE, b BIGINT, c STRING, n BIGINT) "
                    "WITH ('connector' = 'datagen', 'number-of-rows' = '1')")
    env.execute_sql(f"CREATE TEMPORARY MODEL m INPUT ({inputs}) OUTPUT ({outputs}) WITH "
                    f"('provider' = 'mlsql', 'path' = '{path}'{options})")
    columns = ", ".join(column.split()[0] for column in inputs.split(", "))
    with pytest.raises(Exception, match=re.escape(message)):
        env.explain_sql(f"SELECT * FROM ML_PREDICT(TABLE score, MODEL m, "
                        f"DESCRIPTOR({columns}))")

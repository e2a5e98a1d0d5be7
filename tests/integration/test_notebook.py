"""The magics and the example notebook in a real Jupyter kernel (nbclient, jupyter_client).

One kernel serves the magic tests, cell by cell, as a user would run them; the example
notebook runs top to bottom in a fresh kernel of its own. The kernel is the venv's Python,
through a kernelspec in a temporary directory (nothing is written under ~).
"""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

from tests.helpers import subprocess_env

pytestmark = [pytest.mark.slow, pytest.mark.notebook]

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "examples" / "notebooks" / "fraud.ipynb"
KERNEL = "mlsql-test"


def _kernel_manager(tmp: Path) -> KernelManager:
    spec = tmp / "kernels" / KERNEL
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "mlsql test", "language": "python"}))
    specs = KernelSpecManager(kernel_dirs=[str(tmp / "kernels")], ensure_native_kernel=False)
    return KernelManager(kernel_name=KERNEL, kernel_spec_manager=specs)


def _client(notebook: nbformat.NotebookNode, tmp: Path, cwd: Path,
            **options) -> NotebookClient:
    """A client whose kernel runs in `cwd` (nbclient starts it there)."""
    return NotebookClient(notebook, km=_kernel_manager(tmp), timeout=240,
                          kernel_name=KERNEL, resources={"metadata": {"path": str(cwd)}},
                          **options)


def _kernel_env(log_dir: Path, **extra: str) -> dict[str, str]:
    """The test run's starting environment, without PyFlink's loopback marks (see
    tests.helpers.subprocess_env): the kernel starts a Flink of its own, which logs to
    `log_dir` (every PyFlink JVM otherwise rewrites the same file under pyflink/log)."""
    return subprocess_env(MPLBACKEND="agg", FLINK_LOG_DIR=str(log_dir), **extra)


def failure_context(item: pytest.Item) -> str:
    """The warnings and errors of the kernel's Flink log (tests/conftest.py adds them to a
    failed test's report)."""
    lines = [line[:300] for log in sorted(_LOG_DIRS) for path in log.glob("*.log")
             for line in path.read_text(errors="replace").splitlines()
             if " WARN " in line or " ERROR " in line]
    return "\n".join(["the kernel's Flink log, warnings and errors, last 40:", *lines[-40:]])


_LOG_DIRS: set[Path] = set()


class Kernel:
    """Runs cells one at a time in one live kernel; each call returns the cell's outputs
    as nbclient leaves them (display updates applied)."""

    def __init__(self, client: NotebookClient) -> None:
        self.client = client
        self.notebook = client.nb

    def run(self, source: str) -> list[dict]:
        cell = nbformat.v4.new_code_cell(source)
        self.notebook.cells.append(cell)
        self.client.execute_cell(cell, len(self.notebook.cells) - 1)
        return cell.outputs


def texts(outputs: list[dict], mime: str = "text/plain") -> str:
    parts = []
    for output in outputs:
        if output["output_type"] == "stream":
            parts.append(output["text"])
        elif output["output_type"] == "error":
            parts.append("\n".join(output["traceback"]))
        elif mime in output.get("data", {}):
            parts.append(output["data"][mime])
    return "\n".join(parts)


def errors(outputs: list[dict]) -> list[dict]:
    return [output for output in outputs if output["output_type"] == "error"]


def images(outputs: list[dict]) -> list[str]:
    return [o["data"]["image/png"] for o in outputs if "image/png" in o.get("data", {})]


@pytest.fixture(scope="module")
def kernel(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("kernel")
    client = _client(nbformat.v4.new_notebook(), tmp, tmp, allow_errors=True)
    _LOG_DIRS.add(tmp / "flink-log")
    with client.setup_kernel(env=_kernel_env(tmp / "flink-log")):
        session = Kernel(client)
        outputs = session.run(
            f"%load_ext mlsql\nimport mlsql.notebook\n"
            f"mlsql.notebook.session(registry={str(tmp / 'registry')!r}, mode='batch')\n"
            "None")
        assert not errors(outputs), texts(outputs)
        yield session


HOSTILE = "x'); DROP MODEL m; SELECT ('\n-- ' /* */"


def test_python_values_are_bound_as_literals_never_as_sql(kernel):
    outputs = kernel.run(
        f"hostile = {HOSTILE!r}\nn, f, yes, nothing = -3, 0.25, True, None\n"
        "%mlsql -o got SELECT :hostile AS v, :n AS n, :f AS f, :yes AS b, "
        "CAST(:nothing AS STRING) AS z")
    assert not errors(outputs), texts(outputs)
    table = texts(outputs, "text/html")
    assert "<table" in table and "1 row" in table and "DROP MODEL" in table
    assert table.split("<th>")[1].startswith("v</th>")  # no index column before v
    checked = kernel.run("assert got['v'][0] == hostile and got['n'][0] == -3\n"
                         "assert got['f'][0] == 0.25 and bool(got['b'][0]) is True\n"
                         "assert got['z'][0] is None\nprint(type(got).__name__)")
    assert texts(checked).strip() == "ResultFrame", texts(checked)


def test_errors_show_line_column_and_caret_without_a_traceback(kernel):
    outputs = kernel.run("%%mlsql\nSELECT 1;\nSELECT * FROM ML_PREDICT(TABLE t, MODL m)")
    (error,) = errors(outputs)
    shown = "\n".join(error["traceback"])
    assert "line 2, column 35" in shown and "expected MODEL, found 'MODL'" in shown
    assert shown.splitlines()[-1].strip() == "^"
    assert shown.splitlines()[-1].index("^") == shown.splitlines()[-2].index("MODL")
    for noise in ("Traceback", "File \"", "py4j", "java.", "mlsql/"):
        assert noise not in shown
    unknown = "\n".join(errors(kernel.run("%mlsql SELECT :nowhere"))[0]["traceback"])
    assert "no Python variable 'nowhere'" in unknown and "Traceback" not in unknown
    flink = "\n".join(errors(kernel.run("%mlsql SELECT * FROM no_such_table"))[0]["traceback"])
    assert "no_such_table" in flink and "Traceback" not in flink and "at org." not in flink


def test_tables_plots_and_no_plot(kernel):
    sql = ("SELECT * FROM (VALUES ('amount', 3.5E0, 'gain'), ('hour', 1.0E0, 'gain'))\n"
           "  AS t(feature, importance, importance_type)")
    outputs = kernel.run(f"%%mlsql -o importance\n{sql}")
    assert not errors(outputs), texts(outputs)
    assert "2 rows" in texts(outputs, "text/html") and len(images(outputs)) == 1
    plain = kernel.run(f"%%mlsql --no-plot\n{sql}")
    assert "2 rows" in texts(plain) and not images(plain)
    replot = kernel.run("mlsql.notebook.plot(importance)")
    assert len(images(replot)) == 1


def test_progress_bars_from_steps_and_elapsed_time(kernel):
    outputs = kernel.run(
        "from mlsql.core.progress import Step\nfrom mlsql.notebook import kernel, progress\n"
        "kernel.progress.new_statement()\n"
        "for done in range(1, 4):\n"
        "    kernel.progress(Step(f'boosting: {done}/3 trees', 'boosting', done, 3, 'trees'))\n"
        "kernel.progress(Step('boosting: 1/2 trees', 'boosting', 1, 2, 'trees'))\n"
        "kernel.progress('a plain message')\n"
        "with progress.elapsed('sleeping'):\n"
        "    import time; time.sleep(progress.TICK_AFTER_S + 1.5)")
    bars = [o for o in outputs if "<progress" in o.get("data", {}).get("text/html", "")]
    # One display per run of a task, updated in place: a finished bar stays as it ended.
    assert len(bars) == 2
    assert '<progress value="3" max="3">' in bars[0]["data"]["text/html"]
    assert '<progress value="1" max="2">' in bars[1]["data"]["text/html"]
    assert bars[0]["data"]["text/plain"].startswith("[" + "#" * 30 + "] boosting: 3/3")
    assert "a plain message" in texts(outputs)
    assert re.search(r"sleeping · done in \d+\.\d s", texts(outputs))


def test_training_streaming_preview_and_streaming_insert(kernel):
    trained = kernel.run(
        "%%mlsql\n"
        "CREATE MODEL nb_model WITH ('model_type' = 'logistic_reg', 'label' = 'y')\n"
        "AS SELECT x, CAST(x > 0.5 AS INT) AS y FROM (VALUES " +
        ", ".join(f"({i / 40}E0)" for i in range(40)) + ") AS t(x)")
    assert not errors(trained), texts(trained)
    assert "published nb_model version 1" in texts(trained)
    assert "1 row" in texts(trained, "text/html")

    kernel.run("%%mlsql\nSET 'execution.runtime-mode' = 'streaming';\n"
               "CREATE TABLE live (x DOUBLE) WITH ('connector' = 'datagen', "
               "'rows-per-second' = '20', 'fields.x.min' = '0', 'fields.x.max' = '1');\n"
               "CREATE TABLE sink (x DOUBLE, p DOUBLE) WITH ('connector' = 'blackhole')")
    started = time.monotonic()
    limited = kernel.run("%%mlsql --limit 5 --timeout 60 -o scored\n"
                         "SELECT x, probability FROM ML_PREDICT(TABLE live, MODEL nb_model)")
    assert not errors(limited), texts(limited)
    assert time.monotonic() - started < 50
    shown = texts(limited)
    assert "5 rows" in shown and "stopped by the row limit" in shown and "cancelled" in shown
    check = kernel.run("print(len(scored), list(scored.columns))")
    assert texts(check).strip() == "5 ['x', 'probability']"

    started = time.monotonic()
    timed = kernel.run("%%mlsql --limit 100000 --timeout 3\n"
                       "SELECT x FROM live WHERE x > 2")  # no row ever comes
    assert not errors(timed), texts(timed)
    assert 3 <= time.monotonic() - started < 30
    assert "stopped by the time limit" in texts(timed) and "no rows" in texts(timed)

    inserted = kernel.run("%%mlsql -o job\nINSERT INTO sink\n"
                          "SELECT x, probability FROM ML_PREDICT(TABLE live, MODEL nb_model)")
    assert not errors(inserted), texts(inserted)
    assert "Flink job" in texts(inserted, "text/html") and ".cancel()" in \
        texts(inserted, "text/html")
    assert re.search(r"submitted job [0-9a-f]{32}: (CREATED|INITIALIZING|RUNNING)",
                     texts(inserted))
    # a streaming preview's default limit is 10 s from submission: too short on a loaded CI
    cancelled = kernel.run("job.cancel()\nprint(job.status())\n%mlsql --timeout 60 SELECT 1 AS ok")
    assert "CANCELED" in texts(cancelled) and "1 row" in texts(cancelled, "text/html")


def test_distributed_tree_training_shows_its_workers_and_rounds(kernel):
    """Two Flink tasks train together; the notebook shows the rounds as a progress bar."""
    rows = ", ".join(f"({i / 100}E0, {(i * 37) % 100 / 100}E0)" for i in range(200))
    trained = kernel.run(
        "%%mlsql\n"
        "CREATE MODEL nb_trees WITH ('model_type' = 'xgboost_classifier', 'label' = 'y',\n"
        "  'training_mode' = 'distributed', 'num_workers' = '2', 'num_trees' = '10')\n"
        f"AS SELECT x, z, CAST(x > 1 AS INT) AS y FROM (VALUES {rows}) AS t(x, z)")
    assert not errors(trained), texts(trained)
    shown = texts(trained)
    assert re.search(r"worker 2/2 \(process \d+\) holds \d+ rows", shown), shown
    assert "published nb_trees version 1" in shown
    bars = [o["data"]["text/html"] for o in trained
            if "<progress" in o.get("data", {}).get("text/html", "")]
    assert any('<progress value="10" max="10">' in bar and "boosting" in bar for bar in bars)


def test_the_fraud_notebook_runs_top_to_bottom(tmp_path):
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = _client(notebook, tmp_path, NOTEBOOK.parent)
    started = time.monotonic()
    # raises CellExecutionError on the first error output
    _LOG_DIRS.add(tmp_path / "flink-log")
    client.execute(env=_kernel_env(tmp_path / "flink-log",
                                   MLSQL_NOTEBOOK_WORK=str(tmp_path / "work")))
    seconds = time.monotonic() - started
    print(f"fraud.ipynb ran in {seconds:.1f} s")
    cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    outputs = [output for cell in cells for output in cell.outputs]
    assert not errors(outputs)
    html_tables = [o for o in outputs if "<table" in o.get("data", {}).get("text/html", "")]
    assert len(html_tables) >= 10
    kinds = {cell_kind for cell in cells for cell_kind in _plots_of(cell)}
    assert kinds >= {"roc", "confusion", "importance", "training", "explanation"}
    shown = texts(outputs)
    assert "2 rows" in shown  # the two models compared
    assert "stopped by the row limit" in shown or "stopped by the time limit" in shown
    assert "CANCELED" in shown
    assert str(tmp_path / "work") in shown  # the kernel got the test's environment


def _plots_of(cell) -> list[str]:
    """The plot kinds a cell drew: each image output names its kind (`<mlsql plot: roc>`)."""
    return [match.group(1) for output in cell.outputs
            if "image/png" in output.get("data", {})
            and (match := re.fullmatch(r"<mlsql plot: (\w+)>",
                                       output["data"].get("text/plain", "")))]

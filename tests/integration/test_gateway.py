"""`mlsql gateway` driven by Flink's own clients: the SQL client (scripts, tableau, changelog
and table modes, a live streaming query) and the JDBC driver; bad requests and a crashed
session get Flink's REST errors while the server and other sessions carry on."""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import threading
import time

import numpy as np
import pandas as pd
import pexpect
import pytest

from tests.helpers import subprocess_env
from tests.integration.gateway_helpers import (
    compile_jdbc_program,
    ctrl_c_reaches_children,
    failure_report,
    run_jdbc,
    run_sql_client_script,
    sql_client_command,
    start_gateway,
    stop_gateway,
    submit_statement,
    tableau_rows,
)

pytestmark = [pytest.mark.slow, pytest.mark.gateway]
TABLEAU = "SET 'sql-client.execution.result-mode' = 'tableau';\n"
BATCH = "SET 'execution.runtime-mode' = 'batch';\n"
PROMPT = r"Flink SQL(\x1b\[0m)?>"  # the interactive prompt, coloured in a terminal


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    root = tmp_path_factory.mktemp("gateway")
    rng = np.random.default_rng(11)
    frame = pd.DataFrame({"x": rng.normal(size=400).round(4), "z": rng.normal(size=400).round(4)})
    frame["label"] = (frame["x"] > 0).astype(int)  # separable: a fitted model gets it right
    frame.to_csv(root / "train.csv", index=False, header=False)
    (root / "models").mkdir()
    return root


def table_ddl(root) -> str:
    return (f"CREATE TABLE train (x DOUBLE, z DOUBLE, label INT) WITH ('connector' = "
            f"'filesystem', 'path' = '{root}/train.csv', 'format' = 'csv');\n")


@pytest.fixture(scope="module")
def gateway(root):
    gateway = start_gateway(root, "--allow-model-path", str(root / "models"))
    yield gateway
    stop_gateway(gateway)
    assert not gateway.session_processes(), "session processes outlived the gateway"


@pytest.fixture(scope="module")
def trained(gateway, root):
    """One SQL client script: train, list, describe, evaluate, score."""
    return run_sql_client_script(gateway, TABLEAU + BATCH + table_ddl(root) + (
        "CREATE MODEL gw_lr WITH ('model_type' = 'logistic_reg', 'label' = 'label') "
        "AS SELECT x, z, label FROM train;\n"
        "SHOW MODELS;\n"
        "DESCRIBE MODEL gw_lr;\n"
        "SELECT * FROM ML_EVALUATE(TABLE train, MODEL gw_lr);\n"
        "SELECT x, label, predicted_label FROM ML_PREDICT(TABLE train, MODEL gw_lr, "
        "DESCRIPTOR(x, z)) WHERE ABS(x) > 0.3;\n"
        "CREATE TABLE scores (p DOUBLE) WITH ('connector' = 'blackhole');\n"
        "INSERT INTO scores SELECT probability FROM ML_PREDICT(TABLE train, MODEL gw_lr);\n"),
        root, "train.sql")


def test_sql_client_script_trains_lists_describes_and_evaluates(trained):
    assert "[ERROR]" not in trained, trained[-3000:]
    trained_rows = [r for r in tableau_rows(trained, 12) if r[0] == "gw_lr"]
    assert trained_rows and trained_rows[0][1:3] == ["1", "logistic_reg"]
    listed = [r for r in tableau_rows(trained, 8) if r[0] == "gw_lr"]
    assert listed and listed[0][1] == "1"
    described = tableau_rows(trained, 3)
    assert ["input", "x", "DOUBLE"] in described and ["input", "z", "DOUBLE"] in described
    (evaluation,) = [r for r in tableau_rows(trained, 7) if r[0] == "400"]
    assert float(evaluation[1]) > 0.95  # accuracy on a separable label
    assert re.search(r"Job ID: [0-9a-f]{32}", trained)  # the INSERT, as Flink's client says


def test_sql_client_scores_with_ml_predict(trained, root):
    scored = [r for r in tableau_rows(trained, 3) if re.fullmatch(r"-?\d+\.\d+", r[0])]
    frame = pd.read_csv(root / "train.csv", names=["x", "z", "label"])
    assert len(scored) == int((frame["x"].abs() > 0.3).sum())
    assert all(label == predicted for _, label, predicted in scored)


def test_sql_client_shows_our_errors_with_line_and_column(gateway, trained, root):
    output = run_sql_client_script(gateway, TABLEAU + table_ddl(root) + (
        "SELECT * FROM ML_PREDICT(TABLE train,\n  MODEL gw_lr, DESCRIPTOR(x, nope));\n"),
        root, "bad_column.sql")
    assert "[ERROR] Could not execute SQL statement" in output
    (reason,) = re.findall(r"Reason:\s*\n(.*)", output)
    assert "nope" in reason and "line 2, column" in reason, reason
    assert "\tat " not in output  # our message, not a Java trace
    output = run_sql_client_script(gateway, "SELECT * FROM ML_PREDICT(TABLE train, gw_lr);\n",
                                   root, "bad_syntax.sql")
    assert "SqlSyntaxError: SQL syntax error at line 1, column" in output, output[-2000:]


def test_sql_client_trains_boosted_trees_inside_flink_tasks(gateway, root):
    """'training_mode' = 'distributed' from Flink's SQL client: two tasks train together."""
    output = run_sql_client_script(gateway, TABLEAU + BATCH + table_ddl(root) + (
        "CREATE MODEL gw_trees WITH ('model_type' = 'boosted_tree_classifier', "
        "'label' = 'label', 'training_mode' = 'distributed', 'num_workers' = '2', "
        "'num_trees' = '10', 'min_data_in_leaf' = '5') AS SELECT x, z, label FROM train;\n"
        "SELECT COUNT(*) AS right_ones FROM ML_PREDICT(TABLE train, MODEL gw_trees) "
        "WHERE predicted_label = label;\n"), root, "trees.sql")
    assert "[ERROR]" not in output, output[-3000:]
    (trained,) = [r for r in tableau_rows(output, 12) if r[0] == "gw_trees"]
    assert trained[1:3] == ["1", "boosted_tree_classifier"]
    (right,) = [int(r[0]) for r in tableau_rows(output, 1) if r[0].isdigit()]
    assert right > 380  # of 400, on a separable label


# Passes alone, failed after the rest of the suite in CI (no live row within 180 s; cause not
# found yet): run in a pytest process of its own (.ci/run's second command).
@pytest.mark.isolated
def test_streaming_select_shows_live_rows_until_cancelled(gateway, trained, root):
    script = root / "live.sql"
    script.write_text(TABLEAU + (
        "CREATE TABLE live (x DOUBLE, z DOUBLE) WITH ('connector' = 'datagen', "
        "'rows-per-second' = '20', 'fields.x.min' = '-2', 'fields.x.max' = '2', "
        "'fields.z.min' = '-0.1', 'fields.z.max' = '0.1');\n"
        "SELECT x, predicted_label FROM ML_PREDICT(TABLE live, MODEL gw_lr, DESCRIPTOR(x, z));\n"))
    before = gateway.session_processes()
    with ctrl_c_reaches_children():
        client = subprocess.Popen(sql_client_command(gateway, "-f", str(script)), text=True,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  env=subprocess_env(), start_new_session=True, cwd=root)
    rows: list[list[str]] = []
    output: list[str] = []
    seen_enough = threading.Event()

    def read() -> None:
        for line in client.stdout:
            output.append(line)
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) == 3 and cells[0] == "+I":
                rows.append(cells)
                if len(rows) >= 10:
                    seen_enough.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        assert seen_enough.wait(180), "no live rows within 180 s\n" + failure_report(
            gateway, "".join(output))
        assert client.poll() is None  # rows arrive while the query still runs
        os.killpg(client.pid, signal.SIGINT)
        try:
            client.wait(90)
        except subprocess.TimeoutExpired:
            pytest.fail("the client did not exit within 90 s of Ctrl-C\n"
                        + failure_report(gateway, "".join(output)))
    finally:
        if client.poll() is None:
            os.killpg(client.pid, signal.SIGKILL)
    confident = [(float(x), int(p)) for _, x, p in rows if abs(float(x)) > 0.3]
    assert confident and all(p == int(x > 0) for x, p in confident)
    # The client closed its session on the way out: its process (and the job) are gone.
    deadline = time.monotonic() + 60
    while gateway.session_processes() - before and time.monotonic() < deadline:
        time.sleep(1)
    assert not gateway.session_processes() - before


# Flink's SQL client serves batch queries only in table and tableau mode.
@pytest.mark.parametrize(("mode", "runtime_mode"), [("changelog", "streaming"),
                                                    ("table", "batch")])
def test_interactive_result_modes_show_rows(gateway, trained, root, mode, runtime_mode):
    frame = pd.read_csv(root / "train.csv", names=["x", "z", "label"])
    top = frame.sort_values("x").iloc[-1]
    client = pexpect.spawn(sql_client_command(gateway)[0], sql_client_command(gateway)[1:],
                           env=subprocess_env(), encoding="utf-8", timeout=180,
                           dimensions=(40, 160), cwd=str(root))
    client.logfile_read = screen = io.StringIO()
    try:
        client.expect(PROMPT)
        for line in (f"SET 'execution.runtime-mode' = '{runtime_mode}';\n",
                     f"SET 'sql-client.execution.result-mode' = '{mode}';\n",
                     table_ddl(root)):
            client.send(line)
            client.expect("Execute statement succeeded")
        client.send(f"SELECT x, predicted_label FROM ML_PREDICT(TABLE train, MODEL gw_lr, "
                    f"DESCRIPTOR(x, z)) WHERE x > {top.x - 0.0001};\n")
        # The top row, and in changelog mode its row kind in front of it on the same line.
        # A finished bounded result may be drawn once, so one match must find both.
        row = re.escape(f"{top.x:g}")
        client.expect(rf"\+I[^\r\n]*?{row}" if mode == "changelog" else row)
        client.send("q")
        client.expect(PROMPT)
        client.send("QUIT;\n")
        client.expect(pexpect.EOF)
    except pexpect.TIMEOUT:
        pytest.fail(f"the SQL client did not show the row\n"
                    f"{failure_report(gateway, screen.getvalue())}")
    finally:
        client.close(force=True)


@pytest.fixture(scope="module")
def jdbc(gateway, trained, root):
    classes = compile_jdbc_program(root)
    ddl = table_ddl(root).strip().rstrip(";")
    return run_jdbc(gateway, classes, [
        "SET 'execution.runtime-mode' = 'batch'", ddl,
        "CREATE MODEL gw_jdbc WITH ('model_type' = 'logistic_reg', 'label' = 'label') "
        "AS SELECT x, label FROM train",
        "SHOW MODELS",
        "SELECT x, label, predicted_label FROM ML_PREDICT(TABLE train, MODEL gw_jdbc, "
        "DESCRIPTOR(x)) WHERE ABS(x) > 0.3",
        "SELECT * FROM ML_EVALUATE(TABLE train, MODEL gw_jdbc)",
        "SELECT * FROM ML_PREDICT(TABLE train, MODEL missing_model)",
        "CREATE MODEL gw_py INPUT (x DOUBLE) OUTPUT (y DOUBLE) "
        "WITH ('provider' = 'python', 'class' = 'os.system')",
        "CREATE MODEL gw_outside INPUT (x DOUBLE) OUTPUT (y DOUBLE) "
        "WITH ('provider' = 'onnx', 'path' = '/etc/hosts')",
        f"CREATE MODEL gw_inside INPUT (x DOUBLE) OUTPUT (y DOUBLE) "
        f"WITH ('provider' = 'onnx', 'path' = '{root}/models/absent.onnx')",
        "SET 'python.executable' = '/bin/sh'",
        "SET 'rest.address' = '203.0.113.9'",
        "ADD JAR '/tmp/evil.jar'",
        "CREATE TEMPORARY FUNCTION evil AS 'os.system' LANGUAGE PYTHON",
        "SELECT * FROM ML_PREDICT(TABLE train, MODEL `../elsewhere/m`)",
        "SET 'parallelism.default' = '1'",
    ])


def _jdbc_result(output: str, statement_start: str) -> list[str]:
    blocks = output.split("== ")
    (block,) = [b for b in blocks if b.startswith(statement_start)]
    return block.splitlines()[1:]


def test_jdbc_driver_trains_lists_scores_and_evaluates(jdbc, root):
    assert _jdbc_result(jdbc, "CREATE MODEL gw_jdbc")[0].startswith("columns: model, version")
    listed = _jdbc_result(jdbc, "SHOW MODELS")
    assert any(line.startswith("gw_jdbc\t1\t") for line in listed), listed
    scored = _jdbc_result(jdbc, "SELECT x, label, predicted_label")
    assert scored[0] == "columns: x, label, predicted_label"
    frame = pd.read_csv(root / "train.csv", names=["x", "z", "label"])
    assert len(scored) - 1 == int((frame["x"].abs() > 0.3).sum())
    assert all(line.split("\t")[1] == line.split("\t")[2] for line in scored[1:])
    evaluation = _jdbc_result(jdbc, "SELECT * FROM ML_EVALUATE")
    assert evaluation[0].startswith("columns: rows, accuracy")
    assert float(evaluation[1].split("\t")[1]) > 0.95
    (error,) = _jdbc_result(jdbc, "SELECT * FROM ML_PREDICT(TABLE train, MODEL missing")
    assert "ModelNotFoundError: model 'missing_model' not found" in error


def test_gateway_sessions_refuse_python_provider_and_outside_model_files(jdbc):
    (python,) = _jdbc_result(jdbc, "CREATE MODEL gw_py")
    assert "PolicyError: the python provider" in python
    (outside,) = _jdbc_result(jdbc, "CREATE MODEL gw_outside")
    assert "PolicyError: model file /etc/hosts is outside" in outside
    (inside,) = _jdbc_result(jdbc, "CREATE MODEL gw_inside")  # allowed dir: past the policy
    assert "PolicyError" not in inside and "absent.onnx not found" in inside


def test_gateway_sessions_may_not_load_code_or_redirect_jobs(jdbc):
    for statement, message in [
            ("SET 'python.executable'", "may not SET 'python.executable': it loads code"),
            ("SET 'rest.address'", "may not SET 'rest.address': it says where"),
            ("ADD JAR", "PolicyError: ADD JAR ... loads code"),
            ("CREATE TEMPORARY FUNCTION evil", "PolicyError: CREATE TEMPORARY ... loads code"),
            ("SELECT * FROM ML_PREDICT(TABLE train, MODEL `../", "invalid model name")]:
        (line,) = _jdbc_result(jdbc, statement)
        assert line.startswith("error:") and message in line, line
    assert _jdbc_result(jdbc, "SET 'parallelism.default'") == ["updated: 0"]


def test_bad_requests_get_rest_errors_and_the_server_carries_on(gateway):
    status, body = gateway.request("POST", "/v4/sessions", b"{not json")
    assert status == 400 and "OpenSessionRequestBody" in body["errors"][0]
    missing = "00000000-0000-0000-0000-000000000000"
    status, body = gateway.request("POST", f"/v4/sessions/{missing}/statements",
                                   b'{"statement": "SHOW MODELS"}')
    assert status == 500 and f"Session '{missing}' does not exist" in body["errors"][1]
    status, body = gateway.request("POST", "/v4/sessions/not-a-uuid/heartbeat")
    assert status == 400 and "session_handle" in body["errors"][0]
    assert gateway.request("GET", "/v4/no/such/path")[0] == 404
    # What a web page could send without CORS's permission is refused before it runs.
    status, body = gateway.request("POST", "/v4/sessions", b"{}",
                                   {"Content-Type": "text/plain"})
    assert status == 400 and "application/json" in body["errors"][0]
    status, body = gateway.request("GET", "/v4/info", None, {"Host": "evil.example:8083"})
    assert status == 400 and "evil.example" in body["errors"][0]
    assert gateway.request("GET", "/v9/info")[0] == 404
    assert gateway.request("GET", "/v1/api_versions") == (200, {"versions": ["V1", "V2", "V3",
                                                                              "V4"]})


def test_a_crashed_session_leaves_the_others_serving(gateway):
    before = gateway.session_processes()
    status, opened = gateway.request("POST", "/v4/sessions", b"{}")
    assert status == 200
    doomed = opened["sessionHandle"]
    (doomed_pid,) = gateway.session_processes() - before
    status, opened = gateway.request("POST", "/v4/sessions", b"{}")
    survivor = opened["sessionHandle"]
    os.kill(doomed_pid, signal.SIGKILL)
    status, body = gateway.request("POST", f"/v4/sessions/{doomed}/statements",
                                   b'{"statement": "SHOW MODELS"}')
    assert status == 500 and "exited" in body["errors"][1]
    status, body = gateway.request("POST", f"/v4/sessions/{survivor}/statements",
                                   b'{"statement": "SHOW MODELS"}')
    assert status == 200
    operation = body["operationHandle"]
    deadline = time.monotonic() + 60
    while gateway.request("GET", f"/v4/sessions/{survivor}/operations/{operation}/status")[1] \
            .get("status") != "FINISHED" and time.monotonic() < deadline:
        time.sleep(0.5)
    status, page = gateway.request(
        "GET", f"/v4/sessions/{survivor}/operations/{operation}/result/0?rowFormat=JSON")
    assert status == 200 and page["results"]["columns"][0]["name"] == "model"
    assert gateway.request("DELETE", f"/v4/sessions/{survivor}")[1] == {"status": "CLOSED"}


def _status(gateway, session: str, operation: str) -> str:
    return gateway.request("GET", f"/v4/sessions/{session}/operations/{operation}/status"
                           )[1].get("status", "")


def _wait_until_done(gateway, session: str, operation: str, timeout: float = 300) -> str:
    deadline = time.monotonic() + timeout
    while (state := _status(gateway, session, operation)) == "RUNNING":
        assert time.monotonic() < deadline, f"{operation} still running"
        time.sleep(0.5)
    return state


# Boosting on a label of noise (trees on a separable label stop after about 100): 50,000
# trees take 4 s alone and minutes in a loaded CI, reported (and so cancellable) every
# 10,000; the extraction before them is cancellable too.
LONG_TRAINING = ("WITH ('model_type' = 'boosted_tree_classifier', 'label' = 'noise', "
                 "'num_trees' = '50000', 'num_leaves' = '4', 'eval_fraction' = '0') "
                 "AS SELECT x, z, MOD(CAST(FLOOR(ABS(z) * 1000) AS INT), 2) AS noise "
                 "FROM train")


@pytest.mark.parametrize("request_kind", ["cancel", "close"])
def test_a_cancelled_training_stops_and_publishes_nothing(gateway, root, request_kind):
    """A cancel of a running CREATE MODEL through the REST API, or a close of its operation
    (what Flink's SQL client sends when Ctrl-C interrupts a statement): the training stops at
    its next progress report and no version is published; the session carries on."""
    name = f"gw_{request_kind}led"
    status, opened = gateway.request("POST", "/v4/sessions", b"{}")
    session = opened["sessionHandle"]
    for setup in (BATCH, table_ddl(root)):
        assert _wait_until_done(gateway, session, submit_statement(gateway, session, setup)) == \
            "FINISHED"
    training = submit_statement(gateway, session, f"CREATE MODEL {name} {LONG_TRAINING}")
    time.sleep(2)
    assert _status(gateway, session, training) == "RUNNING"
    if request_kind == "cancel":
        status, body = gateway.request(
            "POST", f"/v4/sessions/{session}/operations/{training}/cancel")
        assert status == 200 and body == {"status": "CANCELED"}
    else:
        status, body = gateway.request(
            "DELETE", f"/v4/sessions/{session}/operations/{training}/close")
        assert status == 200, body
    # SHOW MODELS runs after the training has ended, whichever way it ended.
    listing = submit_statement(gateway, session, "SHOW MODELS")
    assert _wait_until_done(gateway, session, listing) == "FINISHED"
    status, page = gateway.request(
        "GET", f"/v4/sessions/{session}/operations/{listing}/result/0?rowFormat=JSON")
    names = [row["fields"][0] for row in page["results"]["data"]]
    assert name not in names
    assert not (root / "registry" / name).exists()
    if request_kind == "cancel":
        assert _status(gateway, session, training) == "CANCELED"
    log = gateway.log.read_text()
    assert f"training {name}" in log
    assert "cancelled by the client" in log.split(f"training {name}", 1)[1]
    assert f"published {name}" not in log
    gateway.request("DELETE", f"/v4/sessions/{session}")

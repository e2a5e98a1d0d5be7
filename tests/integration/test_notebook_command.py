"""`mlsql notebook`: JupyterLab comes up on 127.0.0.1 as written in the README, root or not."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from mlsql.cli.notebook import jupyter_command
from mlsql.services.processes import free_port
from tests.helpers import subprocess_env

pytestmark = [pytest.mark.slow, pytest.mark.notebook]
NOTEBOOK = Path(__file__).parents[2] / "examples" / "notebooks" / "fraud.ipynb"


def _status(port: int, token: str) -> dict | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}",
                                    timeout=2) as answer:
            return json.load(answer)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None


def test_the_notebook_command_serves_the_fraud_notebook(tmp_path):
    port, token = free_port(), "mlsql-test-token"
    command = [sys.executable, "-m", "mlsql", "notebook", str(NOTEBOOK), "--port", str(port),
               "--no-browser"]
    env = subprocess_env() | {"JUPYTER_TOKEN": token,
                              "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
                              "JUPYTER_CONFIG_DIR": str(tmp_path / "config")}
    server = subprocess.Popen(command, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 90
        status = None
        while status is None and server.poll() is None and time.monotonic() < deadline:
            status = _status(port, token)
            time.sleep(0.5)
        output = "" if server.poll() is None else server.stdout.read()
        assert status is not None, f"JupyterLab did not answer; it said:\n{output}"
        url = (f"http://127.0.0.1:{port}/api/contents/{NOTEBOOK.name}?token={token}"
               "&content=0")
        with urllib.request.urlopen(url, timeout=5) as answer:
            assert json.load(answer)["type"] == "notebook"
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def test_root_gets_allow_root_and_everyone_gets_loopback():
    as_root = jupyter_command("nb.ipynb", 8890, browser=False, root=True)
    as_user = jupyter_command("nb.ipynb", 8890, browser=True, root=False)
    assert "--allow-root" in as_root and "--allow-root" not in as_user
    assert "--no-browser" in as_root and "--no-browser" not in as_user
    assert all("--ServerApp.ip=127.0.0.1" in c for c in (as_root, as_user))

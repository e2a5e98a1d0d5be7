"""A real `mlsql gateway` process and Flink's real clients (SQL client, JDBC) against it."""

from __future__ import annotations

import contextlib
import json
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from mlsql.services.processes import free_port
from tests.helpers import subprocess_env

MLSQL = Path(sys.executable).with_name("mlsql")
JDBC_SOURCE = Path(__file__).with_name("jdbc") / "JdbcScript.java"


@dataclass
class GatewayProcess:
    process: subprocess.Popen
    address: str  # host:port
    log: Path

    @property
    def url(self) -> str:
        return f"http://{self.address}"

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, dict]:
        """One raw REST call (for the server's own error handling, not a client's job)."""
        request = urllib.request.Request(self.url + path, data=body, method=method,
                                         headers={"Content-Type": "application/json",
                                                  **(headers or {})})
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}")

    def session_processes(self) -> set[int]:
        """The pids of the gateway's session worker processes."""
        children = set()
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.process.pid:
                children.add(int(stat.parent.name))
        return children


def start_gateway(root: Path, *extra: str) -> GatewayProcess:
    port = free_port()
    log = root / f"gateway-{port}.log"
    process = subprocess.Popen(
        [str(MLSQL), "gateway", "--port", str(port), "--registry", str(root / "registry"),
         *extra], stdout=log.open("w"), stderr=subprocess.STDOUT, env=subprocess_env(),
        cwd=root)
    gateway = GatewayProcess(process, f"127.0.0.1:{port}", log)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the gateway exited: {log.read_text()[-3000:]}")
        try:
            if gateway.request("GET", "/v1/info")[0] == 200:
                return gateway
        except OSError:
            pass
        time.sleep(0.5)
    process.kill()
    raise AssertionError(f"the gateway did not answer: {log.read_text()[-3000:]}")


def stop_gateway(gateway: GatewayProcess) -> None:
    gateway.process.terminate()
    try:
        gateway.process.wait(60)
    except subprocess.TimeoutExpired:
        gateway.process.kill()
        raise


@contextlib.contextmanager
def ctrl_c_reaches_children() -> Iterator[None]:
    """Children spawned inside see SIGINT at its default, as under a terminal.

    A shell's background job (`cmd &` without job control) starts with SIGINT ignored, and an
    ignored signal stays ignored across exec: Flink's SQL client would then never see Ctrl-C.
    A caught signal is reset to the default at exec, so catching it here is enough.
    """
    previous = signal.getsignal(signal.SIGINT)
    if previous == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def sql_client_command(gateway: GatewayProcess, *args: str) -> list[str]:
    return [str(MLSQL), "sql-client", "gateway", "--endpoint", gateway.address, *args]


def run_sql_client_script(gateway: GatewayProcess, script: str, directory: Path,
                          name: str = "script.sql") -> str:
    """Flink's SQL client runs `script` (-f) against the gateway; its stdout."""
    path = directory / name
    path.write_text(script)
    result = subprocess.run(sql_client_command(gateway, "-f", str(path)), capture_output=True,
                            text=True, timeout=300, env=subprocess_env(), cwd=directory)
    return result.stdout


def compile_jdbc_program(directory: Path) -> Path:
    classes = directory / "jdbc-classes"
    classes.mkdir(exist_ok=True)
    subprocess.run(["javac", "-d", str(classes), str(JDBC_SOURCE)], check=True, timeout=120)
    return classes


def run_jdbc(gateway: GatewayProcess, classes: Path, statements: list[str]) -> str:
    """The JDBC program runs `statements` through Flink's JDBC driver; its stdout."""
    from mlsql.services.jars.resolve import bundle

    driver = bundle("jdbc-driver")
    assert driver.is_resolved(), "run `mlsql install` first"
    classpath = ":".join([str(classes), *map(str, driver.jars())])
    result = subprocess.run(
        ["java", "-cp", classpath, "JdbcScript", f"jdbc:flink://{gateway.address}",
         *statements], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    return result.stdout


def failure_report(gateway: GatewayProcess, client_output: str) -> str:
    """What a failed client test shows: the client's screen text and the gateway's log."""
    screen = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", client_output)
    return (f"client output (last 3000 chars):\n{screen[-3000:]}\n"
            f"gateway log (last 3000 chars):\n{gateway.log.read_text()[-3000:]}")


def tableau_rows(output: str, columns: int) -> list[list[str]]:
    """Data rows of the SQL client's tableau tables with `columns` columns."""
    rows = []
    for line in output.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.lstrip().startswith("|") and len(cells) == columns:
            rows.append(cells)
    return rows

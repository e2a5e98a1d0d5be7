"""A real `mlsql gateway` process and Flink's real clients (SQL client, JDBC) against it."""

from __future__ import annotations

import contextlib
import json
import re
import signal
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from mlsql.services.processes import free_port
from tests.helpers import subprocess_env

MLSQL = Path(sys.executable).with_name("mlsql")
JDBC_SOURCE = Path(__file__).with_name("jdbc") / "JdbcScript.java"


@dataclass
class GatewayProcess:
    process: subprocess.Popen
    address: str  # host:port
    log: Path
    tls: ssl.SSLContext | None = None  # request()'s client context, for a gateway on https

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.address}"

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, dict]:
        """One raw REST call (for the server's own error handling, not a client's job)."""
        request = urllib.request.Request(self.url + path, data=body, method=method,
                                         headers={"Content-Type": "application/json",
                                                  **(headers or {})})
        try:
            with urllib.request.urlopen(request, timeout=120, context=self.tls) as response:
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


def start_gateway(root: Path, *extra: str, tls: ssl.SSLContext | None = None) -> GatewayProcess:
    """`mlsql gateway` on a free port, once it answers; `tls`: the client context its
    requests use (a gateway started with Flink's security.ssl.rest.* options)."""
    port = free_port()
    log = root / f"gateway-{port}.log"
    process = subprocess.Popen(
        [str(MLSQL), "gateway", "--port", str(port), "--registry", str(root / "registry"),
         *extra], stdout=log.open("w"), stderr=subprocess.STDOUT, env=subprocess_env(),
        cwd=root)
    gateway = GatewayProcess(process, f"127.0.0.1:{port}", log, tls)
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
    endpoint = gateway.url if gateway.tls else gateway.address
    return [str(MLSQL), "sql-client", "gateway", "--endpoint", endpoint, *args]


def run_sql_client_script(gateway: GatewayProcess, script: str, directory: Path,
                          name: str = "script.sql", options: Sequence[str] = (),
                          timeout: float = 300) -> str:
    """Flink's SQL client runs `script` (-f) against the gateway; its stdout. `options`:
    more sql-client.sh arguments (-D key=value)."""
    return sql_client_process(gateway, script, directory, name, options, timeout).stdout


def sql_client_process(gateway: GatewayProcess, script: str, directory: Path,
                       name: str = "script.sql", options: Sequence[str] = (),
                       timeout: float = 300) -> subprocess.CompletedProcess[str]:
    path = directory / name
    path.write_text(script)
    return subprocess.run(sql_client_command(gateway, *options, "-f", str(path)),
                          capture_output=True, text=True, timeout=timeout,
                          env=subprocess_env(), cwd=directory)


def compile_jdbc_program(directory: Path) -> Path:
    classes = directory / "jdbc-classes"
    classes.mkdir(exist_ok=True)
    subprocess.run(["javac", "-d", str(classes), str(JDBC_SOURCE)], check=True, timeout=120)
    return classes


def run_jdbc(gateway: GatewayProcess, classes: Path, statements: list[str],
             properties: Mapping[str, str] | None = None) -> str:
    """The JDBC program runs `statements` through Flink's JDBC driver; its stdout."""
    result = jdbc_process(gateway, classes, statements, properties)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    return result.stdout


def jdbc_process(gateway: GatewayProcess, classes: Path, statements: list[str],
                 properties: Mapping[str, str] | None = None
                 ) -> subprocess.CompletedProcess[str]:
    """The JDBC program's run, failed or not. `properties` go in the URL: the driver makes
    them its Flink configuration (the TLS options)."""
    from mlsql.services.jars.resolve import bundle

    driver = bundle("jdbc-driver")
    assert driver.is_resolved(), "run `mlsql install` first"
    classpath = ":".join([str(classes), *map(str, driver.jars())])
    url = f"jdbc:flink://{gateway.address}"
    if properties:
        url += "?" + urlencode(properties)
    return subprocess.run(["java", "-cp", classpath, "JdbcScript", url, *statements],
                          capture_output=True, text=True, timeout=600)


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


@dataclass(frozen=True)
class TlsStores:
    """Keys made at test time: the gateway's (server.p12, and server-trust.jks trusting the
    client's certificate), the client's (client.p12, client-trust.p12 trusting the
    gateway's) and a stranger's whose certificate no truststore holds. Each store's password
    is its owner's name and "-pass"; the truststores' is "trust-pass"."""

    directory: Path

    def path(self, name: str) -> str:
        return str(self.directory / name)

    def gateway_arguments(self) -> list[str]:
        """`mlsql gateway` -D arguments: TLS with client certificates (mutual)."""
        return [argument for key, value in {
            "security.ssl.rest.enabled": "true",
            "security.ssl.rest.authentication-enabled": "true",
            "security.ssl.rest.keystore": self.path("server.p12"),
            "security.ssl.rest.keystore-password": "server-pass",
            "security.ssl.rest.key-password": "server-pass",
            "security.ssl.rest.truststore": self.path("server-trust.jks"),
            "security.ssl.rest.truststore-password": "trust-pass",
        }.items() for argument in ("-D", f"{key}={value}")]

    def client_options(self, who: str | None = "client") -> dict[str, str]:
        """Flink's client options: trust the gateway and, unless `who` is None, show who's
        certificate."""
        options = {"security.ssl.rest.enabled": "true",
                   "security.ssl.rest.truststore": self.path("client-trust.p12"),
                   "security.ssl.rest.truststore-password": "trust-pass"}
        if who:
            options |= {"security.ssl.rest.authentication-enabled": "true",
                        "security.ssl.rest.keystore": self.path(f"{who}.p12"),
                        "security.ssl.rest.keystore-password": f"{who}-pass",
                        "security.ssl.rest.key-password": f"{who}-pass"}
        return options

    def sql_client_arguments(self, who: str | None = "client") -> list[str]:
        return [argument for key, value in self.client_options(who).items()
                for argument in ("-D", f"{key}={value}")]

    def python_context(self, who: str | None = "client") -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=self.path("server-cert.pem"))
        if who:
            context.load_cert_chain(self.path(f"{who}-cert.pem"), self.path(f"{who}-key.pem"))
        return context


def make_tls_stores(directory: Path) -> TlsStores:
    """RSA keys (the ciphers Flink's clients offer by default are ECDHE_RSA ones) and
    self-signed certificates for 127.0.0.1 by openssl; truststores by the JDK's keytool, the
    gateway's in JKS and the client's in PKCS12, Flink's two keystore types."""
    directory.mkdir(parents=True, exist_ok=True)
    stores = TlsStores(directory)
    for who in ("server", "client", "stranger"):
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-keyout", stores.path(f"{who}-key.pem"),
                        "-out", stores.path(f"{who}-cert.pem"), "-subj", f"/CN={who}",
                        "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                       check=True, capture_output=True, timeout=60)
        subprocess.run(["openssl", "pkcs12", "-export", "-name", who,
                        "-inkey", stores.path(f"{who}-key.pem"),
                        "-in", stores.path(f"{who}-cert.pem"), "-out", stores.path(f"{who}.p12"),
                        "-passout", f"pass:{who}-pass"], check=True, capture_output=True,
                       timeout=60)
    for store, kind, trusted in (("server-trust.jks", "JKS", "client"),
                                 ("client-trust.p12", "PKCS12", "server")):
        subprocess.run(["keytool", "-importcert", "-noprompt", "-alias", trusted,
                        "-file", stores.path(f"{trusted}-cert.pem"),
                        "-keystore", stores.path(store), "-storetype", kind,
                        "-storepass", "trust-pass"], check=True, capture_output=True,
                       timeout=60)
    return stores


def submit_statement(gateway, session: str, statement: str) -> str:
    """POST a statement to a session over the REST API; its operation handle."""
    status, body = gateway.request("POST", f"/v4/sessions/{session}/statements",
                                   json.dumps({"statement": statement}).encode())
    assert status == 200, body
    return body["operationHandle"]

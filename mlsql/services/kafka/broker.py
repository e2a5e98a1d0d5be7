"""A local single-node Apache Kafka broker (KRaft mode) on 127.0.0.1.

`mlsql kafka start` is for mlsql users what `confluent local kafka start` is for Confluent's:
a broker with a default broker's behaviour (topics created on first use) in one command. It
runs Apache's own jars (resolved from Maven Central by mlsql.services.jars) in a JVM of its own,
detached from the command that started it. Everything lives in one data directory:

    <data>/server.properties   the broker's configuration (written at each start)
    <data>/log4j2.properties   its logging configuration
    <data>/broker.log          what it prints
    <data>/broker.json         pid and ports of the running broker
    <data>/logs/               the topics (formatted once, kept across restarts)

The JVM's heap and its collector and compiler flags come from KAFKA_HEAP_OPTS and
KAFKA_JVM_PERFORMANCE_OPTS where set, as Kafka's own bin/ scripts read them.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mlsql.core.paths import user_path
from mlsql.errors import MlsqlError
from mlsql.services.jars import bundle, resolve
from mlsql.services.processes import HOST, alive, free_port, port_in_use

DEFAULT_PORT = 9092
_STARTED = "Kafka Server started"
_HEAP = "-Xmx512m"
_PERFORMANCE = "-XX:+UseG1GC"

_SERVER_PROPERTIES = """\
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@{host}:{controller_port}
listeners=PLAINTEXT://{host}:{port},CONTROLLER://{host}:{controller_port}
advertised.listeners=PLAINTEXT://{host}:{port}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs={log_dirs}
auto.create.topics.enable=true
num.partitions=1
offsets.topic.replication.factor=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
# Flink's exactly-once Kafka sink asks for transactions of up to an hour by default.
transaction.max.timeout.ms=3600000
"""

_LOG4J = """\
status = warn
appender.out.type = Console
appender.out.name = out
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = {level}
rootLogger.appenderRef.out.ref = out
logger.kafka.name = kafka
logger.kafka.level = {level}
"""


def default_data_dir() -> Path:
    """$MLSQL_KAFKA_DATA, else ~/.mlsql/kafka."""
    return user_path("MLSQL_KAFKA_DATA", "kafka")


@dataclass(frozen=True)
class BrokerStatus:
    running: bool
    data_dir: Path
    port: int | None = None
    pid: int | None = None
    started_at: float | None = None

    @property
    def bootstrap_servers(self) -> str:
        return f"{HOST}:{self.port}"

    def describe(self) -> str:
        if not self.running:
            return f"Kafka is not running (data directory {self.data_dir})"
        uptime = time.time() - (self.started_at or time.time())
        return (f"Kafka is running on {self.bootstrap_servers} (pid {self.pid}, up "
                f"{uptime:.0f} s, data directory {self.data_dir})")


class LocalKafka:
    """The broker whose data lives in `data_dir`."""

    def __init__(self, data_dir: str | os.PathLike[str] | None = None) -> None:
        self.data_dir = Path(data_dir) if data_dir else default_data_dir()

    @property
    def _state_file(self) -> Path:
        return self.data_dir / "broker.json"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "broker.log"

    def status(self) -> BrokerStatus:
        state = self._read_state()
        if state and alive(state["pid"]):
            return BrokerStatus(True, self.data_dir, state["port"], state["pid"],
                                state["started_at"])
        return BrokerStatus(False, self.data_dir)

    def start(self, port: int = DEFAULT_PORT, *, timeout: float = 90,
              progress: Callable[[str], None] | None = None) -> BrokerStatus:
        """Start the broker unless it runs already; returns once it accepts clients."""
        current = self.status()
        if current.running:
            if current.port != port:
                raise MlsqlError(f"{current.describe()}; stop it first to use port {port}")
            return current
        if port_in_use(port):
            raise MlsqlError(f"port {port} on {HOST} is in use by another program; choose "
                             "another with --port")
        jars = resolve("kafka-broker", progress)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        controller_port = (self._read_state() or {}).get("controller_port") or free_port()
        config = self._write_config(port, controller_port)
        if not (self.data_dir / "logs" / "meta.properties").exists():
            self._format(jars, config)
        java = _java()
        self.log_file.write_text("")
        with self.log_file.open("ab") as log:
            process = subprocess.Popen(
                [java, *self._jvm_flags(jars), "kafka.Kafka", str(config)],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True)  # outlives the command that started it
        self._write_state({"pid": process.pid, "port": port,
                           "controller_port": controller_port, "started_at": time.time()})
        self._await_ready(process, port, timeout)
        if progress:
            progress(f"Kafka {bundle('kafka-broker').version} started on {HOST}:{port}")
        return self.status()

    def stop(self, timeout: float = 30) -> bool:
        """Stop the broker; False when none was running."""
        state = self._read_state()
        if not state or not alive(state["pid"]):
            return False
        pid = state["pid"]
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        if alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self._write_state({**state, "pid": None})
        return True

    def _jvm_flags(self, jars: list[Path]) -> list[str]:
        return [*os.environ.get("KAFKA_HEAP_OPTS", _HEAP).split(),
                *os.environ.get("KAFKA_JVM_PERFORMANCE_OPTS", _PERFORMANCE).split(),
                "-cp", os.pathsep.join(map(str, jars)),
                f"-Dlog4j2.configurationFile={self.data_dir / 'log4j2.properties'}",
                "-Djava.awt.headless=true"]

    def _write_config(self, port: int, controller_port: int) -> Path:
        config = self.data_dir / "server.properties"
        config.write_text(_SERVER_PROPERTIES.format(
            host=HOST, port=port, controller_port=controller_port,
            log_dirs=self.data_dir / "logs"))
        (self.data_dir / "log4j2.properties").write_text(_LOG4J.format(
            level=os.environ.get("MLSQL_KAFKA_LOG_LEVEL", "INFO")))
        return config

    def _format(self, jars: list[Path], config: Path) -> None:
        cluster_id = _cluster_id()
        completed = subprocess.run(
            [_java(), *self._jvm_flags(jars), "kafka.tools.StorageTool", "format",
             "--cluster-id", cluster_id, "--config", str(config)],
            capture_output=True, text=True)
        if completed.returncode != 0:
            raise MlsqlError("could not format Kafka's storage in "
                             f"{self.data_dir / 'logs'}: "
                             f"{(completed.stderr or completed.stdout).strip()[-500:]}")

    def _await_ready(self, process: subprocess.Popen[bytes], port: int,
                     timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise MlsqlError(f"Kafka exited during start (code {process.returncode}); "
                                 f"the end of {self.log_file}:\n{self._log_tail()}")
            if _STARTED in self.log_file.read_text(errors="replace") and port_in_use(port):
                return
            time.sleep(0.2)
        self.stop()
        raise MlsqlError(f"Kafka did not start within {timeout:.0f} s; the end of "
                         f"{self.log_file}:\n{self._log_tail()}")

    def _log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def _read_state(self) -> dict | None:
        try:
            return json.loads(self._state_file.read_text())
        except (OSError, ValueError):
            return None

    def _write_state(self, state: dict) -> None:
        self._state_file.write_text(json.dumps(state))


def is_reachable(bootstrap_servers: str, timeout: float = 2.0) -> bool:
    """Whether any of the comma-separated host:port addresses accepts a TCP connection."""
    for address in bootstrap_servers.split(","):
        host, _, port = address.strip().rpartition(":")
        if not port.isdigit():
            continue
        try:
            with socket.create_connection((host.strip("[]") or HOST, int(port)), timeout):
                return True
        except OSError:
            continue
    return False


def _java() -> str:
    home = os.environ.get("JAVA_HOME")
    java = Path(home) / "bin" / "java" if home else None
    if java and java.exists():
        return str(java)
    from shutil import which

    found = which("java")
    if not found:
        raise MlsqlError("Kafka needs Java 17 or newer: install a JDK or set JAVA_HOME")
    return found


def _cluster_id() -> str:
    """A random KRaft cluster id (base64url of a UUID). One starting with '-' would read as
    an option to kafka-storage (1 in 64 runs failed so), so such ids are drawn again, as
    Kafka's own Uuid.randomUuid does."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id

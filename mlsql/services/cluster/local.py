"""A local Flink standalone cluster (one JobManager, one or more TaskManagers) on 127.0.0.1.

`mlsql cluster start` runs PyFlink's own `bin/start-cluster.sh` with a configuration mlsql
writes into its cache (mlsql.services.flink_dist.FlinkDist "cluster"), so the processes are Flink's
standalone session cluster exactly as a downloaded distribution starts it; `stop` runs
`bin/stop-cluster.sh`. Everything lives in `<cache>/flink/cluster/`:

    conf/config.yaml, conf/workers   what the scripts read (written at each start)
    log/                             the JobManager's and TaskManager's logs
    run/                             Flink's pid files (env.pid.dir)
    lib/                             PyFlink's lib/ jars plus flink-python (links)
    cluster.json                     the port and settings of the cluster started last

The TaskManager runs Python UDFs with this interpreter (python.executable), the one that
has mlsql's `udfs` package installed; flink-python is on its class path, as the Python
operators of every job need it. Every process of the cluster, the Python workers its
TaskManagers start included, inherits FLINK_PID_DIR=<run/>: `stop` ends those that outlived
their TaskManager (a killed TaskManager leaves its Python workers running).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from mlsql.core.paths import default_checkpoint_dir, user_path
from mlsql.errors import MlsqlError
from mlsql.services.cluster.rest import (
    DEFAULT_PORT,
    Address,
    JobSummary,
    Overview,
    Unreachable,
    jobs,
    taskmanager_ids,
)
from mlsql.services.flink_dist import FlinkDist, pyflink_home
from mlsql.services.processes import HOST, alive, free_port, port_in_use

DEFAULT_SLOTS = 2
NAME = "cluster"
_DAEMONS = ("standalonesession", "taskexecutor")


def default_savepoint_dir() -> Path:
    """$MLSQL_SAVEPOINTS, else ~/.mlsql/savepoints."""
    return user_path("MLSQL_SAVEPOINTS", "savepoints")


def cluster_settings(port: int, slots: int, rpc_port: int,
                     pid_dir: Path) -> dict[str, object]:
    """Flink's configuration for the local cluster (PyFlink's own settings come first)."""
    return {
        "jobmanager.rpc.address": HOST,
        "jobmanager.rpc.port": rpc_port,
        "jobmanager.bind-host": HOST,
        "rest.address": HOST,
        "rest.bind-address": HOST,
        "rest.port": port,
        "taskmanager.host": HOST,
        "taskmanager.bind-host": HOST,
        "taskmanager.numberOfTaskSlots": slots,
        "parallelism.default": 1,
        # Python UDFs run on the TaskManager in the interpreter that has mlsql's udfs.
        "python.executable": sys.executable,
        "python.client.executable": sys.executable,
        "execution.checkpointing.dir": default_checkpoint_dir().as_uri(),
        # Where STOP JOB ... WITH SAVEPOINT writes unless the session sets its own.
        "execution.checkpointing.savepoint-dir": default_savepoint_dir().as_uri(),
        # 2 cores and 24 GiB: a small JobManager; per slot 1.5 GiB of TaskManager, about
        # 40% of it managed memory shared by batch operators and the Python workers.
        "jobmanager.memory.process.size": "1024m",
        "taskmanager.memory.process.size": f"{1024 + 1536 * slots}m",
        "env.pid.dir": str(pid_dir),
    }


@dataclass(frozen=True)
class ClusterStatus:
    running: bool                   # a JobManager answers on the port
    address: Address
    ours: bool = False              # started by `mlsql cluster start` from this cache
    overview: Overview | None = None
    jobs: list[JobSummary] = field(default_factory=list)
    pids: dict[str, int] = field(default_factory=dict)
    log_dir: Path | None = None

    @property
    def web_ui(self) -> str:
        return self.address.url

    def describe(self) -> str:
        if not self.running:
            return f"no Flink cluster is running on {self.address}"
        overview = self.overview
        assert overview is not None
        who = ("started by mlsql" if self.ours
               else "not started by `mlsql cluster start` from this cache")
        lines = [f"Flink {overview.flink_version} cluster running at {self.web_ui} ({who})",
                 f"  TaskManagers: {overview.taskmanagers}, slots: {overview.slots_total} "
                 f"({overview.slots_available} free)"]
        running = [job for job in self.jobs if job.state in ("RUNNING", "CREATED",
                                                             "INITIALIZING", "RESTARTING")]
        lines.append(f"  running jobs: {len(running)}")
        lines += [f"    {job.job_id}  {job.state:<10} {job.name}" for job in running]
        if self.pids:
            lines.append("  processes: " + ", ".join(f"{name} {pid}" for name, pid
                                                     in sorted(self.pids.items())))
        if self.log_dir:
            lines.append(f"  logs: {self.log_dir}")
        return "\n".join(lines)


class LocalCluster:
    """The local standalone cluster kept in mlsql's cache."""

    def __init__(self) -> None:
        from mlsql.services.jars.resolve import cache_root

        self.root = cache_root() / "flink" / NAME
        self.pid_dir = self.root / "run"
        self.log_dir = self.root / "log"

    @property
    def _state_file(self) -> Path:
        return self.root / "cluster.json"

    def status(self, port: int | None = None) -> ClusterStatus:
        """The cluster on `port` (default: the port of the one started last, else 8081)."""
        state = self._read_state() or {}
        port = port or state.get("port") or DEFAULT_PORT
        address = Address(HOST, port)
        pids = self._pids()
        ours = bool(pids) and state.get("port") == port
        try:
            overview = Overview.read(address, timeout=3)
            listed = jobs(address, timeout=3)
        except Unreachable:
            return ClusterStatus(False, address, ours, pids=pids if ours else {},
                                 log_dir=self.log_dir if ours else None)
        return ClusterStatus(True, address, ours, overview, listed, pids if ours else {},
                             self.log_dir if ours else None)

    def start(self, port: int = DEFAULT_PORT, slots: int = DEFAULT_SLOTS, *,
              taskmanagers: int = 1, timeout: float = 60,
              extra: Mapping[str, object] | None = None,
              progress: Callable[[str], None] | None = None) -> tuple[ClusterStatus, bool]:
        """Start the cluster unless one runs on `port` already; returns its status once its
        TaskManagers' slots have registered, and whether this call started it."""
        if slots < 1:
            raise MlsqlError("a TaskManager needs at least one slot")
        if taskmanagers < 1:
            raise MlsqlError("a cluster needs at least one TaskManager")
        current = self.status(port)
        if current.running:
            return current, False
        state = self._read_state() or {}
        if self._pids() and state.get("port") not in (None, port):
            other = self.status(state["port"])
            if other.running:
                raise MlsqlError(f"mlsql's local cluster already runs on port "
                                 f"{state['port']}; stop it first (`mlsql cluster stop`) "
                                 f"to start one on port {port}")
        self._stop_leftovers()
        if port_in_use(port):
            raise MlsqlError(f"port {port} on {HOST} is in use by a program that is not a "
                             "Flink JobManager; choose another with --port")
        settings = cluster_settings(port, slots, free_port(), self.pid_dir)
        settings |= dict(extra or {})
        dist = self._dist(settings, taskmanagers)
        self._write_state({"port": port, "slots": slots, "taskmanagers": taskmanagers,
                           "settings": settings, "started_at": time.time()})
        for old in self.log_dir.glob("flink-*"):
            with contextlib.suppress(OSError):
                old.unlink()
        if progress:
            progress(f"starting Flink's standalone cluster on {HOST}:{port} ({taskmanagers} "
                     f"TaskManager{'s' if taskmanagers > 1 else ''}, {slots} slots each)")
        completed = subprocess.run([str(dist.script("start-cluster.sh"))], env=self._env(dist),
                                   capture_output=True, text=True, stdin=subprocess.DEVNULL,
                                   timeout=120)
        if completed.returncode != 0:
            self.stop()  # the JobManager may have started before the TaskManager failed
            lines = (completed.stdout + completed.stderr).strip().splitlines()
            causes = [line for line in lines if "Exception" in line or "[ERROR]" in line]
            raise MlsqlError("bin/start-cluster.sh failed (the cluster is stopped again):\n"
                             + "\n".join((causes or lines)[-6:])[-3000:])
        return self._await_ready(Address(HOST, port), timeout, taskmanagers, slots), True

    def add_taskmanager(self, timeout: float = 60) -> ClusterStatus:
        """Start one more TaskManager (bin/taskmanager.sh), e.g. in place of one that died;
        returns the status once it has registered."""
        state = self._read_state()
        if not state or "standalonesession" not in self._pids():
            raise MlsqlError("no cluster started by `mlsql cluster start` is running")
        address = Address(HOST, state["port"])
        before = taskmanager_ids(address)
        dist = self._dist(state["settings"], state.get("taskmanagers", 1))
        completed = subprocess.run([str(dist.script("taskmanager.sh")), "start"],
                                   env=self._env(dist), capture_output=True, text=True,
                                   stdin=subprocess.DEVNULL, timeout=120)
        if completed.returncode != 0:
            raise MlsqlError("bin/taskmanager.sh start failed:\n"
                             + (completed.stdout + completed.stderr).strip()[-3000:])
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:  # a new id: a dead one may still be listed
            with contextlib.suppress(Unreachable):
                if taskmanager_ids(address) - before:
                    return self.status(address.port)
            time.sleep(0.5)
        raise MlsqlError(f"the new TaskManager did not register within {timeout:.0f} s; "
                         f"its log is the newest in {self.log_dir}")

    def stop(self, timeout: float = 30) -> bool:
        """Stop the cluster this cache started; False when none was running."""
        state = self._read_state()
        if not state or not (self._pids() or self._descendants()):
            return False
        dist = self._dist(state["settings"], state.get("taskmanagers", 1))
        subprocess.run([str(dist.script("stop-cluster.sh"))], env=self._env(dist),
                       capture_output=True, text=True, stdin=subprocess.DEVNULL,
                       timeout=timeout + 30)
        self._stop_leftovers(timeout)
        _end(self._descendants(), timeout)
        return True

    def _descendants(self) -> list[int]:
        """Live processes that inherited this cluster's FLINK_PID_DIR: its daemons and the
        Python workers they started, also those whose TaskManager was killed."""
        marker = f"FLINK_PID_DIR={self.pid_dir}".encode() + b"\0"
        found = []
        for environ in Path("/proc").glob("[0-9]*/environ"):
            pid = int(environ.parent.name)
            if pid == os.getpid():
                continue
            with contextlib.suppress(OSError):
                if marker in environ.read_bytes() + b"\0" and alive(pid):
                    found.append(pid)
        return found

    def log_files(self) -> list[Path]:
        return sorted(self.log_dir.glob("flink-*.log"))

    def _dist(self, settings: Mapping[str, object], taskmanagers: int = 1) -> FlinkDist:
        # flink-python joins lib/: the Python operators' classes must be on the cluster's
        # class path (shipped as a job's own jar, they would be loaded again for every job).
        dist = FlinkDist(NAME, settings,
                         extra_lib_jars=sorted((pyflink_home() / "opt").glob("flink-python*.jar")))
        # The TaskManagers on this machine, one line each (PyFlink's conf/workers says
        # localhost).
        (dist.conf_dir / "workers").write_text(f"{HOST}\n" * taskmanagers)
        (dist.conf_dir / "masters").write_text(f"{HOST}:{settings['rest.port']}\n")
        self.pid_dir.mkdir(parents=True, exist_ok=True)
        return dist

    def _env(self, dist: FlinkDist) -> dict[str, str]:
        return dist.env() | {"FLINK_PID_DIR": str(self.pid_dir)}

    def _await_ready(self, address: Address, timeout: float,
                     taskmanagers: int = 1, slots: int = 1) -> ClusterStatus:
        deadline = time.monotonic() + timeout
        seen = "nothing answers on the port"
        while time.monotonic() < deadline:
            try:
                overview = Overview.read(address, timeout=2)
                # Every slot: a TaskManager is listed before its slots are (a loaded machine
                # returned "TaskManagers: 2, slots: 1" with one slot each).
                if overview.taskmanagers >= taskmanagers and \
                        overview.slots_total >= taskmanagers * slots:
                    return self.status(address.port)
                seen = (f"the JobManager answers but {overview.taskmanagers} of "
                        f"{taskmanagers} TaskManagers and {overview.slots_total} of "
                        f"{taskmanagers * slots} slots have registered")
            except Unreachable:
                pass
            if not self._pids():
                seen = "the cluster's processes exited"
                break
            time.sleep(0.5)
        logs = "\n".join(f"  {path}" for path in self.log_files()) or f"  {self.log_dir}"
        tail = self._log_tail()
        self.stop()
        raise MlsqlError(f"the Flink cluster did not come up on {address} within "
                         f"{timeout:.0f} s ({seen}); its logs:\n{logs}"
                         + (f"\nthe end of the newest:\n{tail}" if tail else ""))

    def _log_tail(self, lines: int = 15) -> str:
        files = sorted(self.log_files(), key=lambda p: p.stat().st_mtime)
        if not files:
            return ""
        errors = [line for line in files[-1].read_text(errors="replace").splitlines()
                  if " ERROR " in line or "Exception" in line]
        chosen = errors or files[-1].read_text(errors="replace").splitlines()
        return "\n".join(chosen[-lines:])

    def _pids(self) -> dict[str, int]:
        """The live JobManager/TaskManager processes recorded in Flink's pid files."""
        found: dict[str, int] = {}
        for daemon in _DAEMONS:
            for path in self.pid_dir.glob(f"flink-*-{daemon}.pid"):
                with contextlib.suppress(OSError, ValueError):
                    for line in path.read_text().split():
                        if alive(int(line)):
                            found[daemon] = int(line)
        return found

    def _stop_leftovers(self, timeout: float = 30) -> None:
        """Terminate processes the pid files still name (a cluster whose start failed, or
        one stop-cluster.sh did not end) and clear the files."""
        _end(list(self._pids().values()), timeout)
        for path in self.pid_dir.glob("flink-*.pid"):
            with contextlib.suppress(OSError):
                path.unlink()

    def _read_state(self) -> dict | None:
        try:
            return json.loads(self._state_file.read_text())
        except (OSError, ValueError):
            return None

    def _write_state(self, state: dict) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self._state_file.write_text(json.dumps(state, indent=2))





def _end(pids: list[int], timeout: float) -> None:
    """SIGTERM, then SIGKILL what is still alive after `timeout` seconds."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, 15)
    deadline = time.monotonic() + timeout
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    for pid in pids:
        if alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, 9)

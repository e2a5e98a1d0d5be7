"""A Flink standalone cluster started by `mlsql cluster start` for one test module, and the
processes below its TaskManagers."""

from __future__ import annotations

import json
import os
import subprocess
import urllib.request
from contextlib import suppress
from pathlib import Path

from tests.helpers import subprocess_env
from tests.integration.kafka_helpers import MLSQL


class Cluster:
    def __init__(self, root: Path, port: int) -> None:
        self.root = root
        self.port = port
        self.address = f"127.0.0.1:{port}"
        self.registry = root / "registry"
        self.env = subprocess_env(MLSQL_CACHE=str(root / "cache"),
                                  MLSQL_CHECKPOINTS=str(root / "checkpoints"),
                                  MLSQL_SAVEPOINTS=str(root / "savepoints"))
        self.flink = root / "cache" / "flink" / "cluster"

    def mlsql(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([str(MLSQL), *args], env=self.env, input=stdin,
                              capture_output=True, text=True, timeout=300)

    def run_sql(self, script: str, *args: str) -> subprocess.CompletedProcess:
        return self.mlsql("run", "--jobmanager", self.address, "--registry",
                          str(self.registry), *args, "-", stdin=script)

    def rest(self, path: str):
        with urllib.request.urlopen(f"http://{self.address}{path}", timeout=10) as answer:
            return json.load(answer)

    def jobs(self) -> dict[str, dict]:
        return {job["jid"]: job for job in self.rest("/jobs/overview")["jobs"]}

    def state(self, job_id: str) -> str:
        return self.rest(f"/jobs/{job_id}")["state"]

    def plan(self, job_id: str) -> str:
        return " ".join(node["description"] for node in
                        self.rest(f"/jobs/{job_id}/plan")["plan"]["nodes"])

    def pids(self, daemon: str) -> list[int]:
        """Every pid Flink's pid file lists for the daemon, the newest last."""
        path = next((self.flink / "run").glob(f"flink-*-{daemon}.pid"))
        return [int(pid) for pid in path.read_text().split()]

    def pid(self, daemon: str) -> int:
        return self.pids(daemon)[-1]

    def job_taskmanagers(self, job_id: str) -> set[str]:
        """The ids of the TaskManagers running the job's tasks."""
        return {tm["taskmanager-id"] for vertex in self.rest(f"/jobs/{job_id}")["vertices"]
                for tm in self.rest(f"/jobs/{job_id}/vertices/{vertex['id']}/taskmanagers")
                ["taskmanagers"]}

    def taskmanager_pid(self, taskmanager_id: str) -> int:
        """The pid of a TaskManager by its REST id (`127.0.0.1:<rpc port>-<suffix>`): the
        TaskManager process that listens on that port."""
        port = int(taskmanager_id.split("-")[0].rsplit(":", 1)[1])
        inodes = _listening_inodes(port)
        for pid in self.pids("taskexecutor"):
            fds = Path(f"/proc/{pid}/fd")
            with suppress(OSError):
                if any(os.readlink(fd) in inodes for fd in fds.iterdir()):
                    return pid
        raise AssertionError(f"no TaskManager process listens on port {port}")

    def taskmanager_log(self, suffix: str = "log") -> str:
        return "".join(p.read_text(errors="replace")
                       for p in (self.flink / "log").glob(f"flink-*-taskexecutor-*.{suffix}"))


def _listening_inodes(port: int) -> set[str]:
    """The sockets (as /proc/<pid>/fd links spell them) listening on a TCP port."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "0A":  # LISTEN
                found.add(f"socket:[{fields[9]}]")
    return found


def python_worker_processes(parent: int) -> list[tuple[int, str]]:
    children: dict[int, list[int]] = {}
    commands: dict[int, str] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            commands[int(stat.parent.name)] = (stat.parent / "cmdline").read_bytes() \
                .replace(b"\0", b" ").decode(errors="replace")
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(stat.parent.name))
    found, todo = [], list(children.get(parent, []))
    while todo:
        pid = todo.pop()
        if "pyflink.fn_execution.beam.beam_boot" in commands.get(pid, ""):
            found.append((pid, commands[pid]))
        todo += children.get(pid, [])
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"

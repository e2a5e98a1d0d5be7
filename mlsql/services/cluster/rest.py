"""Flink's REST API, read with the standard library: is a JobManager there, what does it run.

The client half of `Session(jobmanager=...)` and `mlsql cluster status` use it; nothing here
needs a JVM.
"""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from mlsql.errors import MlsqlError

DEFAULT_PORT = 8081


@dataclass(frozen=True)
class Address:
    host: str
    port: int

    @property
    def url(self) -> str:
        return f"http://{self}"

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


def parse_address(text: str) -> Address:
    """'HOST:PORT', 'HOST' (port 8081) or 'http://HOST:PORT'."""
    value = text.strip()
    for scheme in ("http://", "https://"):
        if value.lower().startswith(scheme):
            value = value[len(scheme):]
    value = value.rstrip("/")
    host, colon, port = value.rpartition(":")
    if not colon:
        host, port = value, str(DEFAULT_PORT)
    host = host.strip("[]")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise MlsqlError(f"a JobManager address is HOST:PORT (e.g. 127.0.0.1:8081), not "
                         f"{text!r}")
    return Address(host, int(port))


class Unreachable(Exception):
    """Nothing (or nothing that speaks Flink's REST API) answers at the address."""


def get(address: Address, path: str, timeout: float = 5.0) -> Any:
    """GET `path` from the REST API as JSON; raises Unreachable with the reason."""
    try:
        with urllib.request.urlopen(address.url + path, timeout=timeout) as response:
            body = response.read()
    except urllib.error.HTTPError as error:
        raise Unreachable(f"{address.url}{path} answered HTTP {error.code}") from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        if isinstance(reason, socket.timeout | TimeoutError):
            reason = f"no answer within {timeout:.0f} s"
        raise Unreachable(f"nothing answers at {address.url} ({reason})") from None
    try:
        return json.loads(body)
    except ValueError:
        raise Unreachable(f"{address.url}{path} did not answer with JSON: something other "
                          "than Flink's REST API listens there") from None


@dataclass(frozen=True)
class Overview:
    """GET /overview: the cluster's TaskManagers, slots and job counts."""

    flink_version: str
    taskmanagers: int
    slots_total: int
    slots_available: int
    jobs_running: int

    @classmethod
    def read(cls, address: Address, timeout: float = 5.0) -> Overview:
        data = get(address, "/overview", timeout)
        if "taskmanagers" not in data:
            raise Unreachable(f"{address.url}/overview is not Flink's cluster overview: "
                              "something other than a Flink JobManager listens there")
        return cls(str(data.get("flink-version", "?")), int(data["taskmanagers"]),
                   int(data.get("slots-total", 0)), int(data.get("slots-available", 0)),
                   int(data.get("jobs-running", 0)))


@dataclass(frozen=True)
class JobSummary:
    job_id: str
    name: str
    state: str
    start_time: int  # ms since the epoch


def jobs(address: Address, timeout: float = 5.0) -> list[JobSummary]:
    """Every job the JobManager knows, running ones first, newest first."""
    data = get(address, "/jobs/overview", timeout)
    found = [JobSummary(j["jid"], j.get("name", ""), j.get("state", "?"),
                        int(j.get("start-time", 0))) for j in data.get("jobs", [])]
    return sorted(found, key=lambda j: (j.state != "RUNNING", -j.start_time))


def taskmanager_ids(address: Address, timeout: float = 5.0) -> set[str]:
    """The ids of the TaskManagers registered with the JobManager."""
    return {tm["id"] for tm in get(address, "/taskmanagers", timeout)["taskmanagers"]}


def check_jobmanager(address: Address, timeout: float = 5.0) -> Overview:
    """The cluster's overview, or an MlsqlError saying that no JobManager answers."""
    try:
        return Overview.read(address, timeout)
    except Unreachable as error:
        hint = ""
        if address.host in ("127.0.0.1", "localhost"):
            hint = f"; start a local cluster with `mlsql cluster start --port {address.port}`"
        raise MlsqlError(f"no Flink JobManager at {address}: {error}{hint}") from None

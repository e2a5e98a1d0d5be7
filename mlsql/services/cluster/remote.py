"""A session that submits its jobs to a running Flink cluster (`Session(jobmanager=...)`,
`mlsql run --jobmanager HOST:PORT`).

Flink's own client options do it: execution.target=remote with the JobManager's REST address
and port (the REST API is all the client talks to). The address is checked before the JVM
starts, so a wrong one fails at once with a plain message instead of a job's connection
timeout.

What the TaskManagers read and write by path must be the same path for them: the model
registry (the pandas UDF loads the model file of the version it scores), training's
extraction directory (Flink's filesystem sink writes the rows there and this process reads
them back) and the checkpoint directory. On one machine that holds by itself; with
TaskManagers on other hosts those directories must be on a filesystem every host mounts at
the same path.
"""

from __future__ import annotations

import contextlib
import socket
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

from mlsql.services.cluster.rest import Address, Unreachable, check_jobmanager, get, parse_address

_LOCAL_NAMES = {"127.0.0.1", "localhost", "::1"}


def connect(jobmanager: str, registry: Path,
            progress: Callable[[str], None]) -> tuple[Address, dict[str, str]]:
    """The checked address and the Flink options that send every job there."""
    address = parse_address(jobmanager)
    overview = check_jobmanager(address)
    progress(f"submitting jobs to the Flink {overview.flink_version} cluster at {address.url} "
             f"({overview.taskmanagers} TaskManager(s), {overview.slots_total} slots)")
    others = remote_taskmanager_hosts(address)
    if others:
        progress(f"warning: TaskManagers on {', '.join(sorted(others))} read models from "
                 f"{registry} and write training rows under {tempfile.gettempdir()}: both "
                 "must be a filesystem those hosts mount at the same path (see `mlsql "
                 "cluster` in the README)")
    return address, deployment_options(address) | {
        "parallelism.default": cluster_parallelism(address)}


def deployment_options(address: Address) -> dict[str, str]:
    return {"execution.target": "remote", "rest.address": address.host,
            "rest.port": str(address.port)}


def cluster_parallelism(address: Address) -> str:
    """The cluster's parallelism.default. PyFlink's client environment is a local one whose
    parallelism is this machine's CPU count, and a job carries it to the cluster unless the
    session sets one: on a cluster with fewer slots such a job waits for slots until it
    fails. Jobs take the cluster's default instead (a session's SET still wins)."""
    try:
        entries = get(address, "/jobmanager/config")
    except Unreachable:
        entries = []
    values = {e.get("key"): e.get("value") for e in entries if isinstance(e, dict)}
    value = str(values.get("parallelism.default") or "1")
    return value if value.isdigit() and int(value) > 0 else "1"


def address_from_options(options: Mapping[str, str]) -> Address | None:
    """The JobManager the session's options submit to; None for the embedded mini-cluster."""
    if options.get("execution.target", "").lower() != "remote":
        return None
    return Address(options.get("rest.address", "localhost"),
                   int(options.get("rest.port", "8081")))


def unreachable(address: Address) -> str | None:
    """Why the JobManager does not answer now, or None when it does."""
    try:
        get(address, "/overview", timeout=3)
    except Unreachable as error:
        return str(error)
    return None


def remote_taskmanager_hosts(address: Address) -> set[str]:
    """Hosts of registered TaskManagers that are not this machine."""
    try:
        listed = get(address, "/taskmanagers").get("taskmanagers", [])
    except Unreachable:
        return set()
    hosts = {str(tm.get("id", "")).rpartition(":")[0] for tm in listed}
    return {host for host in hosts if host and host not in _local_addresses()}


def _local_addresses() -> set[str]:
    names = set(_LOCAL_NAMES)
    with contextlib.suppress(OSError):
        hostname = socket.gethostname()
        names |= {hostname, socket.getfqdn()}
        names |= set(socket.gethostbyname_ex(hostname)[2])
    return names

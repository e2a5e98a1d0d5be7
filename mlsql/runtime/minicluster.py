"""One embedded Flink mini-cluster per process, shared by every local job.

Flink's local executor starts a new MiniCluster for each job and stops it when the job ends:
each start loads Flink's RPC system (Pekko, in a class loader of its own), a JobManager and a
TaskManager again, about 1 CPU-second before the first record, and the JIT's work on those
classes is thrown away with them. A session that runs many statements (a notebook, a script,
the SQL gateway) pays that on every one. Here the first local job starts one MiniCluster in
PyFlink's JVM and every job after it is submitted to that cluster's REST endpoint on
127.0.0.1, as to a standalone cluster: measured side by side (tests/benchmarks/minicluster.py)
a one-row query took 0.25 s instead of 1.0 s, a pandas-UDF query 0.6 instead of 1.4 CPU-s.

Python UDFs still run in this process (PyFlink's loopback workers), as with Flink's own local
executor. Cluster-level options (`taskmanager.*`) are read once, from the session that starts
the cluster. `MLSQL_LOCAL_CLUSTER=per-job` brings back Flink's one-cluster-per-job executor.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from typing import Any

from pyflink import java_gateway
from pyflink.java_gateway import get_gateway

from mlsql.errors import MlsqlError

MODE_VARIABLE = "MLSQL_LOCAL_CLUSTER"
SHARED, PER_JOB = "shared", "per-job"

HOST = "127.0.0.1"
# A job takes as many slots as its parallelism; concurrent jobs (a running stream and the
# queries beside it) add up. Slots cost nothing until used, but managed memory is split
# evenly among them: 1 GiB over 32 slots gives each 32 MiB, half of what Flink's per-job
# local cluster gives a parallelism-2 job, and plenty for batch sorts and Python operators.
DEFAULT_CLUSTER_OPTIONS = {
    "taskmanager.numberOfTaskSlots": "32",
    "taskmanager.memory.managed.size": "1g",
    "taskmanager.memory.network.min": "128m",
    "taskmanager.memory.network.max": "128m",
    # A finished job's class loader is closed while the cluster lives on; a connector thread
    # that logs after that (Kafka's admin client) then printed a Java stack trace ("Trying to
    # access closed classloader") into the user's output. Flink's own remedy.
    "classloader.check-leaked-classloader": "false",
}
_CLUSTER_PREFIXES = ("taskmanager.", "jobmanager.", "slot.", "pekko.", "blob.", "heartbeat.",
                     "classloader.")

_lock = threading.Lock()
_started: dict[int, tuple[Any, int]] = {}  # id(py4j gateway) -> (MiniCluster, REST port)


def mode() -> str:
    value = os.environ.get(MODE_VARIABLE, SHARED).strip().lower() or SHARED
    if value not in (SHARED, PER_JOB):
        raise MlsqlError(f"{MODE_VARIABLE} must be '{SHARED}' or '{PER_JOB}', not {value!r}")
    return value


def deployment_options(session_options: Mapping[str, str]) -> dict[str, str]:
    """The options that send a local session's jobs to this process's mini-cluster, which is
    started on first use; empty in per-job mode (Flink's local executor)."""
    if mode() == PER_JOB:
        return {}
    return {"execution.target": "remote", "rest.address": HOST,
            "rest.port": str(_rest_port(session_options))}


def started_port() -> int | None:
    """The REST port of this process's mini-cluster, or None before the first local job."""
    gateway = java_gateway._gateway  # get_gateway() would start a JVM
    with _lock:
        started = _started.get(id(gateway)) if gateway is not None else None
    return started[1] if started else None


def _rest_port(session_options: Mapping[str, str]) -> int:
    gateway = get_gateway()
    with _lock:
        started = _started.get(id(gateway))
        if started is None:
            started = _start(gateway, session_options)
            _started.clear()  # a cluster of an earlier JVM went with it
            _started[id(gateway)] = started
        return started[1]


def _start(gateway: Any, session_options: Mapping[str, str]) -> tuple[Any, int]:
    jvm = gateway.jvm
    configuration = jvm.org.apache.flink.configuration.Configuration()
    cluster_options = DEFAULT_CLUSTER_OPTIONS | {
        key: value for key, value in session_options.items() if key.startswith(_CLUSTER_PREFIXES)}
    for key, value in (cluster_options | {"rest.bind-address": HOST, "rest.address": HOST,
                                          "rest.bind-port": "0"}).items():
        configuration.setString(key, value)
    minicluster = jvm.org.apache.flink.runtime.minicluster
    cluster_configuration = (minicluster.MiniClusterConfiguration.Builder()
                             .setConfiguration(configuration)
                             .setNumTaskManagers(1)
                             .setNumSlotsPerTaskManager(
                                 int(cluster_options["taskmanager.numberOfTaskSlots"]))
                             .build())
    cluster = minicluster.MiniCluster(cluster_configuration)
    cluster.start()
    return cluster, cluster.getRestAddress().get().getPort()

"""SHOW JOBS and STOP JOB, which Flink runs only in its SQL gateway: mlsql asks the cluster's
REST API, as the gateway asks its cluster client."""

from __future__ import annotations

import pandas as pd

from mlsql.errors import MlsqlError
from mlsql.runtime import minicluster
from mlsql.services.cluster import jobs as cluster_jobs
from mlsql.services.cluster import remote
from mlsql.services.cluster.local import default_savepoint_dir
from mlsql.services.cluster.rest import Address
from mlsql.statements.dispatch import handles
from mlsql.statements.host import Host
from mlsql.syntax import ir
from mlsql.syntax.splitter import Statement


@handles(ir.ShowJobs)
def show_jobs(host: Host, statement: Statement, parsed: ir.ShowJobs,
              collect: bool) -> pd.DataFrame:
    return cluster_jobs.show_jobs(_address(host, "SHOW JOBS"))


@handles(ir.StopJob)
def stop_job(host: Host, statement: Statement, parsed: ir.StopJob,
             collect: bool) -> pd.DataFrame | None:
    address = _address(host, "STOP JOB")
    savepoints = host.runtime.options.get(cluster_jobs.SAVEPOINT_DIR)
    if savepoints is None and minicluster.started_port() is not None:
        savepoints = default_savepoint_dir().as_uri()
    return cluster_jobs.stop_job(address, parsed, savepoints)


def _address(host: Host, what: str) -> Address:
    """The cluster's REST address: --jobmanager's, else the process's shared mini-cluster."""
    address = remote.address_from_options(host.runtime.options)
    local_port = minicluster.started_port()
    if address is None and local_port is not None:
        address = Address(minicluster.HOST, local_port)
    if address is None:
        raise MlsqlError(f"{what} needs a cluster that outlives a job: with "
                         f"{minicluster.MODE_VARIABLE}={minicluster.PER_JOB} each local "
                         "job has a mini-cluster of its own; unset it, or submit to a "
                         "cluster with --jobmanager HOST:PORT")
    return address

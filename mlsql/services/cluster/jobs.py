"""Flink's `SHOW JOBS` and `STOP JOB '<id>' [WITH SAVEPOINT] [WITH DRAIN]` against a cluster.

Flink implements both in its SQL gateway only: a TableEnvironment refuses them
("ShowJobsOperation doesn't support ExecutableOperation yet"). mlsql runs them the way the
gateway does (list the cluster's jobs; cancel, or stop with a savepoint), through the
JobManager's REST API, with the gateway's result columns.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from datetime import datetime

import pandas as pd

from mlsql.errors import FlinkError, MlsqlError
from mlsql.services.cluster.rest import Address, Unreachable, get, jobs
from mlsql.syntax.ir import StopJob

SAVEPOINT_DIR = "execution.checkpointing.savepoint-dir"
_TERMINAL = {"FINISHED", "FAILED", "CANCELED", "SUSPENDED"}


def show_jobs(address: Address) -> pd.DataFrame:
    """The gateway's columns: job id, job name, status, start time."""
    listed = _call(lambda: jobs(address))
    return pd.DataFrame(
        [[j.job_id, j.name, j.state, datetime.fromtimestamp(j.start_time / 1000)]
         for j in listed],
        columns=["job id", "job name", "status", "start time"])


def stop_job(address: Address, command: StopJob, savepoint_dir: str | None = None,
             timeout: float = 120) -> pd.DataFrame | None:
    """Cancel the job, or stop it with a savepoint (returns its path); waits for the end.
    As in Flink's gateway, WITH DRAIN matters only with a savepoint."""
    job_id = command.job_id
    state = _call(lambda: get(address, f"/jobs/{job_id}").get("state"), job_id)
    if state in _TERMINAL:
        raise FlinkError(f"job {job_id} is not running (it is {state})")
    if not command.with_savepoint:
        _request(address, f"/jobs/{job_id}?mode=cancel", "PATCH", job_id=job_id)
        _await_end(address, job_id, timeout)
        return None
    body = {"drain": command.with_drain, "formatType": "CANONICAL"}
    if savepoint_dir:
        body["targetDirectory"] = savepoint_dir
    trigger = _request(address, f"/jobs/{job_id}/stop", "POST", body, job_id)["request-id"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = _call(lambda: get(address, f"/jobs/{job_id}/savepoints/{trigger}"), job_id)
        if answer.get("status", {}).get("id") == "COMPLETED":
            operation = answer.get("operation") or {}
            if "failure-cause" in operation:
                cause = operation["failure-cause"].get("stack-trace", "").splitlines()
                raise FlinkError(f"could not stop job {job_id} with a savepoint: "
                                 + (cause[0] if cause else "unknown cause"))
            _await_end(address, job_id, timeout)
            return pd.DataFrame([[operation.get("location", "")]], columns=["savepoint path"])
        time.sleep(0.5)
    raise FlinkError(f"job {job_id}'s savepoint did not complete within {timeout:.0f} s")


def _await_end(address: Address, job_id: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _call(lambda: get(address, f"/jobs/{job_id}").get("state"), job_id) in _TERMINAL:
            return
        time.sleep(0.3)
    raise FlinkError(f"job {job_id} did not end within {timeout:.0f} s of STOP JOB")


def _call(read, job_id: str | None = None):
    try:
        return read()
    except Unreachable as error:
        if job_id and "HTTP 404" in str(error):
            raise FlinkError(f"the cluster has no job {job_id}") from None
        if job_id and "HTTP 400" in str(error):
            raise FlinkError(f"{job_id!r} is not a Flink job id (32 hex digits)") from None
        raise MlsqlError(f"the JobManager did not answer: {error}") from None


def _request(address: Address, path: str, method: str, body: dict | None = None,
             job_id: str | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(address.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read()
    except urllib.error.HTTPError as error:
        detail = error.read().decode(errors="replace")
        if error.code == 404 and job_id:
            raise FlinkError(f"the cluster has no job {job_id}") from None
        try:
            messages = json.loads(detail).get("errors", [])
        except ValueError:
            messages = [detail]
        raise FlinkError(f"the JobManager refused {method} {path}: "
                         + (str(messages[0]).splitlines()[0] if messages else
                            f"HTTP {error.code}")) from None
    except (urllib.error.URLError, OSError) as error:
        raise MlsqlError(f"the JobManager at {address} did not answer: "
                         f"{getattr(error, 'reason', error)}") from None
    return json.loads(text) if text.strip() else {}

"""A submitted Flink job, and how it ended."""

from __future__ import annotations

import time

from pyflink.table import TableResult

from mlsql.runtime.flink_errors import to_flink_error

TERMINAL = {"FINISHED", "FAILED", "CANCELED"}


class JobHandle:
    """A submitted Flink job: an INSERT, a statement set, or an online training.

    Every call into Flink happens in the caller's thread. (A background thread blocked in
    Flink once held a second py4j connection, after which the next statement could be planned
    on a JVM thread Flink's planner had never set up: `NullPointerException:
    metadataHandlerProvider` for any job submitted while another ran.) A local job's
    mini-cluster shuts down when the job ends; its result, already complete, still says how.
    """

    def __init__(self, result: TableResult, statement: str) -> None:
        self._result = result
        self.statement = statement
        self._client = result.get_job_client()
        self.job_id = str(self._client.get_job_id())
        self._cancel_requested = False
        self._final_status: str | None = None
        self._failure: BaseException | None = None

    @property
    def table_result(self) -> TableResult:
        """Flink's result of the submitting statement (its content names the job id)."""
        return self._result

    def _settle(self, observed: str) -> None:
        """Record how the ended job ended (its result is complete: this does not block)."""
        if self._final_status is not None:
            return
        try:
            self._result.wait()
            self._final_status = "FINISHED"
        except BaseException as error:
            if self._cancel_requested or observed == "CANCELED":
                self._final_status = "CANCELED"
            else:
                self._final_status = "FAILED"
                self._failure = to_flink_error(error)

    def status(self) -> str:
        """Flink's job status: CREATED, RUNNING, FINISHED, FAILED, CANCELED, ..."""
        if self._final_status is not None:
            return self._final_status
        try:
            status = str(self._client.get_job_status().result().name)
        except Exception:  # the job ended and its mini-cluster is gone
            status = "FINISHED"
        if status in TERMINAL:
            self._settle(status)
            return self._final_status or status
        return status

    def done(self) -> bool:
        return self.status() in TERMINAL

    def wait(self, timeout: float | None = None) -> None:
        """Block until the job ends (or `timeout` seconds pass); raises
        mlsql.errors.FlinkError if it failed."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.done():
            if deadline is not None and time.monotonic() >= deadline:
                return
            remaining = float("inf") if deadline is None else deadline - time.monotonic()
            time.sleep(max(0.0, min(0.2, remaining)))
        if self._failure is not None:
            raise self._failure

    def cancel(self) -> None:
        if self.done():
            return
        self._cancel_requested = True
        try:
            self._client.cancel().result()
        except Exception:
            if not self.done():
                raise
        self.wait(30)

    def __repr__(self) -> str:
        return f"JobHandle(job_id={self.job_id!r}, status={self.status()!r})"

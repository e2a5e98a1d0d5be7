"""A submitted Flink job, and how it ended."""

from __future__ import annotations

import threading

from pyflink.table import TableResult

from mlsql.flink_errors import to_flink_error


class JobHandle:
    """A submitted Flink job: an INSERT or a statement set.

    A local job's mini-cluster shuts down when the job ends, after which Flink can no longer
    be asked for its status; a waiter thread therefore records how the job ended.
    """

    def __init__(self, result: TableResult, statement: str) -> None:
        self._result = result
        self.statement = statement
        self._client = result.get_job_client()
        self.job_id = str(self._client.get_job_id())
        self._cancel_requested = False
        self._final_status: str | None = None
        self._failure: BaseException | None = None
        self._waiter = threading.Thread(target=self._await_end, daemon=True,
                                        name=f"mlsql-job-{self.job_id[:8]}")
        self._waiter.start()

    def _await_end(self) -> None:
        try:
            self._result.wait()
            self._final_status = "FINISHED"
        except BaseException as error:
            if self._cancel_requested:
                self._final_status = "CANCELED"
            else:
                self._final_status = "FAILED"
                self._failure = to_flink_error(error)

    def done(self) -> bool:
        return not self._waiter.is_alive()

    def status(self) -> str:
        """Flink's job status: CREATED, RUNNING, FINISHED, FAILED, CANCELED, ..."""
        if self.done():
            return self._final_status or "UNKNOWN"
        try:
            return str(self._client.get_job_status().result().name)
        except Exception:  # ended between the two checks
            self._waiter.join()
            return self._final_status or "UNKNOWN"

    def wait(self, timeout: float | None = None) -> None:
        """Block until the job ends; raises mlsql.errors.FlinkError if it failed."""
        self._waiter.join(timeout)
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
        self._waiter.join(30)

    def __repr__(self) -> str:
        return f"JobHandle(job_id={self.job_id!r}, status={self.status()!r})"

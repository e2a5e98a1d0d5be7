"""A bounded, live preview of a streaming query, so a cell never blocks forever.

Rows are read on the kernel's main thread from the query's own TableResult iterator (every
call into Flink stays on that thread: see mlsql/runtime/job_handle.py). The iterator blocks
while no row comes, so the time limit is enforced in the JVM: a timer there cancels the job at the
deadline, the blocked read then fails and the preview ends. (A Python timer would need a
second thread calling Flink; Flink's gateway ResultFetcher, which mlsql's gateway pages with,
lives in a jar PyFlink does not ship.) The job is cancelled when the preview ends by the
row limit too. Changelog rows are applied (-U/-D retract the row they name), so an
aggregation previews as its current table.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd
from pyflink.common import RowKind
from pyflink.java_gateway import get_gateway
from pyflink.table import TableResult

from mlsql.runtime.flink_errors import to_flink_error

REDRAW_EVERY_S = 0.5


@dataclass(frozen=True)
class Preview:
    frame: pd.DataFrame
    job_id: str | None
    stopped_by: str  # "row limit", "time limit" or "end of input"
    seconds: float
    limit: int
    timeout_s: float

    @property
    def note(self) -> str:
        job = f"job {self.job_id} " if self.job_id else ""
        if self.stopped_by == "end of input":
            return f"streaming query, {job}finished in {self.seconds:.1f} s"
        bound = f"{self.limit:,} rows" if self.stopped_by == "row limit" else \
            f"{self.timeout_s:g} s"
        return (f"streaming preview: stopped by the {self.stopped_by} ({bound}) after "
                f"{self.seconds:.1f} s, {job}cancelled")


def preview(result: TableResult, limit: int, timeout_s: float,
            on_rows: Callable[[pd.DataFrame], None] | None = None) -> Preview:
    """Read at most `limit` rows of a running query for at most `timeout_s` seconds, then
    cancel its job. `on_rows` is called with the rows so far, at most every 0.5 s."""
    started = time.monotonic()
    names = list(result.get_table_schema().get_field_names())
    client = result.get_job_client()
    job_id = str(client.get_job_id()) if client is not None else None
    timer = _JvmDeadline(result, timeout_s)
    rows: list[list[Any]] = []
    stopped_by = "end of input"
    drawn = time.monotonic()
    ended = False  # the read ended by itself or by a limit (not an interrupt or a failure)
    try:
        with result.collect() as iterator:
            for row in iterator:
                _apply(rows, row)
                if len(rows) >= limit:
                    stopped_by = "row limit"
                    break
                if on_rows is not None and time.monotonic() - drawn >= REDRAW_EVERY_S:
                    on_rows(pd.DataFrame(rows, columns=names))
                    drawn = time.monotonic()
        if stopped_by == "end of input" and timer.fired():
            stopped_by = "time limit"  # the cancel ended the read quietly
        ended = True
    except Exception as error:
        if not timer.fired():
            raise to_flink_error(error) from None  # Flink's message, not a py4j trace
        stopped_by, ended = "time limit", True
    finally:
        timer.close()
        if stopped_by != "end of input" or not ended:  # a limit, an interrupt, a failure
            _cancel(client)
    return Preview(pd.DataFrame(rows, columns=names), job_id, stopped_by,
                   time.monotonic() - started, limit, timeout_s)


def _apply(rows: list[list[Any]], row: Any) -> None:
    values = list(row)
    if row.get_row_kind() in (RowKind.INSERT, RowKind.UPDATE_AFTER):
        rows.append(values)
    elif values in rows:  # UPDATE_BEFORE, DELETE: the row they retract
        rows.remove(values)


def _cancel(client: Any) -> None:
    if client is None:
        return
    with contextlib.suppress(Exception):  # already ended: its mini-cluster may be gone
        client.cancel().result()


class _JvmDeadline:
    """Cancels the result's job after `seconds`, from a JVM thread: a scheduled
    java.beans.EventHandler proxy (a Runnable calling JobClient.cancel())."""

    def __init__(self, result: TableResult, seconds: float) -> None:
        jvm = get_gateway().jvm
        self._seconds = seconds
        self._started = time.monotonic()
        self._executor = None
        optional = result._j_table_result.getJobClient()
        if not optional.isPresent():
            return
        runnable = jvm.java.beans.EventHandler.create(
            jvm.java.lang.Class.forName("java.lang.Runnable"), optional.get(), "cancel")
        self._executor = jvm.java.util.concurrent.Executors.newSingleThreadScheduledExecutor()
        self._task = self._executor.schedule(
            runnable, int(seconds * 1000), jvm.java.util.concurrent.TimeUnit.MILLISECONDS)

    def fired(self) -> bool:
        return self._executor is not None and self._task.isDone() and \
            not self._task.isCancelled()

    def close(self) -> None:
        if self._executor is not None:
            self._task.cancel(False)
            self._executor.shutdownNow()

"""One gateway session: an mlsql Session in a process of its own.

Each session gets its own process (and so its own JVM and embedded mini-cluster, or its own
client of `--jobmanager`): one session's crash, hang or memory cannot reach another's, and a
session runs statements exactly as `mlsql run` does. Inside, one thread makes every call into
Flink (py4j gives each Python thread its own JVM thread, and Flink's planner works only on
the thread it was set up on: see mlsql/runtime/job_handle.py); a second thread answers
the gateway at once (status, "not ready yet", configuration) while a long statement such as
a training runs.
"""

from __future__ import annotations

import os
import queue
import signal
import sys
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from mlsql.core.policy import SessionPolicy
from mlsql.errors import Cancelled, MlsqlError
from mlsql.frontend.parser import ML_FUNCTIONS
from mlsql.gateway.errors import RestError, service_error
from mlsql.syntax.secrets import mask_message, secret_values

# Client properties (from the SQL client's or JDBC driver's own configuration) that a session
# applies; deployment settings such as execution.target or rest.* stay the gateway's.
_APPLIED_PREFIXES = ("table.", "sql-client.", "pipeline.name", "parallelism.default",
                     "execution.runtime-mode", "execution.checkpointing.interval", "mlsql.")


# Set when the client cancels the statement the Flink thread runs: long work (a training)
# reports progress, and the session's progress callback raises Cancelled at its next report.
# One session per process, one statement running at a time: one flag.
_CANCEL_REQUESTED = threading.Event()


@dataclass(frozen=True)
class SessionSpec:
    session_id: str
    registry: str | None
    options: dict[str, str]
    properties: dict[str, str]
    policy: SessionPolicy
    jobmanager: str | None = None
    env: dict[str, str] = field(default_factory=dict)


@dataclass
class Operation:
    handle: str
    statement: str
    state: str = "RUNNING"  # RUNNING, FINISHED, ERROR, CANCELED
    error: BaseException | str | None = None  # a str: an error's text, secrets masked
    fetcher: Any = None


def run_worker(connection: Connection, spec: SessionSpec) -> None:
    """The session process's entry point: build the session, then serve requests."""
    os.environ.update(spec.env)
    # Ctrl-C in the gateway's terminal reaches its whole process group; the gateway closes
    # its sessions itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        session = _build_session(spec)
    except BaseException as error:
        connection.send({"error": service_error("Failed to open session.", error).errors})
        return
    connection.send({"ok": {"sessionHandle": spec.session_id}})
    SessionWorker(session, spec).serve(connection)


def _build_session(spec: SessionSpec):
    from mlsql.session import Session

    prefix = f"[mlsql gateway {spec.session_id[:8]}]"

    def progress(message: str) -> None:
        print(f"{prefix} {time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)
        if _CANCEL_REQUESTED.is_set():  # the client cancelled the running statement
            print(f"{prefix} {time.strftime('%H:%M:%S')} cancelled by the client: stopped "
                  "here, nothing published", file=sys.stderr, flush=True)
            raise Cancelled("cancelled by the client: the statement stopped at this step "
                            "and a training publishes nothing")

    # The client's settings first, the gateway operator's (-D) over them.
    options = {key: value for key, value in spec.properties.items()
               if key.startswith(_APPLIED_PREFIXES) and spec.policy.allows_option(key)}
    options |= spec.options
    extra = {"jobmanager": spec.jobmanager} if spec.jobmanager else {}
    return Session(spec.registry, options=options, progress=progress, policy=spec.policy,
                   **extra)


class SessionWorker:
    def __init__(self, session, spec: SessionSpec) -> None:
        self.session = session
        self.spec = spec
        self.operations: dict[str, Operation] = {}
        self.tasks: queue.Queue[Callable[[], None] | None] = queue.Queue()
        # Operation states change in both threads (a cancel while the statement finishes).
        self._state = threading.Lock()
        self._executing: Operation | None = None  # the statement the Flink thread runs

    def serve(self, connection: Connection) -> None:
        threading.Thread(target=self._answer, args=(connection,), daemon=True,
                         name="gateway-requests").start()
        while (task := self.tasks.get()) is not None:
            task()
        self._close_all()

    # -- the request thread: never calls into Flink itself --------------------------------

    def _answer(self, connection: Connection) -> None:
        try:
            while True:
                request = connection.recv()
                try:
                    reply: dict[str, Any] = {"ok": self._handle(request)}
                except RestError as error:
                    reply = {"error": error.errors, "status": error.status}
                except Exception as error:  # a bug of ours: report it, keep serving
                    reply = {"error": service_error("Request failed.", error).errors}
                connection.send(reply)
                if request["kind"] == "close":
                    break
        except (EOFError, OSError):
            pass  # the gateway is gone: end the session
        finally:
            self.tasks.put(None)

    def _handle(self, request: dict[str, Any]) -> Any:
        kind = request["kind"]
        if kind == "execute":
            operation = Operation(str(uuid.uuid4()), request["statement"])
            self.operations[operation.handle] = operation
            self.tasks.put(lambda: self._execute(operation))
            return {"operationHandle": operation.handle}
        if kind == "configure":
            operation = Operation("configure", request["statement"])
            self._in_flink_thread(lambda: (self._execute(operation), _close_fetcher(operation)))
            if operation.state == "ERROR":
                raise service_error("Failed to configure session.", operation.error)
            return {}
        if kind == "config":
            return {"properties": self._properties()}
        if kind == "complete":
            return {"candidates": complete(request["statement"], request["position"])}
        if kind == "close":
            return {"status": "CLOSED"}
        operation = self._operation(request["operation"])
        if kind == "status":
            return {"status": operation.state}
        if kind == "fetch":
            return self._fetch(operation, request)
        if kind == "cancel":
            return self._cancel(operation)
        if kind == "close_operation":
            self.operations.pop(operation.handle, None)
            self._stop(operation)
            return {"status": "CLOSED"}
        raise service_error("Request failed.", f"unknown request {kind!r}")

    def _operation(self, handle: str) -> Operation:
        operation = self.operations.get(handle)
        if operation is None:
            raise service_error(
                "Failed to getOperationInfo.",
                f"org.apache.flink.table.gateway.api.utils.SqlGatewayException: Can not find "
                f"the submitted operation in the OperationManager with the {handle}.")
        return operation

    def _fetch(self, operation: Operation, request: dict[str, Any]) -> str | dict[str, Any]:
        if operation.state == "RUNNING":  # ask again for the same page
            return {"resultType": "NOT_READY", "nextResultUri": request["uri"]}
        if operation.state == "ERROR":
            raise service_error("Failed to fetchResults.", operation.error)
        if operation.state == "CANCELED":
            raise service_error("Failed to fetchResults.",
                                f"the operation {operation.handle} was canceled")
        from mlsql.gateway.results import page

        return self._in_flink_thread(lambda: page(
            operation.fetcher, request["token"], request["row_format"], request["uri"],
            request["next_uri"], self.session.runtime.t_env.get_config()._j_table_config))

    def _cancel(self, operation: Operation) -> dict[str, str]:
        with self._state:
            state = operation.state
        if state not in ("RUNNING", "FINISHED") or (state == "FINISHED"
                                                     and operation.fetcher is None):
            raise service_error(
                "Failed to cancelOperation.",
                f"Failed to convert the Operation Status from {state} to CANCELED "
                f"for {operation.handle}.")
        self._stop(operation)
        return {"status": "CANCELED"}

    def _stop(self, operation: Operation) -> None:
        """Cancel without waiting: a running statement stops at its next progress report (a
        training publishes nothing) and its result is dropped; a finished one's fetcher is
        closed by the Flink thread when it is free, which cancels a query's job."""
        with self._state:
            running = operation.state == "RUNNING"
            operation.state = "CANCELED"
            if running and self._executing is operation:
                _CANCEL_REQUESTED.set()
        if not running:
            self.tasks.put(lambda: _close_fetcher(operation))

    def _properties(self) -> dict[str, str]:
        return {key: str(value) for key, value in
                (self.spec.properties | self.session.runtime.options).items()}

    def _in_flink_thread(self, work: Callable[[], Any]) -> Any:
        done: Future[Any] = Future()

        def task() -> None:
            try:
                done.set_result(work())
            except BaseException as error:
                done.set_exception(error)

        self.tasks.put(task)
        return done.result()

    # -- the Flink thread ----------------------------------------------------------------

    def _execute(self, operation: Operation) -> None:
        from mlsql.gateway.results import fetcher_for
        from mlsql.statements.script import steps

        with self._state:
            if operation.state == "CANCELED":  # cancelled while it waited its turn
                return
            self._executing = operation
            _CANCEL_REQUESTED.clear()
        try:
            result, query = None, False
            for step in steps(operation.statement):
                result = self.session.execute(step.statement, step.parsed, collect=False)
                query = step.is_query
            fetcher = fetcher_for(result, query)
        except BaseException as error:
            if isinstance(error, KeyboardInterrupt | SystemExit):
                raise
            with self._state:
                operation.error = _shown(error, operation.statement)
                if operation.state != "CANCELED":
                    operation.state = "ERROR"
                self._executing = None
            return
        with self._state:
            self._executing = None
            operation.fetcher = fetcher
            canceled = operation.state == "CANCELED"
            if not canceled:
                operation.state = "FINISHED"
        if canceled:
            _close_fetcher(operation)

    def _close_all(self) -> None:
        for operation in list(self.operations.values()):
            _close_fetcher(operation)


def _close_fetcher(operation: Operation) -> None:
    """Closing a query's fetcher cancels its job, as Flink's gateway does."""
    if operation.fetcher is not None:
        try:
            operation.fetcher.close()
        except Exception as error:  # the job may have ended already
            print(f"[mlsql gateway] closing {operation.handle}: {error}", file=sys.stderr)
        operation.fetcher = None


# The SQL client's Tab: mlsql's statements, common Flink ones, and every ML function the
# parser knows (mlsql.frontend.parser.ML_FUNCTIONS: a new function completes unchanged here).
_KEYWORDS = (
    "CREATE MODEL", "CREATE TABLE", "CREATE VIEW", "CREATE TEMPORARY VIEW", "DESCRIBE MODEL",
    "DROP MODEL", "ALTER MODEL", "SHOW MODELS", "SHOW TABLES", "SHOW JOBS",
    "SHOW CREATE MODEL", "SELECT", "INSERT INTO", "MODEL", "DESCRIPTOR", "TABLE", "FROM",
    "WHERE", "GROUP BY", "ORDER BY", "SET", "RESET", "STOP JOB", "EXPLAIN", *ML_FUNCTIONS,
)


def complete(statement: str, position: int) -> list[str]:
    """Keywords that complete the word before `position` (the SQL client's Tab)."""
    before = statement[:max(0, min(position, len(statement)))]
    word = before.split()[-1].upper() if before and not before[-1].isspace() else ""
    if not word:
        return []
    return [keyword for keyword in _KEYWORDS if keyword.startswith(word)]


def _shown(error: BaseException, statement: str) -> BaseException | str:
    """The error as the client will see it: mlsql's own are masked already (Session.execute);
    any other (a py4j error quoting the statement) as its class and masked text."""
    if isinstance(error, MlsqlError):
        return error
    kind = type(error)
    return (f"{kind.__module__}.{kind.__qualname__}: "
            f"{mask_message(str(error), secret_values(statement))}")

"""The gateway's sessions: one worker process each, opened, called, expired and closed."""

from __future__ import annotations

import contextlib
import multiprocessing
import threading
import time
import uuid
from dataclasses import replace
from typing import Any

from mlsql.gateway.errors import RestError, service_error
from mlsql.gateway.worker import SessionSpec, run_worker

_START_TIMEOUT_S = 180.0


class SessionProcess:
    """A session's worker process and the pipe to it (one request at a time)."""

    def __init__(self, spec: SessionSpec) -> None:
        context = multiprocessing.get_context("spawn")  # no JVM state or threads inherited
        self.handle = spec.session_id
        self._connection, child = context.Pipe()
        self._process = context.Process(target=run_worker, args=(child, spec), daemon=True,
                                        name=f"mlsql-session-{spec.session_id[:8]}")
        self._process.start()
        child.close()
        self._lock = threading.Lock()
        self.last_used = time.monotonic()
        try:
            if not self._connection.poll(_START_TIMEOUT_S):
                raise service_error("Failed to open session.",
                                    f"the session did not start within {_START_TIMEOUT_S:.0f} s")
            self._unwrap(self._receive())
        except BaseException:
            self.kill()
            raise

    def call(self, request: dict[str, Any]) -> Any:
        with self._lock:
            self.last_used = time.monotonic()
            try:
                self._connection.send(request)
                reply = self._receive()
            except OSError:  # the pipe broke: the worker is gone
                raise self._lost() from None
            finally:
                self.last_used = time.monotonic()
        return self._unwrap(reply)

    def touch(self) -> None:
        self.last_used = time.monotonic()

    def alive(self) -> bool:
        return self._process.is_alive()

    def close(self) -> None:
        """Ask the worker to end; one busy for more than 30 s (a request in flight) or slow
        to exit is killed."""
        if self._lock.acquire(timeout=30):
            try:
                self._connection.send({"kind": "close"})
                if self._connection.poll(30):
                    self._connection.recv()
            except (EOFError, OSError):
                pass
            finally:
                self._lock.release()
            self._process.join(15)
        self.kill()

    def kill(self) -> None:
        if self._process.is_alive():
            self._process.kill()
            self._process.join(5)
        self._connection.close()

    def _receive(self) -> dict[str, Any]:
        try:
            return self._connection.recv()
        except (EOFError, OSError):
            raise self._lost() from None

    def _lost(self) -> RestError:
        self._process.join(5)
        return session_lost(self.handle, self._process.exitcode)

    @staticmethod
    def _unwrap(reply: dict[str, Any]) -> Any:
        if "error" in reply:
            raise RestError(reply.get("status", 500), reply["error"])
        return reply["ok"]


def session_lost(handle: str, exit_code: int | None) -> RestError:
    return service_error("Session lost.",
                         f"mlsql.gateway.SessionLost: the process of session {handle} exited "
                         f"(exit code {exit_code}); open a new session")


class Sessions:
    """All open sessions; ones idle longer than `idle_timeout_s` are closed."""

    def __init__(self, template: SessionSpec, idle_timeout_s: float,
                 max_sessions: int) -> None:
        self._template = template
        self._idle_timeout_s = idle_timeout_s
        self._max_sessions = max_sessions
        self._sessions: dict[str, SessionProcess] = {}
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        threading.Thread(target=self._expire, daemon=True, name="session-expiry").start()

    def open(self, properties: dict[str, str]) -> str:
        with self._lock:
            if self._stopped.is_set():
                raise service_error("Failed to open session.", "the gateway is shutting down")
            if len(self._sessions) >= self._max_sessions:
                raise service_error(
                    "Failed to open session.",
                    f"the gateway holds {self._max_sessions} sessions, its maximum "
                    "(--max-sessions); close one first")
            handle = str(uuid.uuid4())
            self._sessions[handle] = None  # type: ignore[assignment]  # reserve the slot
        try:
            spec = replace(self._template, session_id=handle, properties=properties)
            session = SessionProcess(spec)
        except BaseException:
            with self._lock:
                self._sessions.pop(handle, None)
            raise
        with self._lock:
            stopped = self._stopped.is_set()
            if not stopped:
                self._sessions[handle] = session
        if stopped:  # close_all ran while this one opened
            session.close()
            raise service_error("Failed to open session.", "the gateway is shutting down")
        return handle

    def get(self, handle: str) -> SessionProcess:
        with self._lock:
            session = self._sessions.get(handle)
        if session is None:
            raise service_error(
                "Failed to get session.",
                f"org.apache.flink.table.gateway.service.session.SqlGatewaySessionException: "
                f"Session '{handle}' does not exist.")
        if not session.alive():
            self._discard(handle)
            session.kill()
            raise session_lost(handle, None)
        return session

    def close(self, handle: str) -> None:
        session = self.get(handle)
        self._discard(handle)
        session.close()

    def close_all(self) -> None:
        self._stopped.set()
        with self._lock:
            sessions, self._sessions = list(self._sessions.values()), {}
        closing = [threading.Thread(target=session.close, daemon=True)
                   for session in sessions if session is not None]
        for thread in closing:
            thread.start()
        for thread in closing:
            thread.join(90)

    def _discard(self, handle: str) -> None:
        with self._lock:
            self._sessions.pop(handle, None)

    def _expire(self) -> None:
        while not self._stopped.wait(5):
            now = time.monotonic()
            with self._lock:
                idle = [h for h, s in self._sessions.items()
                        if s is not None and now - s.last_used > self._idle_timeout_s]
            for handle in idle:  # each in a thread: one stuck session must not hold the rest
                threading.Thread(target=self._close_quietly, args=(handle,), daemon=True,
                                 name=f"expire-{handle[:8]}").start()

    def _close_quietly(self, handle: str) -> None:
        with contextlib.suppress(Exception):
            self.close(handle)

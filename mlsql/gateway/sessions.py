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
        if not self._connection.poll(_START_TIMEOUT_S):
            self.kill()
            raise service_error("Failed to open session.",
                                f"the session did not start within {_START_TIMEOUT_S:.0f} s")
        self._unwrap(self._receive())

    def call(self, request: dict[str, Any]) -> Any:
        with self._lock:
            self.last_used = time.monotonic()
            try:
                self._connection.send(request)
                reply = self._receive()
            finally:
                self.last_used = time.monotonic()
        return self._unwrap(reply)

    def touch(self) -> None:
        self.last_used = time.monotonic()

    def alive(self) -> bool:
        return self._process.is_alive()

    def close(self) -> None:
        with contextlib.suppress(RestError):
            self.call({"kind": "close"})
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
            self._process.join(5)
            raise service_error(
                "Session lost.",
                f"mlsql.gateway.SessionLost: the process of session {self.handle} exited "
                f"(exit code {self._process.exitcode}); open a new session") from None

    @staticmethod
    def _unwrap(reply: dict[str, Any]) -> Any:
        if "error" in reply:
            raise RestError(reply.get("status", 500), reply["error"])
        return reply["ok"]


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
            self._sessions[handle] = session
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
            raise service_error("Session lost.",
                                f"mlsql.gateway.SessionLost: the process of session {handle} "
                                "exited; open a new session")
        return session

    def close(self, handle: str) -> None:
        session = self.get(handle)
        self._discard(handle)
        session.close()

    def close_all(self) -> None:
        self._stopped.set()
        with self._lock:
            sessions, self._sessions = list(self._sessions.values()), {}
        for session in sessions:
            if session is not None:
                session.close()

    def _discard(self, handle: str) -> None:
        with self._lock:
            self._sessions.pop(handle, None)

    def _expire(self) -> None:
        while not self._stopped.wait(5):
            now = time.monotonic()
            with self._lock:
                idle = [h for h, s in self._sessions.items()
                        if s is not None and now - s.last_used > self._idle_timeout_s]
            for handle in idle:
                with contextlib.suppress(RestError):
                    self.close(handle)

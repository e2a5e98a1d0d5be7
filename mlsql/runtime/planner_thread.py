"""Keep a session thread's py4j calls on the JVM thread Flink's planner was set up on.

py4j serves each connection on a JVM thread of its own, and a Python thread takes whichever
idle connection was returned last. Flink's planner keeps Calcite's metadata provider in a
thread-local of the JVM thread that created the TableEnvironment: planning on any other JVM
thread fails with `NullPointerException: metadataHandlerProvider`, and so does every later
statement of that TableEnvironment. PyFlink's in-process Python workers (loopback mode) call
the JVM from threads of their own, so during a pandas-UDF job, and while a cancelled one winds
down, the connections change hands between those threads and the session's.

`pin_current_thread` gives the calling Python thread a connection of its own that no other
thread is lent: every call it makes, the TableEnvironment's creation included, runs on one
JVM thread. Other threads share py4j's pool as before, and so does a call the pinned thread
makes while its own call is in flight: py4j releases a garbage-collected Java object by a
command sent from whichever thread the collection runs on, in the middle of another call.
"""

from __future__ import annotations

import threading
from typing import Any

from pyflink.java_gateway import get_gateway

_lock = threading.Lock()


class _PinningClient:
    """Wraps a py4j GatewayClient's connection pool: pinned threads keep one connection."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self._take = client._get_connection
        self._give_back = client._give_back_connection
        self._send = client.send_command
        self._threads: set[int] = set()
        self._connections: dict[int, Any] = {}  # thread ident -> its own connection
        self._busy: set[int] = set()  # threads whose own connection is in a call now
        client._get_connection = self.get_connection
        client._give_back_connection = self.give_back_connection
        client.send_command = self.send_command

    def pin(self, thread: int) -> None:
        self._threads.add(thread)

    def send_command(self, command: str, retry: bool = True, binary: bool = False) -> Any:
        """py4j's send_command; the outermost call of a pinned thread frees its connection
        for the thread's next call however it ends (an interrupt between taking and giving
        back the connection would otherwise send every later call to the pool)."""
        thread = threading.get_ident()
        outer = thread in self._threads and thread not in self._busy
        try:
            return self._send(command, retry, binary)
        finally:
            if outer and not binary:  # a binary answer holds the connection until released
                self._busy.discard(thread)

    def get_connection(self) -> Any:
        thread = threading.get_ident()
        if thread not in self._threads:
            return self._take()
        connection = self._connections.get(thread)
        if thread in self._busy and connection is not None and connection.is_connected:
            return self._take()  # a call nested in the thread's own (a finalizer)
        if connection is None or not connection.is_connected:
            # py4j closes a connection on a network error or an interrupted call; the thread
            # then starts over on a new JVM thread (a TableEnvironment created on the old one
            # cannot plan there).
            connection = self._take()
            self._connections[thread] = connection
        self._busy.add(thread)
        return connection

    def give_back_connection(self, connection: Any) -> None:
        thread = threading.get_ident()
        if connection is self._connections.get(thread):
            self._busy.discard(thread)
            return  # stays with its thread
        self._give_back(connection)


_pinning: _PinningClient | None = None


def pin_current_thread() -> None:
    """From now on, every py4j call of this Python thread uses the same JVM thread. Call it
    before creating a TableEnvironment on this thread."""
    global _pinning
    with _lock:
        client = get_gateway()._gateway_client
        if _pinning is None or _pinning._client is not client:
            _pinning = _PinningClient(client)
        _pinning.pin(threading.get_ident())


def pinned_connection() -> Any | None:
    """The connection this thread is pinned to, if any (for tests and diagnostics)."""
    if _pinning is None:
        return None
    return _pinning._connections.get(threading.get_ident())

"""Keep the session thread's py4j calls on the JVM thread Flink's planner was set up on.

py4j serves each connection on a JVM thread of its own, and a Python thread takes the idle
connection returned last. PyFlink's in-process Python workers (loopback mode) call the JVM
from threads of their own and leave a second connection behind (measured: after one pandas-UDF
job the pool holds two). Once the two swap places, the session plans on a JVM thread whose
Calcite metadata provider was never set: `NullPointerException: metadataHandlerProvider`, and
every later statement of the TableEnvironment fails.
"""

from __future__ import annotations

import threading
from typing import Any

from pyflink.java_gateway import get_gateway


class PlannerConnection:
    """The py4j connection a TableEnvironment was created on; `restore` drops the others."""

    def __init__(self) -> None:
        self._pool = get_gateway()._gateway_client.deque
        self._connection: Any = None
        self._thread: int | None = None

    def capture(self) -> None:
        """Call right after creating a TableEnvironment: its connection is the one returned
        last."""
        self._connection = self._pool[-1] if self._pool else None
        self._thread = threading.get_ident()

    def restore(self) -> None:
        """Close every idle connection but the planner's. A no-op on any other thread than
        the one that created the environment, and while the planner's connection is in use
        elsewhere (a worker thread calling the JVM at this moment)."""
        connection = self._connection
        if (connection is None or threading.get_ident() != self._thread
                or not any(c is connection for c in self._pool)):
            return
        for other in [c for c in self._pool if c is not connection]:
            try:
                self._pool.remove(other)
            except ValueError:  # taken by a worker thread meanwhile
                continue
            other.close()

"""The planner's end of a training collective: where its Flink tasks meet and report.

A TCP server of JSON lines (udfs/collective_training.py is the other end). Each task says
hello with its rank; once all have, each is answered with the listening address of every
rank (LightGBM's machine list). Every message is queued for the planner's thread, which turns
them into progress and fails the training when the tasks do not all arrive in time.
"""

from __future__ import annotations

import contextlib
import json
import queue
import socket
import threading
import time
from typing import Any


class Coordinator:
    def __init__(self, workers: int, host: str, timeout: float) -> None:
        self.workers = workers
        self.timeout = timeout
        self.messages: queue.Queue[dict[str, Any]] = queue.Queue()
        self._server = socket.create_server((host, 0))
        self.address = (host, self._server.getsockname()[1])
        self._lock = threading.Lock()
        self._hellos: dict[int, tuple[dict[str, Any], socket.socket]] = {}
        self._first_hello: float | None = None
        self._answered = False
        self._closed = False
        threading.Thread(target=self._accept, name="mlsql-coordinator", daemon=True).start()

    def arrived(self) -> int:
        with self._lock:
            return len(self._hellos)

    def stalled(self) -> str | None:
        """Why the tasks cannot go on, when some arrived and the rest did not in time: the
        waiting tasks are told so, and fail with that message."""
        with self._lock:
            if self._answered or self._first_hello is None or \
                    time.monotonic() - self._first_hello < self.timeout:
                return None
            reason = (f"only {len(self._hellos)} of {self.workers} training tasks started "
                      f"within {self.timeout:.0f} s of the first; distributed training needs "
                      "all of them running at once (one task slot each)")
            self._broadcast({"error": reason})
            self._answered = True
            return reason

    def close(self) -> None:
        with self._lock:
            self._closed = True
            for _, connection in self._hellos.values():
                connection.close()
        self._server.close()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._server.accept()
            except OSError:  # closed
                return
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        with connection, connection.makefile("r", encoding="utf-8") as lines:
            try:
                for line in lines:
                    message = json.loads(line)
                    if message.get("event") == "hello":
                        self._hello(message, connection)
                    self.messages.put(message)
            except (OSError, ValueError):  # the task went away, or spoke garbage
                return

    def _hello(self, message: dict[str, Any], connection: socket.socket) -> None:
        with self._lock:
            if self._closed:
                return
            self._hellos[int(message["rank"])] = (message, connection)
            if self._first_hello is None:
                self._first_hello = time.monotonic()
            if len(self._hellos) == self.workers and not self._answered:
                machines = ",".join(f"{m['host']}:{m['port']}" for _, (m, _) in
                                    sorted(self._hellos.items()))
                self._broadcast({"machines": machines})
                self._answered = True

    def _broadcast(self, message: dict[str, Any]) -> None:
        data = (json.dumps(message) + "\n").encode()
        for _, connection in self._hellos.values():
            with contextlib.suppress(OSError):  # that task's failure is reported by Flink
                connection.sendall(data)

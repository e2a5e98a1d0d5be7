"""The planner's end of a training collective: where its Flink tasks meet and report.

A TCP server of JSON lines (udfs/collective_training.py is the other end). Each task says
hello with its rank and what it knows of its rows; once all have, each is answered with
`merge` of the hellos (by rank) and the listening address of every rank (LightGBM's machine
list). Every message is queued for the planner's thread, which turns them into progress and
fails the training when the tasks do not all arrive in time.
"""

from __future__ import annotations

import contextlib
import json
import queue
import socket
import threading
import time
from collections.abc import Callable
from typing import Any


class Coordinator:
    def __init__(self, workers: int, host: str, timeout: float,
                 merge: Callable[[list[dict[str, Any]]], dict[str, Any]]) -> None:
        self.workers = workers
        self.timeout = timeout
        self._merge = merge
        self.answer: dict[str, Any] | None = None
        self.failure: str | None = None
        self.messages: queue.Queue[dict[str, Any]] = queue.Queue()
        self._server = socket.create_server((host, 0))
        self.address = (host, self._server.getsockname()[1])
        self._lock = threading.Lock()
        self._hellos: dict[int, tuple[dict[str, Any], socket.socket]] = {}
        self._first_hello: float | None = None
        self._answered = False
        self._closed = False
        self._lost: list[int] = []  # ranks whose connection ended before "done"
        threading.Thread(target=self._accept, name="mlsql-coordinator", daemon=True).start()

    def arrived(self) -> int:
        with self._lock:
            return len(self._hellos)

    def check_stalled(self) -> None:
        """When some tasks arrived and the rest did not in time, the waiting ones are told
        why (and fail with that message), which is kept as `failure`."""
        with self._lock:
            if self._answered or self._first_hello is None or \
                    time.monotonic() - self._first_hello < self.timeout:
                return
            self.failure = (f"only {len(self._hellos)} of {self.workers} training tasks "
                            f"started within {self.timeout:.0f} s of the first; distributed "
                            "training needs all of them running at once (one task slot each)")
            self._broadcast({"error": self.failure})
            self._answered = True

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

    def first_lost(self) -> dict[str, Any] | None:
        """The hello of the first task that went away before saying it was done (the others
        are stopped by Flink after it)."""
        with self._lock:
            return self._hellos[self._lost[0]][0] if self._lost else None

    def _serve(self, connection: socket.socket) -> None:
        rank = None
        with connection, connection.makefile("r", encoding="utf-8") as lines:
            try:
                for line in lines:
                    message = json.loads(line)
                    if message.get("event") == "hello":
                        rank = int(message["rank"])
                        self._hello(message, connection)
                    elif message.get("event") == "done":
                        rank = None
                    self.messages.put(message)
            except (OSError, ValueError):  # the task went away, or spoke garbage
                pass
        if rank is not None:
            with self._lock:
                self._lost.append(rank)

    def _hello(self, message: dict[str, Any], connection: socket.socket) -> None:
        with self._lock:
            if self._closed:
                return
            self._hellos[int(message["rank"])] = (message, connection)
            if self._first_hello is None:
                self._first_hello = time.monotonic()
            if len(self._hellos) == self.workers and not self._answered:
                hellos = [m for _, (m, _) in sorted(self._hellos.items())]
                try:
                    answer = self._merge(hellos)
                except Exception as error:  # the tasks stop with the reason
                    self.failure = str(error)
                    self._broadcast({"error": self.failure})
                else:
                    self.answer = answer | {"machines": ",".join(
                        f"{m['host']}:{m['port']}" for m in hellos)}
                    self._broadcast(self.answer)
                self._answered = True

    def _broadcast(self, message: dict[str, Any]) -> None:
        data = (json.dumps(message) + "\n").encode()
        for _, connection in self._hellos.values():
            with contextlib.suppress(OSError):  # that task's failure is reported by Flink
                connection.sendall(data)

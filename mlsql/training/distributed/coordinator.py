"""The planner's end of a training collective: where its Flink tasks meet and report.

A TCP server of JSON lines (udfs/collective_training.py is the other end). A task reports the
rows it receives ("loading"), then says hello with what it knows of its rows; once all have,
each is answered with `merge` of the hellos (by rank) and the listening address of every rank
(LightGBM's machine list). A task ends with "done" and its result, or "failed" and its error.
Every message is queued for the planner's thread, which turns them into progress; results
are kept here, as is what went wrong: the tasks that did not all arrive in time, a task's own
error, or a task whose connection ended without either (killed, out of memory).
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
        self.failure: str | None = None  # the rendezvous failed: why
        self.results: dict[int, dict[str, Any]] = {}
        self.messages: queue.Queue[dict[str, Any]] = queue.Queue()
        self._server = socket.create_server((host, 0))
        self.address = (host, self._server.getsockname()[1])
        self._lock = threading.Lock()
        self._hellos: dict[int, tuple[dict[str, Any], socket.socket]] = {}
        self._connections: set[socket.socket] = set()
        self._pids: dict[int, int] = {}
        self._first_hello: float | None = None
        self._answered = False
        self._closed = False
        self._lost: list[int] = []  # ranks whose connection ended without done or failed
        self._failed: list[tuple[int, str]] = []  # (rank, the task's error)
        self._thread = threading.Thread(target=self._accept, name="mlsql-coordinator",
                                        daemon=True)
        self._thread.start()

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

    def what_went_wrong(self) -> str | None:
        """The first cause known: the rendezvous's failure, a task that went away without a
        word (the others fail after it), else the first task's own error."""
        with self._lock:
            if self.failure:
                return self.failure
            if self._lost:
                rank = self._lost[0]
                return (f"worker {rank + 1}/{self.workers} (process "
                        f"{self._pids.get(rank, '?')}) ended before finishing its part "
                        "(killed, out of memory, or its TaskManager lost), and the others "
                        "were stopped")
            if self._failed:
                rank, error = self._failed[0]
                return f"worker {rank + 1}/{self.workers} failed: {error}"
            return None

    def wait_for_results(self, seconds: float) -> None:
        """Until every task's result is in (they are sent just before the job ends)."""
        deadline = time.monotonic() + seconds
        while len(self.results) < self.workers and time.monotonic() < deadline:
            time.sleep(0.05)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            connections = list(self._connections)
        for connection in [self._server, *connections]:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
            connection.close()
        self._thread.join(timeout=5)

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._server.accept()
            except OSError:  # closed
                return
            with self._lock:
                if self._closed:
                    connection.close()
                    return
                self._connections.add(connection)
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        rank, ended = None, False
        with connection, connection.makefile("r", encoding="utf-8") as lines:
            try:
                for line in lines:
                    message = json.loads(line)
                    event = message.get("event")
                    if "rank" in message:
                        rank = int(message["rank"])
                    with self._lock:
                        if "pid" in message:
                            self._pids[rank] = int(message["pid"])
                        if event == "done":
                            self.results[rank] = message["result"]
                            ended = True
                        elif event == "failed":
                            self._failed.append((rank, str(message["error"])))
                            ended = True
                    if event == "hello":
                        self._hello(message, connection)
                    self.messages.put(message)
            except (OSError, ValueError):  # the task went away, or spoke garbage
                pass
        with self._lock:
            self._connections.discard(connection)
            if rank is not None and not ended and not self._closed:
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

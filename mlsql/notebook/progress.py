"""Live progress in a cell: bars for `Step`s, lines for other messages, elapsed time for a
statement that runs long.

Every output carries text/plain beside its HTML, so a notebook viewed where no JavaScript
runs (an export, CI's nbclient) still reads: bars are native <progress> elements updated in
place through display ids. The elapsed-time ticker is the only thread here, and it only
updates a display: every call into Flink stays on the kernel's main thread (see
mlsql/runtime/job_handle.py for why).
"""

from __future__ import annotations

import contextvars
import html
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from mlsql.notebook.bars import html_bar, is_bar, text_bar

TICK_AFTER_S = 2.0  # a statement quicker than this shows no elapsed time
TICK_EVERY_S = 1.0


def _bundle(html_text: str, plain: str) -> dict[str, str]:
    return {"text/html": html_text, "text/plain": plain}


class NotebookProgress:
    """The kernel session's progress callback: each Step task gets one display, updated in
    place; other messages are printed as lines."""

    def __init__(self) -> None:
        self._bars: dict[str, Any] = {}

    def new_statement(self) -> None:
        """Bars of the next statement start afresh (a task name may come again)."""
        self._bars.clear()

    def __call__(self, message: str) -> None:
        if not is_bar(message):
            print(f"[mlsql {time.strftime('%H:%M:%S')}] {message}", file=sys.stdout,
                  flush=True)
            return
        from IPython.display import display

        bundle = _bundle(html_bar(message), text_bar(message))
        handle = self._bars.get(message.task)
        if handle is None:
            handle = self._bars[message.task] = display(bundle, raw=True, display_id=True)
        else:
            handle.update(bundle, raw=True)
        if message.finished:  # the task's next run (another model's) gets a bar of its own
            self._bars.pop(message.task, None)


class _Ticker:
    """'running <what> … 12 s' for a statement that takes long, from a thread that only
    updates its display; the final line says how long it took."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.started = time.monotonic()
        self._handle: Any = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        context = contextvars.copy_context()  # the cell's output routing (ipykernel)
        self._thread = threading.Thread(target=context.run, args=(self._run,), daemon=True,
                                        name="mlsql-ticker")

    def start(self) -> None:
        self._thread.start()

    def _show(self, state: str) -> None:
        from IPython.display import display

        seconds = time.monotonic() - self.started
        text = f"{state} {self.what} · {seconds:.0f} s" if state == "running" else \
            f"{self.what} · {state} in {seconds:.1f} s"
        bundle = _bundle(f'<div class="mlsql-elapsed" style="color:#555"><code>'
                         f"{html.escape(text)}</code></div>", text)
        if self._handle is None:
            self._handle = display(bundle, raw=True, display_id=True)
        else:
            self._handle.update(bundle, raw=True)

    def _run(self) -> None:
        if self._stop.wait(TICK_AFTER_S):
            return
        while True:
            with self._lock:
                if self._stop.is_set():
                    return
                self._show("running")
            if self._stop.wait(TICK_EVERY_S):
                return

    def stop(self, state: str) -> None:
        with self._lock:
            self._stop.set()
            if self._handle is not None:
                self._show(state)
        self._thread.join()


@contextmanager
def elapsed(what: str) -> Iterator[None]:
    """Show `what` as running while the block runs longer than TICK_AFTER_S."""
    ticker = _Ticker(what)
    ticker.start()
    try:
        yield
    except BaseException:
        ticker.stop("failed")
        raise
    ticker.stop("done")

"""Progress of long work, as text every consumer can print and as counts a bar can draw.

A session's `progress` callback receives strings. A `Step` is a string too (so a plain
`print` consumer keeps working) that also carries what a progress bar needs: which task, how
far, out of how much. Training emits Steps for its phases (rows extracted, trees, solver
iterations, Lloyd steps); the terminal (`mlsql run`) and notebooks draw them as bars.
"""

from __future__ import annotations


class Step(str):
    """One progress report: `task` (a stable name, e.g. "extract", "boosting"), `done` units
    of `total` (None while unknown), counted in `unit`."""

    task: str
    done: int
    total: int | None
    unit: str

    def __new__(cls, message: str, task: str, done: int, total: int | None = None,
                unit: str = "") -> Step:
        step = super().__new__(cls, message)
        step.task, step.done, step.total, step.unit = task, done, total, unit
        return step

    def __reduce__(self):  # pickled across processes (gateway workers) with its counts
        return (Step, (str(self), self.task, self.done, self.total, self.unit))

    @property
    def finished(self) -> bool:
        return self.total is not None and self.done >= self.total

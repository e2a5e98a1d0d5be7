"""The per-iteration training history a version keeps in its metadata (ML_TRAINING_INFO).

    "training": {"seconds": 4.2, "loss": "log_loss",
                 "history": [{"iteration": 1, "loss": 0.41, "eval_loss": 0.43,
                              "duration_ms": 12}, ...]}

The loss is the task's: mean log-loss for classifiers, mean squared error for regressors,
mean squared distance to the nearest centroid for k-means.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

LOSS_METRIC = {"classification": "log_loss", "regression": "mean_squared_error",
               "clustering": "mean_squared_distance"}


@dataclass
class History:
    """Iterations appended as training runs, each timed since the previous one."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    _last: float = field(default_factory=time.monotonic)

    def restart_clock(self) -> None:
        self._last = time.monotonic()

    def record(self, iteration: int, loss: float | None, eval_loss: float | None = None) -> None:
        now = time.monotonic()
        self.rows.append({"iteration": int(iteration),
                          "loss": None if loss is None else float(loss),
                          "eval_loss": None if eval_loss is None else float(eval_loss),
                          "duration_ms": round((now - self._last) * 1000)})
        self._last = now

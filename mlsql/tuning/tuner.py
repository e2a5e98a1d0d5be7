"""Tuning inside CREATE MODEL (mlsql.planner.train): planned before any job runs, then in
place of the one fit, and what the published version's metadata keeps of it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlsql.errors import TrainingError
from mlsql.models.base import ModelType
from mlsql.models.history import History
from mlsql.tuning.plan import Split, TuningPlan, plan_tuning
from mlsql.tuning.study import Rows, StudyResult, run_study


@dataclass
class Tuner:
    plan: TuningPlan
    result: StudyResult | None = None

    def fit(self, model_type: ModelType, train: Rows, evaluation: Rows,
            options: dict[str, Any], spec: dict[str, Any], directory: Path,
            progress: Callable[[str], None], history: History) -> dict[str, Any]:
        """Run the study; the best trial's files land in `directory`, its hyperparameters in
        `options` (so the version records them) and its iterations in `history`."""
        if train[0].shape[1] == 0:
            raise TrainingError("the training query has no feature columns")
        self.result = run_study(self.plan, model_type, train, evaluation, options, spec,
                                directory, progress)
        options.update(self.result.hyperparameters)
        history.rows[:] = self.result.history
        return self.result.fitted

    def metadata(self) -> dict[str, Any]:
        """The version metadata's "tuning" summary and "trials" list."""
        if self.result is None:
            return {}
        return {"tuning": {**self.plan.describe(), "objective": self.result.objective,
                           "direction": self.result.direction},
                "trials": self.result.metadata()}


def tuner(split: Split, model_type: ModelType, options: dict[str, Any]) -> Tuner | None:
    """The Tuner CREATE MODEL's options ask for (None: no tuning), checked before any job.
    A tuned model fits in Python: its 'training_mode', if it has one, becomes 'single'."""
    plan = plan_tuning(split, model_type, options)
    if plan is None:
        return None
    if "training_mode" in options:
        options["training_mode"] = "single"
    return Tuner(plan)

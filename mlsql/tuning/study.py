"""The study: Optuna asks for hyperparameters, trial processes fit and score them on the
evaluation rows, Optuna is told each result; all from the calling thread, which also reports
progress (one `Step` per trial). The best trial's files become the version's.
"""

from __future__ import annotations

import itertools
import json
import math
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mlsql.core.progress import Step
from mlsql.errors import TrainingError
from mlsql.models.base import CLASSIFICATION, ModelType
from mlsql.tuning.plan import GRID, RANDOM, TuningPlan, direction
from mlsql.tuning.pool import TrialPool
from mlsql.tuning.records import SUCCEEDED, TrialRecord, best_trial
from mlsql.tuning.worker import CONTEXT, X_EVAL, X_TRAIN, Y_EVAL, Y_TRAIN

Rows = tuple[np.ndarray, np.ndarray | None]


@dataclass(frozen=True)
class StudyResult:
    fitted: dict[str, Any]  # the best trial's part of predictor.json
    history: list[dict[str, Any]]  # the best trial's training history
    hyperparameters: dict[str, Any]  # the best trial's
    trials: list[TrialRecord]
    objective: str
    direction: str

    def metadata(self) -> list[dict[str, Any]]:
        return [t.to_json() for t in self.trials]


def run_study(plan: TuningPlan, model_type: ModelType, train: Rows, evaluation: Rows,
              options: dict[str, Any], spec: dict[str, Any], directory: Path,
              progress: Callable[[str], None]) -> StudyResult:
    """Run the trials of `plan` and copy the best one's files into `directory`. Raises
    TrainingError when every trial failed."""
    if len(evaluation[0]) == 0:
        raise TrainingError("tuning scores trials on the evaluation split, which is empty: "
                            "raise eval_fraction or train on more rows")
    classes = (len(np.unique(np.asarray(train[1])))
               if model_type.task == CLASSIFICATION and train[1] is not None else None)
    objective = plan.objective_for(model_type.task, classes)
    if objective == "roc_auc" and classes != 2:
        raise TrainingError(f"hparam_tuning_objectives 'ROC_AUC' needs two classes; the label "
                            f"has {classes}: tune on accuracy, f1_score or log_loss")
    goal = direction(objective)
    study = _study(plan, goal, options.get("seed"))
    total = min(plan.num_trials, _grid_size(plan)) if plan.algorithm == GRID else plan.num_trials
    progress(f"tuning {model_type.name}: {total} trials, up to {plan.max_parallel_trials} at "
             f"a time ({plan.algorithm}), {goal} {objective} on the evaluation rows")
    with tempfile.TemporaryDirectory(prefix="mlsql-tuning-") as temp:
        data = Path(temp)
        _write_rows(data, train, evaluation, model_type, spec)
        records, fits = _run(study, plan, total, options, data, objective, goal, progress)
        best = best_trial(records, goal)
        if best is None:
            first = next(r for r in records if r.error_message)
            raise TrainingError(f"every one of the {total} trials failed; trial "
                                f"{first.trial_id}: {first.error_message}")
        best.is_optimal = True
        shutil.copytree(data / "trials" / str(best.trial_id), directory, dirs_exist_ok=True)
    fitted, history = fits[best.trial_id]
    return StudyResult(fitted, history, best.hyperparameters, records, objective, goal)


def _study(plan: TuningPlan, goal: str, seed: int | None) -> Any:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if plan.algorithm in (GRID, RANDOM):
        sampler: Any = optuna.samplers.RandomSampler(seed=seed)
    else:
        sampler = optuna.samplers.TPESampler(
            seed=seed, n_startup_trials=min(10, max(1, plan.num_trials // 2)))
    study = optuna.create_study(direction=goal, sampler=sampler)
    if plan.algorithm == GRID:
        # The grid's points as enqueued trials, in an order drawn with the seed (Optuna's
        # GridSampler stops the study itself, which only works inside study.optimize).
        names = list(plan.space)
        points = list(itertools.product(*(plan.space[n].grid() or () for n in names)))
        order = np.random.default_rng(seed).permutation(len(points))[: plan.num_trials]
        for index in order:
            study.enqueue_trial(dict(zip(names, points[index], strict=True)))
    return study


def _grid_size(plan: TuningPlan) -> int:
    return math.prod(len(h.grid() or ()) for h in plan.space.values())


def _write_rows(data: Path, train: Rows, evaluation: Rows, model_type: ModelType,
                spec: dict[str, Any]) -> None:
    for (x, y), x_name, y_name in ((train, X_TRAIN, Y_TRAIN), (evaluation, X_EVAL, Y_EVAL)):
        np.save(data / x_name, np.ascontiguousarray(x), allow_pickle=False)
        if y is not None:
            labels = np.asarray(y)
            if labels.dtype == object:  # string class labels: a fixed-width unicode array
                labels = labels.astype(str)
            np.save(data / y_name, labels, allow_pickle=False)
    context = {"model_type": model_type.name, "task": model_type.task, "spec": spec,
               "outputs": []}
    (data / CONTEXT).write_text(json.dumps(context))


def _run(study: Any, plan: TuningPlan, total: int, options: dict[str, Any], data: Path,
         objective: str, goal: str, progress: Callable[[str], None],
         ) -> tuple[list[TrialRecord], dict[int, tuple[dict[str, Any], list[dict[str, Any]]]]]:
    records: dict[int, TrialRecord] = {}
    asked: dict[int, Any] = {}
    fits: dict[int, tuple[dict[str, Any], list[dict[str, Any]]]] = {}
    pool = TrialPool(data, plan.max_parallel_trials)
    done = 0
    try:
        while done < total:
            while pool.free and len(asked) < total:
                trial = study.ask()
                trial_id = trial.number + 1
                values = {name: h.suggest(trial) for name, h in plan.space.items()}
                asked[trial_id] = trial
                records[trial_id] = TrialRecord(trial_id, values, objective)
                pool.submit({"trial_id": trial_id, "options": {**options, **values},
                             "directory": str(data / "trials" / str(trial_id))})
            for answer in pool.wait():
                record = records[answer["trial_id"]]
                _record(record, answer)
                if record.status == SUCCEEDED:
                    fits[record.trial_id] = (answer["fitted"], answer.get("history", []))
                    study.tell(asked[record.trial_id], record.objective_value)
                else:
                    import optuna

                    study.tell(asked[record.trial_id], state=optuna.trial.TrialState.FAIL)
                done += 1
                progress(Step(record.summary(total), "tuning", done, total, "trials"))
    finally:
        pool.close()
    return [records[k] for k in sorted(records)], fits


def _record(record: TrialRecord, answer: dict[str, Any]) -> None:
    record.seconds = float(answer.get("seconds", 0.0))
    if answer["status"] != SUCCEEDED:
        record.error_message = answer.get("error") or "failed"
        return
    metrics = {k: float(v) for k, v in answer.get("metrics", {}).items()}
    record.metrics = metrics
    value = metrics.get(record.objective)
    if value is None or math.isnan(value):
        record.error_message = (f"the trial's evaluation has no {record.objective} "
                                f"(metrics: {', '.join(metrics) or 'none'})")
        return
    record.status = SUCCEEDED
    record.objective_value = value

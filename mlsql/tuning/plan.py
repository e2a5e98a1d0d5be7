"""What a CREATE MODEL asks of tuning: its tuning options (num_trials, max_parallel_trials,
hparam_tuning_algorithm, hparam_tuning_objectives) and its search space, split off the raw
options so that parse_options checks the rest, and checked before any job runs.

Default objective by task: roc_auc for a binary classifier (BigQuery ML's), accuracy for a
multi-class one, r2_score for a regressor, davies_bouldin_index (minimized) for clustering.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mlsql.errors import OptionError
from mlsql.models.base import CLASSIFICATION, CLUSTERING, REGRESSION, ModelType
from mlsql.models.option_spec import DISTRIBUTABLE, ONLINE
from mlsql.tuning.space import Hyperparameter, is_space, parse_spaces

NUM_TRIALS = "num_trials"
MAX_PARALLEL_TRIALS = "max_parallel_trials"
ALGORITHM = "hparam_tuning_algorithm"
OBJECTIVES = "hparam_tuning_objectives"
TUNING_OPTIONS = (NUM_TRIALS, MAX_PARALLEL_TRIALS, ALGORITHM, OBJECTIVES)
MAX_TRIALS = 100  # BigQuery ML's limit
MAX_GRID_POINTS = 100_000  # GRID_SEARCH draws its trials from the whole grid, held in memory

TPE, RANDOM, GRID = "TPE", "RANDOM_SEARCH", "GRID_SEARCH"
_ALGORITHMS = {"VIZIER_DEFAULT": TPE, "TPE": TPE, "RANDOM_SEARCH": RANDOM, "GRID_SEARCH": GRID}

MAXIMIZED = frozenset({"roc_auc", "accuracy", "precision", "recall", "f1_score", "r2_score"})
MINIMIZED = frozenset({"log_loss", "mean_absolute_error", "mean_squared_error",
                       "root_mean_squared_error", "mean_squared_distance",
                       "davies_bouldin_index"})
TASK_METRICS = {
    CLASSIFICATION: ("roc_auc", "accuracy", "precision", "recall", "f1_score", "log_loss"),
    REGRESSION: ("r2_score", "mean_absolute_error", "mean_squared_error",
                 "root_mean_squared_error"),
    CLUSTERING: ("davies_bouldin_index", "mean_squared_distance"),
}
# Options of a model type that say how or where to train, not what to fit.
NOT_HYPERPARAMETERS = frozenset(o.name for o in (*DISTRIBUTABLE, *ONLINE))
_NOT_TUNABLE = NOT_HYPERPARAMETERS | {"model_type", "label", "eval_fraction", "seed",
                                      "input_label_cols", "data_split_eval_fraction"}


@dataclass(frozen=True)
class Split:
    """The raw options without tuning's, the tuning options and the search spaces (text)."""

    rest: dict[str, str]
    settings: dict[str, str] = field(default_factory=dict)
    spaces: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class TuningPlan:
    num_trials: int
    max_parallel_trials: int
    algorithm: str  # TPE, RANDOM or GRID
    objective: str | None  # None: the task's default, once the classes are known
    space: dict[str, Hyperparameter]

    def objective_for(self, task: str, classes: int | None) -> str:
        if self.objective is not None:
            return self.objective
        if task == CLASSIFICATION:
            return "roc_auc" if classes == 2 else "accuracy"
        return {REGRESSION: "r2_score", CLUSTERING: "davies_bouldin_index"}[task]

    def describe(self) -> dict[str, Any]:
        return {"num_trials": self.num_trials, "max_parallel_trials": self.max_parallel_trials,
                "algorithm": self.algorithm,
                "search_space": {name: h.text for name, h in self.space.items()}}


def direction(objective: str) -> str:
    return "minimize" if objective in MINIMIZED else "maximize"


def split_options(raw: Mapping[str, str]) -> Split:
    rest: dict[str, str] = {}
    settings: dict[str, str] = {}
    spaces: dict[str, str] = {}
    for key, value in raw.items():
        if key.lower() in TUNING_OPTIONS:
            settings[key.lower()] = value
        elif is_space(value):
            if key.lower() in _NOT_TUNABLE:
                raise OptionError(f"option {key!r} = {value!r}: {key!r} is not a "
                                  "hyperparameter and cannot be tuned")
            spaces[key] = value
        else:
            rest[key] = value
    return Split(rest, settings, spaces)


def plan_tuning(split: Split, model_type: ModelType,
                options: dict[str, Any]) -> TuningPlan | None:
    """The tuning `split` asks for, checked against the parsed `options`; None: no tuning.
    OptionError names the option at fault."""
    settings = split.settings
    num_trials = _int_setting(settings, NUM_TRIALS, 1, 1, MAX_TRIALS)
    if num_trials == 1:
        if split.spaces:
            name, text = next(iter(split.spaces.items()))
            raise OptionError(f"option {name!r} = {text!r} is a search space: set num_trials "
                              "above 1 to tune it")
        extra = [k for k in settings if k != NUM_TRIALS]
        if extra:
            raise OptionError(f"option {extra[0]!r} is for tuning: set num_trials above 1")
        return None
    if model_type.fit is None or model_type.online:
        raise OptionError(f"num_trials: {model_type.name} is trained online and cannot be "
                          "tuned")
    if model_type.task not in TASK_METRICS:  # an anomaly model: no label to score trials by
        raise OptionError(f"num_trials: a {model_type.task} model has no metric to tune on "
                          "(its training has no label); it cannot be tuned")
    tunable = {o.name: o for o in model_type.options if o.name not in NOT_HYPERPARAMETERS}
    space = parse_spaces(tunable, split.spaces, model_type.name)
    if not space:
        raise OptionError(f"num_trials = {num_trials} needs at least one hyperparameter given "
                          "as HPARAM_RANGE(lo, hi) or HPARAM_CANDIDATES([...]); tunable for "
                          f"{model_type.name}: {', '.join(tunable) or 'none'}")
    if options.get("eval_fraction", 0) <= 0:
        raise OptionError(f"num_trials = {num_trials}: trials are scored on the evaluation "
                          "split, so eval_fraction must be above 0")
    if options.get("training_mode") == "distributed":
        raise OptionError("num_trials: tuning fits in Python; training_mode 'distributed' "
                          "cannot be tuned (use 'single')")
    parallel_default = min(os.cpu_count() or 1, num_trials)
    parallel = min(_int_setting(settings, MAX_PARALLEL_TRIALS, parallel_default, 1, MAX_TRIALS),
                   num_trials)
    algorithm_text = settings.get(ALGORITHM, "VIZIER_DEFAULT").strip().upper()
    if algorithm_text not in _ALGORITHMS:
        raise OptionError(f"option {ALGORITHM!r} = {settings[ALGORITHM]!r}: must be one of "
                          + ", ".join(repr(a) for a in _ALGORITHMS))
    algorithm = _ALGORITHMS[algorithm_text]
    if algorithm == GRID:
        for hyperparameter in space.values():
            if hyperparameter.grid() is None:
                raise OptionError(f"option {hyperparameter.name!r} = {hyperparameter.text!r}: "
                                  "GRID_SEARCH needs HPARAM_CANDIDATES or an integer range")
        grid = math.prod(len(h.grid() or ()) for h in space.values())
        if grid > MAX_GRID_POINTS:
            raise OptionError(f"{ALGORITHM} = 'GRID_SEARCH': the grid has {grid:,} points, "
                              f"more than {MAX_GRID_POINTS:,}; narrow the ranges or use TPE")
    objective = _objective(settings, model_type.task)
    return TuningPlan(num_trials, parallel, algorithm, objective, space)


def _int_setting(settings: Mapping[str, str], name: str, default: int, low: int,
                 high: int) -> int:
    if name not in settings:
        return default
    text = settings[name]
    try:
        value = int(str(text).strip())
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        raise OptionError(f"option {name!r} = {text!r}: must be an integer from {low} to {high}")
    return value


def _objective(settings: Mapping[str, str], task: str) -> str | None:
    if OBJECTIVES not in settings:
        return None
    text = settings[OBJECTIVES]
    names = [n.strip().strip("'\"").lower()
             for n in text.strip().strip("[]").split(",") if n.strip()]
    accepted = TASK_METRICS[task]
    if len(names) != 1 or names[0] not in accepted:
        raise OptionError(f"option {OBJECTIVES!r} = {text!r}: must be one metric of "
                          + ", ".join(repr(m.upper()) for m in accepted))
    return names[0]

"""Hyperparameter tuning, BigQuery ML's way: `num_trials` with hyperparameters given as
`HPARAM_RANGE(lo, hi)` or `HPARAM_CANDIDATES([...])`, searched by Optuna (TPE by default).

space: the search space's parsing and checks; plan: the tuning options, split off CREATE
MODEL's and checked before any job; study: the Optuna study and its trials; pool and worker:
the trial processes; records: what a version keeps of each trial (ML_TRIAL_INFO); tuner:
the hook mlsql.planner.train calls; resolved_options: CREATE MODEL's options parsed once.
"""

from mlsql.tuning.plan import Split, TuningPlan, plan_tuning, split_options
from mlsql.tuning.records import TrialRecord
from mlsql.tuning.resolved_options import ModelOptions, resolve_options
from mlsql.tuning.study import StudyResult, run_study
from mlsql.tuning.tuner import Tuner, tuner

__all__ = ["ModelOptions", "Split", "StudyResult", "TrialRecord", "Tuner", "TuningPlan",
           "plan_tuning", "resolve_options", "run_study", "split_options", "tuner"]

"""Tuning without Flink: the search space, its checks, the sampler, best-trial selection, and
real studies in trial processes on scikit-learn's bundled data."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mlsql.errors import OptionError, TrainingError
from mlsql.planner.trials import trial_table
from mlsql.training.model_options import parse_options
from mlsql.tuning import plan_tuning, run_study, split_options
from mlsql.tuning.pool import worker_environment
from mlsql.tuning.records import FAILED, SUCCEEDED, TrialRecord, best_trial
from mlsql.tuning.space import Candidates, Range
from mlsql.tuning.study import _study
from udfs import features


def plan(**raw: str):
    split = split_options({"model_type": "boosted_tree_regressor", "label": "y", **raw})
    model_type, options = parse_options(split.rest)
    return plan_tuning(split, model_type, options)


def test_split_keeps_the_rest_for_parse_options():
    split = split_options({"model_type": "linear_reg", "label": "y", "NUM_TRIALS": "3",
                           "l2_reg": "HPARAM_RANGE(0, 1)", "eval_fraction": "0.3"})
    assert split.rest == {"model_type": "linear_reg", "label": "y", "eval_fraction": "0.3"}
    assert split.settings == {"num_trials": "3"}
    assert split.spaces == {"l2_reg": "HPARAM_RANGE(0, 1)"}


def test_integer_and_float_ranges_follow_the_options_parser():
    tuned = plan(num_trials="4", learning_rate="HPARAM_RANGE(0.01, 0.3)",
                 num_leaves="hparam_range(8, 80)", min_data_in_leaf="HPARAM_RANGE(5, 20)")
    rate, leaves, leaf_rows = (tuned.space[n] for n in
                               ("learning_rate", "num_leaves", "min_data_in_leaf"))
    assert isinstance(rate, Range) and not rate.integer and rate.log
    assert (rate.low, rate.high) == (0.01, 0.3)
    assert leaves.integer and leaves.log and (leaves.low, leaves.high) == (8, 80)
    assert leaf_rows.integer and not leaf_rows.log  # 20 < 10 * 5: uniform
    assert tuned.num_trials == 4 and tuned.algorithm == "TPE" and tuned.objective is None
    assert tuned.max_parallel_trials <= 4


def test_candidates_are_parsed_by_the_option():
    tuned = plan(num_trials="3", num_leaves="HPARAM_CANDIDATES([15, 31,63])")
    assert tuned.space["num_leaves"] == Candidates(
        "num_leaves", "HPARAM_CANDIDATES([15, 31,63])", (15, 31, 63))
    split = split_options({"model_type": "logistic_reg", "label": "y", "num_trials": "2",
                           "class_weight": "HPARAM_CANDIDATES(['none', 'BALANCED'])"})
    model_type, options = parse_options(split.rest)
    space = plan_tuning(split, model_type, options).space
    assert space["class_weight"].values == (None, "balanced")


@pytest.mark.parametrize("raw, message", [
    ({"learning_rate": "HPARAM_RANGE(0.3, 0.01)"},
     "option 'learning_rate' = 'HPARAM_RANGE(0.3, 0.01)': lo must be below hi"),
    ({"num_leaves": "HPARAM_RANGE(0, 10)"},
     "option 'num_leaves' = 'HPARAM_RANGE(0, 10)': '0': must be a positive integer"),
    ({"num_leaves": "HPARAM_RANGE(1.5, 10)"}, "'1.5': expected a positive integer"),
    ({"learning_rate": "HPARAM_RANGE(0.1)"}, "takes two numbers"),
    ({"num_leaves": "HPARAM_CANDIDATES([15, -1])"}, "'-1': must be a positive integer"),
    ({"num_leaves": "HPARAM_CANDIDATES([15, 15])"}, "distinct"),
    ({"num_leaves": "HPARAM_CANDIDATES([])"}, "at least one value"),
    ({"num_leaves": "HPARAM_CANDIDATES([15,])"}, "trailing comma"),
    ({"num_leaves": "HPARAM_CHOICE(1, 2)"}, "expected HPARAM_RANGE"),
    ({"seed": "HPARAM_RANGE(1, 5)"}, "option 'seed' = 'HPARAM_RANGE(1, 5)': 'seed' is not a "
                                     "hyperparameter and cannot be tuned"),
    ({"training_mode": "HPARAM_CANDIDATES(['single'])"}, "not a hyperparameter"),
    ({"NUM_TRIALS": "HPARAM_RANGE(1, 5)"}, "'num_trials' = 'HPARAM_RANGE(1, 5)': must be an"),
    ({"max_features": "HPARAM_RANGE(0.1, 0.3)"},
     "'max_features' is not a hyperparameter of boosted_tree_regressor"),
    ({"label": "HPARAM_CANDIDATES(['a', 'b'])"}, "'label' is not a hyperparameter"),
    ({"eval_fraction": "HPARAM_RANGE(0.1, 0.3)"}, "not a hyperparameter"),
    ({"max_features": "HPARAM_RANGE(0.1, 0.3)"}, "tunable: num_trees, learning_rate"),
    ({"num_leaves": "HPARAM_RANGE(8, 64)", "num_trials": "0"},
     "option 'num_trials' = '0': must be an integer from 1 to 100"),
    ({"num_leaves": "HPARAM_RANGE(8, 64)", "num_trials": "1"}, "set num_trials above 1"),
    ({"max_parallel_trials": "2", "num_trials": "1"}, "is for tuning: set num_trials above 1"),
    ({"num_trials": "5"}, "needs at least one hyperparameter"),
    ({"num_leaves": "HPARAM_RANGE(8, 64)", "eval_fraction": "0"}, "eval_fraction must be above 0"),
    ({"num_leaves": "HPARAM_RANGE(8, 64)", "hparam_tuning_algorithm": "bayes"},
     "'hparam_tuning_algorithm' = 'bayes': must be one of 'VIZIER_DEFAULT', 'TPE'"),
    ({"learning_rate": "HPARAM_RANGE(0.01, 0.3)", "hparam_tuning_algorithm": "grid_search"},
     "GRID_SEARCH needs HPARAM_CANDIDATES or an integer range"),
    ({"num_leaves": "HPARAM_RANGE(8, 64)", "hparam_tuning_objectives": "roc_auc"},
     "must be one metric of 'R2_SCORE'"),
])
def test_bad_spaces_name_the_option(raw, message):
    raw = {"num_trials": "4", **raw}
    with pytest.raises(OptionError, match=_literal(message)):
        plan(**raw)


def test_online_model_types_cannot_be_tuned():
    split = split_options({"model_type": "online_linear_reg", "label": "y", "num_trials": "3",
                           "l2_reg": "HPARAM_RANGE(0, 1)"})
    model_type, options = parse_options(split.rest)
    with pytest.raises(OptionError, match="trained online"):
        plan_tuning(split, model_type, options)


def test_anomaly_models_cannot_be_tuned():
    split = split_options({"model_type": "isolation_forest", "num_trials": "3",
                           "num_trees": "HPARAM_RANGE(10, 50)",
                           "hparam_tuning_objectives": "accuracy"})
    model_type, options = parse_options(split.rest)
    with pytest.raises(OptionError, match="no metric to tune on"):
        plan_tuning(split, model_type, options)


def test_a_grid_too_large_to_hold_is_refused():
    with pytest.raises(OptionError, match="the grid has 9,900,000,000 points"):
        plan(num_trials="5", hparam_tuning_algorithm="GRID_SEARCH",
             num_leaves="HPARAM_RANGE(2, 100001)", min_data_in_leaf="HPARAM_RANGE(1, 99000)")


def test_roc_auc_needs_two_classes(tmp_path):
    split = split_options({"model_type": "boosted_tree_classifier", "label": "y",
                           "num_trials": "2", "num_leaves": "HPARAM_CANDIDATES([4, 8])",
                           "hparam_tuning_objectives": "roc_auc"})
    model_type, options = parse_options(split.rest)
    tuned = plan_tuning(split, model_type, options)
    rows = (np.zeros((6, 1)), np.array([0, 1, 2, 0, 1, 2]))
    with pytest.raises(TrainingError, match="needs two classes; the label has 3"):
        run_study(tuned, model_type, rows, rows, options, {}, tmp_path, lambda _: None)


def test_objectives_and_options_of_the_plan():
    tuned = plan(num_trials="8", max_parallel_trials="50", num_leaves="HPARAM_RANGE(8, 64)",
                 hparam_tuning_objectives="['MEAN_ABSOLUTE_ERROR']",
                 hparam_tuning_algorithm="random_search")
    assert tuned.max_parallel_trials == 8 and tuned.algorithm == "RANDOM_SEARCH"
    assert tuned.objective_for("regression", None) == "mean_absolute_error"
    default = plan(num_trials="2", num_leaves="HPARAM_RANGE(8, 64)")
    assert default.objective_for("classification", 2) == "roc_auc"
    assert default.objective_for("classification", 3) == "accuracy"
    assert default.objective_for("regression", None) == "r2_score"
    assert default.objective_for("clustering", None) == "davies_bouldin_index"
    assert plan() is None


def test_grid_search_enumerates_every_candidate_once():
    tuned = plan(num_trials="6", hparam_tuning_algorithm="GRID_SEARCH",
                 num_leaves="HPARAM_CANDIDATES([15, 31, 63])", max_depth="HPARAM_RANGE(3, 4)")
    study = _study(tuned, "maximize", 42)
    seen = []
    for _ in range(6):
        trial = study.ask()
        seen.append(tuple(h.suggest(trial) for h in tuned.space.values()))
        study.tell(trial, float(len(seen)))
    assert sorted(seen) == [(15, 3), (15, 4), (31, 3), (31, 4), (63, 3), (63, 4)]


def test_tpe_samples_stay_inside_the_space():
    tuned = plan(num_trials="30", learning_rate="HPARAM_RANGE(0.01, 0.3)",
                 num_leaves="HPARAM_CANDIDATES([15, 31, 63])", max_depth="HPARAM_RANGE(2, 9)")
    study = _study(tuned, "maximize", 1)
    for _ in range(30):
        trial = study.ask()
        values = {name: h.suggest(trial) for name, h in tuned.space.items()}
        assert 0.01 <= values["learning_rate"] <= 0.3
        assert values["num_leaves"] in (15, 31, 63)
        assert isinstance(values["max_depth"], int) and 2 <= values["max_depth"] <= 9
        study.tell(trial, -abs(values["learning_rate"] - 0.1))


def test_best_trial_by_direction_skips_failures_and_nan():
    def record(trial_id, value, status=SUCCEEDED):
        return TrialRecord(trial_id, {"x": trial_id}, "r2_score", status, value)

    records = [record(1, 0.5), record(2, 0.9, FAILED), record(3, math.nan), record(4, 0.7),
               record(5, 0.7), record(6, 0.1)]
    assert best_trial(records, "maximize").trial_id == 4  # the earliest of equals
    assert best_trial(records, "minimize").trial_id == 6
    assert best_trial([record(1, None, FAILED)], "maximize") is None


def test_trial_table_has_a_column_per_hyperparameter():
    records = [
        TrialRecord(1, {"num_leaves": 15, "learning_rate": 0.1}, "r2_score", SUCCEEDED, 0.4,
                    {"r2_score": 0.4, "mean_squared_error": 3.0}, seconds=1.23456,
                    is_optimal=True),
        TrialRecord(2, {"num_leaves": 31, "learning_rate": 1}, "r2_score", FAILED,
                    error_message="ValueError: boom"),
    ]
    columns, rows = trial_table(records, "regression")
    assert columns == [
        ("trial_id", "INT"), ("num_leaves", "BIGINT"), ("learning_rate", "DOUBLE"),
        ("hyperparameters", "STRING"), ("objective", "STRING"),
        ("objective_value", "DOUBLE"), ("r2_score", "DOUBLE"),
        ("mean_squared_error", "DOUBLE"), ("status", "STRING"), ("error_message", "STRING"),
        ("seconds", "DOUBLE"), ("is_optimal", "BOOLEAN")]
    assert rows[0] == [1, 15, 0.1, '{"learning_rate": 0.1, "num_leaves": 15}', "r2_score", 0.4,
                       0.4, 3.0, SUCCEEDED, None, 1.235, True]
    assert rows[1][-4:] == [FAILED, "ValueError: boom", 0.0, False]


def test_worker_environment_drops_pyflinks_variables(monkeypatch):
    monkeypatch.setenv("PYFLINK_GATEWAY_DISABLED", "1")
    monkeypatch.setenv("_PYTHON_WORKING_DIR", "/tmp/flink-python")
    env = worker_environment(threads=1)
    assert "PYFLINK_GATEWAY_DISABLED" not in env and "_PYTHON_WORKING_DIR" not in env
    assert env["OMP_NUM_THREADS"] == "1"


def _blobs(tmp_path):
    from sklearn.datasets import load_iris

    x = load_iris().data
    rng = np.random.default_rng(0)
    order = rng.permutation(len(x))
    names = [f"f{i}" for i in range(x.shape[1])]
    import pandas as pd

    frame = pd.DataFrame(x[order], columns=names)
    spec = features.fit_spec(frame, dict.fromkeys(names, features.NUMERIC), features.ONE_HOT,
                             True)
    encoded = features.encode(spec, [frame[n] for n in names])
    return spec, (encoded[:120], None), (encoded[120:], None)


def _kmeans_plan(candidates: str, **raw: str):
    split = split_options({"model_type": "kmeans", "num_trials": "3",
                           "max_parallel_trials": "2", "num_clusters": candidates, **raw})
    model_type, options = parse_options(split.rest)
    return plan_tuning(split, model_type, options), model_type, options


def test_a_study_in_trial_processes_records_a_failed_trial(tmp_path):
    spec, train, evaluation = _blobs(tmp_path)
    tuned, model_type, options = _kmeans_plan("HPARAM_CANDIDATES([2, 3, 500])",
                                              hparam_tuning_algorithm="GRID_SEARCH")
    steps = []
    result = run_study(tuned, model_type, train, evaluation, options, spec, tmp_path,
                       steps.append)
    by_k = {t.hyperparameters["num_clusters"]: t for t in result.trials}
    assert sorted(by_k) == [2, 3, 500]
    assert by_k[500].status == FAILED and "num_clusters=500" in by_k[500].error_message
    succeeded = [t for t in result.trials if t.status == SUCCEEDED]
    best = min(succeeded, key=lambda t: t.objective_value)  # Davies-Bouldin: lower is better
    assert result.direction == "minimize" and [t.is_optimal for t in result.trials].count(True) == 1
    assert best.is_optimal and result.hyperparameters == best.hyperparameters
    assert len(result.fitted["centroids"]) == best.hyperparameters["num_clusters"]
    assert all(set(t.metrics) >= {"davies_bouldin_index"} for t in succeeded)
    tuning = [s for s in steps if getattr(s, "task", None) == "tuning"]
    assert [s.done for s in tuning] == [1, 2, 3] and all(s.total == 3 for s in tuning)
    assert tuning[-1].unit == "trials" and "FAILED" in "".join(tuning)


def test_a_study_whose_every_trial_fails_raises(tmp_path):
    spec, train, evaluation = _blobs(tmp_path)
    tuned, model_type, options = _kmeans_plan("HPARAM_CANDIDATES([400, 500])")
    with pytest.raises(TrainingError, match=r"every one of the 3 trials failed; trial .*"
                                            r"num_clusters=[45]00"):
        run_study(tuned, model_type, train, evaluation, options, spec, tmp_path, print)
    assert not any(tmp_path.iterdir())  # nothing copied into the version directory


def _literal(text: str) -> str:
    import re

    return re.escape(text)


def _published(tmp_path, metadata):
    import json
    from types import SimpleNamespace

    from mlsql.models.registry import METADATA_FILE, Registry

    registry = Registry(tmp_path / "registry")
    with registry.new_version("m") as staged:
        (staged.path / METADATA_FILE).write_text(json.dumps(metadata))
    return SimpleNamespace(registry=registry)


def _trial_info_call(sql: str):
    from mlsql.frontend.parser import parse_one

    return parse_one(sql).analyses[0]


def test_trial_info_of_an_untuned_version_says_so(tmp_path):
    from mlsql.errors import MlsqlError
    from mlsql.planner.trials import trial_info_subquery

    context = _published(tmp_path, {"task": "regression", "options": {}})
    call = _trial_info_call("SELECT * FROM ML_TRIAL_INFO(MODEL m)")
    with pytest.raises(MlsqlError, match="ML_TRIAL_INFO at line 1, column 15: model 'm' "
                                         "version 1 was trained without tuning"):
        trial_info_subquery(call, context)


def test_trial_info_of_a_tuned_version_is_a_values_table(tmp_path):
    from mlsql.planner.trials import trial_info_subquery

    trials = [TrialRecord(i, {"num_leaves": 4 * i}, "r2_score", SUCCEEDED, 0.1 * i,
                          {"r2_score": 0.1 * i}, is_optimal=i == 2).to_json()
              for i in (1, 2)]
    context = _published(tmp_path, {"task": "regression", "trials": trials})
    sql = trial_info_subquery(_trial_info_call("SELECT * FROM ML_TRIAL_INFO(MODEL m$1)"),
                              context)
    assert sql.startswith("(SELECT CAST(v0 AS INT) AS `trial_id`, CAST(v1 AS BIGINT) AS "
                          "`num_leaves`")
    assert "CAST(v9 AS BOOLEAN) AS `is_optimal`" in sql and "'SUCCEEDED'" in sql


def test_only_a_call_shape_is_a_search_space():
    split = split_options({"model_type": "linear_reg", "label": "HPARAM_SCORE"})
    assert split.rest["label"] == "HPARAM_SCORE" and not split.spaces


def test_a_trial_process_that_dies_is_a_failed_trial(tmp_path):
    from mlsql.tuning.pool import TrialPool

    pool = TrialPool(tmp_path, 1)  # no context.json in the data dir: the worker dies
    try:
        pool.submit({"trial_id": 7, "options": {}, "directory": str(tmp_path / "7")})
        [answer] = pool.wait()
    finally:
        pool.close()
    assert answer["trial_id"] == 7 and answer["status"] == FAILED
    assert "exited with code 1" in answer["error"] and "context.json" in answer["error"]

"""Hyperparameter tuning on real Flink jobs: CREATE MODEL with num_trials and HPARAM_* spaces
(BigQuery's unquoted OPTIONS form and the WITH form), ML_TRIAL_INFO, a space refused before
any job, and a study whose every trial fails leaving the previous version serving."""

from __future__ import annotations

import json

import lightgbm
import pytest
from sklearn import datasets, metrics

import mlsql
from mlsql.errors import MlsqlError, OptionError, TrainingError
from tests.helpers import create_csv_table
from udfs.split import eval_mask

pytestmark = pytest.mark.slow

LABEL = "progression"
SPACE_OPTIONS = ("model_type = 'boosted_tree_regressor', label = 'progression', "
                 "num_trials = 6, max_parallel_trials = 2, "
                 "learning_rate = HPARAM_RANGE(0.02, 0.3), "
                 "num_leaves = HPARAM_CANDIDATES([4, 8, 16]), "
                 "num_trees = HPARAM_CANDIDATES([20, 40])")


@pytest.fixture(scope="module")
def tuning_session(tmp_path_factory):
    root = tmp_path_factory.mktemp("tuning")
    steps: list[str] = []
    session = mlsql.Session(registry=root / "registry", mode="batch", progress=steps.append)
    session.data_dir = root
    session.steps = steps
    frame = datasets.load_diabetes(as_frame=True).frame.rename(columns={"target": LABEL})
    create_csv_table(session, "diabetes", frame, root)
    session.frame = frame
    return session


def _check_study(session, model: str, summary) -> dict:
    """Six trials, exactly one optimal: the published version's options and metrics."""
    version = session.registry.resolve(model)
    trials = session.sql(f"SELECT * FROM ML_TRIAL_INFO(MODEL {model}${version.version}) "
                         "ORDER BY trial_id")
    assert list(trials["trial_id"]) == [1, 2, 3, 4, 5, 6]
    assert set(trials["status"]) == {"SUCCEEDED"} and trials["error_message"].isna().all()
    assert (trials["objective"] == "r2_score").all()
    assert trials["is_optimal"].sum() == 1
    best = trials[trials["is_optimal"]].iloc[0]
    assert best["objective_value"] == trials["objective_value"].max()
    assert best["r2_score"] == best["objective_value"]
    options = version.metadata["options"]
    for name in ("learning_rate", "num_leaves", "num_trees"):
        assert options[name] == pytest.approx(best[name], rel=1e-12)
    assert json.loads(best["hyperparameters"]) == {
        n: options[n] for n in ("learning_rate", "num_leaves", "num_trees")}
    assert summary.loc[0, "r2_score"] == pytest.approx(best["objective_value"], abs=1e-6)
    assert len(version.metadata["trials"]) == 6
    assert version.metadata["tuning"]["objective"] == "r2_score"
    return options


def test_tuning_in_bigquerys_options_form(tuning_session):
    session = tuning_session
    session.steps.clear()
    summary = session.sql(f"CREATE MODEL diabetes_tuned OPTIONS({SPACE_OPTIONS}) AS "
                          "SELECT * FROM diabetes")
    options = _check_study(session, "diabetes_tuned", summary)

    tuning = [s for s in session.steps if getattr(s, "task", None) == "tuning"]
    assert [s.done for s in tuning] == [1, 2, 3, 4, 5, 6]
    assert all(s.total == 6 and s.unit == "trials" for s in tuning)
    assert "r2_score" in tuning[0] and "learning_rate=" in tuning[0]

    # The published booster is the best trial's: LightGBM fitted directly with its
    # hyperparameters on the same split scores the same.
    frame = session.frame
    x = frame.drop(columns=[LABEL]).astype(float)
    held_out = eval_mask(x, 0.2, 42)
    y = frame[LABEL].to_numpy(dtype=float)
    booster = lightgbm.train(
        {"objective": "regression", "learning_rate": options["learning_rate"],
         "num_leaves": options["num_leaves"], "max_depth": -1, "min_data_in_leaf": 20,
         "seed": 42, "deterministic": True, "verbosity": -1},
        lightgbm.Dataset(x[~held_out].to_numpy(), label=y[~held_out]),
        num_boost_round=options["num_trees"])
    direct = metrics.r2_score(y[held_out], booster.predict(x[held_out].to_numpy()))
    assert summary.loc[0, "r2_score"] == pytest.approx(direct, abs=1e-3)


def test_tuning_in_the_with_form_and_a_failed_study_keeps_the_version(tuning_session):
    session = tuning_session
    summary = session.sql(
        "CREATE MODEL diabetes_with WITH ('model_type' = 'boosted_tree_regressor', "
        "'label' = 'progression', 'num_trials' = '6', 'max_parallel_trials' = '2', "
        "'learning_rate' = 'HPARAM_RANGE(0.02, 0.3)', "
        "'num_leaves' = 'HPARAM_CANDIDATES([4, 8, 16])', "
        "'num_trees' = 'HPARAM_CANDIDATES([20, 40])') AS SELECT * FROM diabetes")
    _check_study(session, "diabetes_with", summary)

    # LightGBM refuses num_leaves = 1: every trial fails, nothing is published.
    before = session.registry.resolve("diabetes_with").version
    with pytest.raises(TrainingError, match=r"every one of the 2 trials failed; trial \d: "
                                            r".*num_leaves"):
        session.sql("CREATE OR REPLACE MODEL diabetes_with OPTIONS(model_type = "
                    "'boosted_tree_regressor', label = 'progression', num_trials = 2, "
                    "max_parallel_trials = 1, "
                    "num_leaves = HPARAM_CANDIDATES([1]), "
                    "learning_rate = HPARAM_RANGE(0.05, 0.1)) AS SELECT * FROM diabetes")
    assert session.registry.versions("diabetes_with") == [before]
    assert session.registry.resolve("diabetes_with").version == before


def test_a_bad_space_is_refused_before_any_job(tuning_session):
    # The query names no table at all: the options are checked before it is planned.
    # (mlsql.frontend.parser checks a range's bounds already; the tuning's own check names
    # the option)
    with pytest.raises(MlsqlError, match=r"'HPARAM_RANGE\(0.3, 0.01\)'.*(lo must be below "
                                         r"hi|low < high)"):
        tuning_session.sql("CREATE MODEL refused WITH ('model_type' = "
                           "'boosted_tree_regressor', 'label' = 'progression', 'num_trials' = "
                           "'4', 'learning_rate' = 'HPARAM_RANGE(0.3, 0.01)') AS "
                           "SELECT * FROM nowhere")
    with pytest.raises(OptionError, match="'seed' is not a hyperparameter"):
        tuning_session.sql("CREATE MODEL refused OPTIONS(model_type = "
                           "'boosted_tree_regressor', label = 'progression', num_trials = 4, "
                           "seed = HPARAM_CANDIDATES([1, 2])) AS SELECT * FROM nowhere")
    with pytest.raises(OptionError, match="eval_fraction must be above 0"):
        tuning_session.sql("CREATE MODEL refused WITH ('model_type' = 'boosted_tree_regressor',"
                           " 'label' = 'progression', 'num_trials' = '4', 'eval_fraction' = "
                           "'0', 'num_leaves' = 'HPARAM_RANGE(4, 16)') AS SELECT * FROM nowhere")
    assert not tuning_session.registry.exists("refused")

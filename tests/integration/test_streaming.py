"""ML_PREDICT in streaming mode, job handles, and switching the runtime mode."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

import mlsql
from mlsql.errors import ModelNotFoundError
from tests.helpers import create_csv_table
from udfs.predictors import load_predictor

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    root = tmp_path_factory.mktemp("streaming")
    session = mlsql.Session(registry=root / "registry")  # streaming: Flink's default
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"x": rng.normal(size=500), "y": rng.normal(size=500)})
    frame["z"] = 2 * frame["x"] - frame["y"] + 0.5
    create_csv_table(session, "history", frame, root)
    session.sql("SET 'execution.runtime-mode' = 'batch';\n"
                "CREATE MODEL linear WITH ('model_type' = 'linear_reg', 'label' = 'z') "
                "AS SELECT * FROM history;\n"
                "SET 'execution.runtime-mode' = 'streaming'")
    return session


def test_mode_switch_keeps_the_catalog(session):
    assert session.runtime.mode == "streaming"
    tables = session.sql("SHOW TABLES")
    assert "history" in tables.iloc[:, 0].tolist()
    assert session.registry.resolve("linear").metadata["metrics"]["r2_score"] > 0.999


def test_streaming_select_over_a_bounded_source(session):
    scored = session.sql("SELECT x, y, predicted_z FROM ML_PREDICT(TABLE history, MODEL linear)")
    np.testing.assert_allclose(scored["predicted_z"], 2 * scored["x"] - scored["y"] + 0.5,
                               atol=1e-9)


def test_unbounded_insert_returns_a_job_handle(session):
    session.sql("CREATE TABLE ticks (x DOUBLE, y DOUBLE) WITH ('connector' = 'datagen', "
                "'rows-per-second' = '100', 'fields.x.min' = '0', 'fields.x.max' = '1', "
                "'fields.y.min' = '0', 'fields.y.max' = '1');\n"
                "CREATE TABLE scored_ticks (x DOUBLE, p DOUBLE) WITH ('connector' = 'blackhole')")
    job = session.sql("INSERT INTO scored_ticks SELECT x, predicted_z FROM "
                      "ML_PREDICT(TABLE ticks, MODEL linear) WHERE predicted_z > 0")
    assert isinstance(job, mlsql.JobHandle)
    assert len(job.job_id) == 32
    deadline = time.monotonic() + 60
    while job.status() != "RUNNING" and time.monotonic() < deadline:
        time.sleep(0.5)
    assert job.status() == "RUNNING" and not job.done()
    job.cancel()
    deadline = time.monotonic() + 60
    while not job.done() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert job.done()


def test_bounded_insert_in_batch_mode_waits(session, tmp_path):
    session.sql("SET 'execution.runtime-mode' = 'batch'")
    try:
        session.sql(f"CREATE TABLE out_csv (x DOUBLE, p DOUBLE) WITH ('connector' = "
                    f"'filesystem', 'path' = '{tmp_path}/out', 'format' = 'csv')")
        job = session.sql("INSERT INTO out_csv SELECT x, predicted_z FROM "
                          "ML_PREDICT(TABLE history, MODEL linear)")
        assert job.done()
        written = session.sql("SELECT COUNT(*) AS n FROM out_csv")
        assert written.loc[0, "n"] == 500
    finally:
        session.sql("SET 'execution.runtime-mode' = 'streaming'")


def test_predictions_keep_event_time_for_windows_joins_and_subqueries(session, tmp_path):
    n = 600
    rng = np.random.default_rng(4)
    frame = pd.DataFrame({
        "id": np.arange(n),
        "ts": pd.date_range("2026-01-01", periods=n, freq="s").strftime("%Y-%m-%d %H:%M:%S"),
        "x": rng.normal(size=n), "y": rng.normal(size=n)})
    frame.to_csv(tmp_path / "events.csv", index=False, header=False)
    session.sql(f"""
        CREATE TABLE events (id BIGINT, ts TIMESTAMP(3), x DOUBLE, y DOUBLE,
                             WATERMARK FOR ts AS ts - INTERVAL '1' SECOND)
        WITH ('connector' = 'filesystem', 'path' = '{tmp_path}/events.csv', 'format' = 'csv');
        CREATE VIEW scored_events AS SELECT * FROM ML_PREDICT(TABLE events, MODEL linear)""")
    windows = session.sql(
        "SELECT window_start, COUNT(*) AS n, MAX(predicted_z) AS top FROM TABLE(TUMBLE("
        "TABLE scored_events, DESCRIPTOR(ts), INTERVAL '5' MINUTE)) "
        "GROUP BY window_start, window_end")
    assert sorted(windows["n"].tolist()) == [300, 300]
    expected_top = (2 * frame["x"] - frame["y"] + 0.5).groupby(frame.index // 300).max()
    np.testing.assert_allclose(sorted(windows["top"]), sorted(expected_top), atol=1e-9)

    joined = session.sql("SELECT p.id, p.predicted_z, e.x FROM ML_PREDICT(TABLE events, "
                         "MODEL linear) AS p JOIN events AS e ON p.id = e.id WHERE p.id < 5")
    np.testing.assert_allclose(joined.sort_values("id")["x"], frame["x"][:5])
    nested = session.sql("SELECT COUNT(*) AS n FROM (SELECT * FROM ML_PREDICT(TABLE events, "
                         "MODEL linear) WHERE predicted_z > 0.5) AS t")
    assert nested.loc[0, "n"] == int(((2 * frame["x"] - frame["y"] + 0.5) > 0.5).sum())


@pytest.mark.parametrize("execution", ["sql", "udf"])
def test_rows_can_carry_the_version_that_scored_them(session, execution):
    scored = session.sql(
        f"SELECT x, predicted_z, model_version FROM ML_PREDICT(TABLE history, MODEL linear, "
        f"MAP['execution', '{execution}', 'version_column', 'model_version']) LIMIT 5")
    assert scored["model_version"].tolist() == [1] * 5
    session.sql("SET 'mlsql.predict.version-column' = 'scored_by'")
    try:
        scored = session.sql("SELECT scored_by FROM ML_PREDICT(TABLE history, MODEL linear) "
                             "LIMIT 1")
        assert scored["scored_by"].tolist() == [1]
    finally:
        session.sql("RESET 'mlsql.predict.version-column'")


def test_an_unknown_ml_predict_option_is_an_error(session):
    with pytest.raises(mlsql.MlsqlError, match=r"unknown option 'version_colum'.*did you mean "
                                                r"'version_column'"):
        session.sql("SELECT * FROM ML_PREDICT(TABLE history, MODEL linear, "
                    "MAP['version_colum', 'v'])")


def _planned(session, sql: str) -> str:
    from mlsql.frontend.parser import parse_one

    return session.plan(parse_one(sql))


def test_unpinned_models_in_streaming_jobs_take_the_path_that_follows_versions(session):
    notes: list[str] = []
    session.context.progress = notes.append
    try:
        unpinned = _planned(session, "SELECT * FROM ML_PREDICT(TABLE history, MODEL linear)")
        assert "__mlsql_predict_linear" in unpinned  # the UDF, which follows new versions
        assert "is not pinned" in notes[-1] and "`linear$1`" in notes[-1]
        pinned = _planned(session, "SELECT * FROM ML_PREDICT(TABLE history, MODEL `linear$1`)")
        assert "__mlsql_predict" not in pinned  # compiled SQL
        forced = _planned(session, "SELECT * FROM ML_PREDICT(TABLE history, MODEL linear, "
                                   "MAP['execution', 'sql'])")
        assert "__mlsql_predict" not in forced
        assert "scores 'linear' version 1 until the job restarts" in notes[-1]
        session.sql("SET 'execution.runtime-mode' = 'batch'")
        batch = _planned(session, "SELECT * FROM ML_PREDICT(TABLE history, MODEL linear)")
        assert "__mlsql_predict" not in batch  # a batch job ends: compiled
    finally:
        session.sql("SET 'execution.runtime-mode' = 'streaming'")
        session.context.progress = lambda _: None


@pytest.fixture(scope="module")
def challenger(session):
    """A second model of z, worse on purpose: it sees only x."""
    session.sql("SET 'execution.runtime-mode' = 'batch';\n"
                "CREATE MODEL linear_x WITH ('model_type' = 'linear_reg', 'label' = 'z') "
                "AS SELECT x, z FROM history;\n"
                "CREATE MODEL linear_xy WITH ('model_type' = 'boosted_tree_regressor', "
                "'label' = 'z', 'num_trees' = '20') AS SELECT x, y, z FROM history;\n"
                "SET 'execution.runtime-mode' = 'streaming'")


@pytest.mark.parametrize("mode", ["streaming", "batch"])
def test_champion_and_challenger_score_the_same_rows_in_one_job(session, challenger, mode):
    session.sql(f"SET 'execution.runtime-mode' = '{mode}'")
    try:
        scored = session.sql(
            "SELECT x, y, z, predicted_z, challenger_predicted_z, model_version, "
            "challenger_model_version FROM ML_PREDICT(TABLE history, MODEL linear, "
            "MAP['challenger', 'linear_xy$1', 'version_column', 'model_version'])")
        with_x = session.sql(
            "SELECT x, challenger_predicted_z FROM ML_PREDICT(TABLE history, MODEL linear, "
            "DESCRIPTOR(x, y), MAP['challenger', 'linear_x'])")
    finally:
        session.sql("SET 'execution.runtime-mode' = 'streaming'")
    assert len(scored) == 500
    np.testing.assert_allclose(scored.predicted_z, 2 * scored.x - scored.y + 0.5, atol=1e-9)
    trees = load_predictor(str(session.registry.resolve("linear_xy", 1).path))
    np.testing.assert_allclose(scored.challenger_predicted_z,
                               trees.predict([scored.x, scored.y]).predicted_z, atol=1e-9)
    assert set(scored.model_version) == {1} and set(scored.challenger_model_version) == {1}
    errors = (scored.predicted_z - scored.z).abs(), (scored.challenger_predicted_z -
                                                    scored.z).abs()
    assert errors[0].mean() < errors[1].mean()  # comparable side by side, in SQL
    only_x = load_predictor(str(session.registry.resolve("linear_x").path))
    np.testing.assert_allclose(with_x.challenger_predicted_z,
                               only_x.predict([with_x.x]).predicted_z, atol=1e-9)


def test_a_challenger_that_is_not_a_model_reference_is_an_error(session, challenger):
    with pytest.raises(mlsql.MlsqlError, match="not a model reference"):
        session.sql("SELECT * FROM ML_PREDICT(TABLE history, MODEL linear, "
                    "MAP['challenger', 'linear$two'])")
    with pytest.raises(ModelNotFoundError, match="linear_q"):
        session.sql("SELECT * FROM ML_PREDICT(TABLE history, MODEL linear, "
                    "MAP['challenger', 'linear_q'])")

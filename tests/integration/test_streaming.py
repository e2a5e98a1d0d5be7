"""ML_PREDICT in streaming mode, job handles, and switching the runtime mode."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

import mlsql
from tests.helpers import create_csv_table

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

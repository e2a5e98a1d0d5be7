"""Online model types on the mini-cluster: a continuous job, a version per event-time window.

The stream is a bounded CSV with a watermark, so each job ends once its last window has
fired; the Kafka tests (test_hot_swap.py) cover unbounded streams, restores and concurrency.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

import mlsql
from mlsql.errors import MlsqlError, OptionError, SchemaError
from udfs.predictors import load_predictor

pytestmark = pytest.mark.slow

WINDOW_ROWS = 600  # rows per 10 minutes of event time
WINDOWS = 6


def _stream(seed: int, rows: int, drift_at: int | None = None) -> pd.DataFrame:
    """Two numeric features and a channel; the label's dependence on them flips at
    `drift_at`. One row per second of event time."""
    rng = np.random.default_rng(seed)
    amount = rng.gamma(2.0, 40.0, rows)
    velocity = rng.poisson(3, rows).astype(float)
    channel = rng.choice(["web", "pos"], rows)
    z = 0.04 * (amount - 80) - 0.6 * (velocity - 3) + np.where(channel == "web", 0.8, -0.8)
    if drift_at is not None:
        z[drift_at:] = -z[drift_at:]
    label = (rng.random(rows) < 1 / (1 + np.exp(-z))).astype(int)
    start = dt.datetime(2026, 3, 1)
    times = [start + dt.timedelta(seconds=i) for i in range(rows)]
    return pd.DataFrame({"amount": amount, "velocity": velocity, "channel": channel,
                         "is_fraud": label, "ts": [t.strftime("%Y-%m-%d %H:%M:%S")
                                                   for t in times]})


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    root = tmp_path_factory.mktemp("online")
    session = mlsql.Session(registry=root / "registry")
    frame = _stream(5, WINDOW_ROWS * WINDOWS)
    path = root / "events.csv"
    frame.to_csv(path, index=False, header=False)
    session.sql(f"""CREATE TABLE events (amount DOUBLE, velocity DOUBLE, channel STRING,
        is_fraud INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts)
        WITH ('connector' = 'filesystem', 'path' = '{path}', 'format' = 'csv')""")
    session.sql(f"""CREATE TABLE events_history (amount DOUBLE, velocity DOUBLE,
        channel STRING, is_fraud INT, ts STRING)
        WITH ('connector' = 'filesystem', 'path' = '{path}', 'format' = 'csv')""")
    session.frame = frame
    return session


def _versions(session, name: str) -> list[dict]:
    return [session.registry.resolve(name, v).metadata
            for v in session.registry.versions(name)]


@pytest.fixture(scope="module")
def fraud_online(session) -> mlsql.JobHandle:
    """online_logistic_reg trained over the whole bounded stream."""
    job = session.sql("""
        CREATE MODEL fraud_online WITH ('model_type' = 'online_logistic_reg',
            'label' = 'is_fraud', 'update_every' = '10 minutes')
        AS SELECT amount, velocity, channel, ts, is_fraud FROM events""")
    job.wait(300)
    return job


def test_online_logistic_publishes_a_version_per_window(session, fraud_online):
    assert isinstance(fraud_online, mlsql.JobHandle)
    assert fraud_online.status() == "FINISHED"
    versions = _versions(session, "fraud_online")
    assert len(versions) == WINDOWS
    assert [m["online"]["update"] for m in versions] == list(range(1, WINDOWS + 1))
    assert [m["rows"]["window"] for m in versions] == [WINDOW_ROWS] * WINDOWS
    assert versions[-1]["rows"]["total"] == WINDOW_ROWS * WINDOWS
    ends = [m["online"]["window_end"] for m in versions]
    assert ends == sorted(ends) and ends[0] == "2026-03-01 00:10:00"
    assert len({m["online"]["stream"] for m in versions}) == 1
    assert versions[0]["metrics"] == {}  # nothing to score the first window with
    assert all(m["metrics_on"] == "prequential" for m in versions)
    assert [i["name"] for i in versions[0]["inputs"]] == ["amount", "velocity", "channel"]
    late = [m["metrics"]["accuracy"] for m in versions[2:]]
    assert min(late) > 0.7, late
    described = session.sql("DESCRIBE MODEL fraud_online")
    assert "prequential" in " ".join(described.iloc[:, 0].astype(str))


def test_an_online_version_scores_the_same_in_sql_and_in_python(session, fraud_online):
    session.sql("SET 'execution.runtime-mode' = 'batch'")
    try:
        for execution in ("sql", "udf"):
            scored = session.sql(
                "SELECT amount, velocity, channel, probability FROM ML_PREDICT(TABLE "
                "events_history, MODEL `fraud_online$4`, DESCRIPTOR(amount, velocity, "
                f"channel), MAP['execution', '{execution}'])")
            predictor = load_predictor(str(session.registry.resolve("fraud_online", 4).path))
            expected = predictor.predict([scored.amount, scored.velocity, scored.channel])
            np.testing.assert_allclose(scored.probability, expected.probability, atol=1e-9)
    finally:
        session.sql("SET 'execution.runtime-mode' = 'streaming'")


@pytest.fixture(scope="module")
def batch_model(session):
    session.sql("SET 'execution.runtime-mode' = 'batch'")
    try:
        session.sql("CREATE MODEL fraud_batch WITH ('model_type' = 'logistic_reg', "
                    "'label' = 'is_fraud') AS SELECT amount, velocity, channel, is_fraud "
                    "FROM events_history")
    finally:
        session.sql("SET 'execution.runtime-mode' = 'streaming'")
    return "fraud_batch"


def test_warm_start_from_a_batch_model(session, batch_model):
    job = session.sql("""
        CREATE MODEL fraud_warm WITH ('model_type' = 'online_logistic_reg',
            'label' = 'is_fraud', 'update_every' = '10 minutes', 'initial_model' = 'fraud_batch')
        AS SELECT amount, velocity, channel, ts, is_fraud FROM events""")
    job.wait(300)
    versions = _versions(session, "fraud_warm")
    assert versions[0]["initial_model"] == "fraud_batch$1"
    # The first window is scored by the batch model: as good as the batch model itself.
    batch_accuracy = session.registry.resolve("fraud_batch").metadata["metrics"]["accuracy"]
    assert versions[0]["metrics"]["accuracy"] == pytest.approx(batch_accuracy, abs=0.05)


def test_online_linear_regression_and_kmeans(session):
    session.sql("""CREATE VIEW amounts AS SELECT velocity, channel, ts,
        amount * 3 + 100 AS spend FROM events""")
    linear = session.sql("""
        CREATE MODEL spend_online WITH ('model_type' = 'online_linear_reg', 'label' = 'spend',
            'update_every' = '10 minutes') AS SELECT velocity, channel, ts, spend FROM amounts""")
    clusters = session.sql("""
        CREATE MODEL segments WITH ('model_type' = 'online_kmeans', 'num_clusters' = '3',
            'decay_factor' = '0.5', 'update_every' = '20 minutes')
        AS SELECT amount, velocity, ts FROM events""")
    linear.wait(300)
    clusters.wait(300)
    spend = _versions(session, "spend_online")
    assert len(spend) == WINDOWS
    spend_std = float((session.frame.amount * 3 + 100).std())
    # Spend does not depend on velocity or channel: the model learns the mean.
    assert spend[-1]["metrics"]["root_mean_squared_error"] < 1.2 * spend_std
    segments = _versions(session, "segments")
    assert len(segments) == WINDOWS // 2
    predictor = load_predictor(str(session.registry.resolve("segments").path))
    assigned = predictor.predict([session.frame.amount, session.frame.velocity])
    assert set(assigned.cluster_id) == {0, 1, 2}


@pytest.mark.parametrize(("options", "query", "error", "message"), [
    ("'label' = 'is_fraud', 'eval_fraction' = '0.1'",
     "SELECT amount, ts, is_fraud FROM events", OptionError, "unknown option 'eval_fraction'"),
    ("'label' = 'is_fraud'", "SELECT amount, is_fraud FROM events_history", SchemaError,
     "exactly one event-time column"),
    ("'label' = 'channel'", "SELECT amount, ts, channel FROM events", SchemaError,
     "must be BOOLEAN or an integer 0/1"),
    ("'label' = 'is_fraud', 'initial_model' = 'fraud_batch'",  # other inputs
     "SELECT amount, ts, is_fraud FROM events", OptionError, "cannot warm start"),
    ("'label' = 'is_fraud', 'update_every' = '1.5 s'",
     "SELECT amount, ts, is_fraud FROM events", OptionError, "whole number of seconds"),
])
def test_mistakes_are_reported_before_a_job_starts(session, batch_model, options, query, error,
                                                   message):
    jobs = len(session.jobs)
    with pytest.raises(error, match=message):
        session.sql(f"CREATE MODEL wrong WITH ('model_type' = 'online_logistic_reg', "
                    f"{options}) AS {query}")
    assert len(session.jobs) == jobs
    assert not session.registry.exists("wrong")


def test_online_training_needs_streaming_mode(session):
    session.sql("SET 'execution.runtime-mode' = 'batch'")
    try:
        with pytest.raises(MlsqlError, match="trains on a stream"):
            session.sql("CREATE MODEL wrong WITH ('model_type' = 'online_kmeans') "
                        "AS SELECT amount, ts FROM events")
    finally:
        session.sql("SET 'execution.runtime-mode' = 'streaming'")

"""The retraining service against real Flink jobs: a policy read from quality and drift tables
computed by ML_EVALUATE_DELAYED and ML_VALIDATE_DATA_SKEW, a trigger that fires and one that
must not, a gate that promotes a better version and refuses a worse one, a failed training
that leaves the serving version serving, min_interval, the events in SQL, and `mlsql retrain`.

The data: version 1 learns `label = x1 > 0`; then the pattern changes (`label = x2 > 0`, and x1
shifts by 1.5), so version 1's ROC AUC on the new rows falls to about 0.5 and x1 drifts."""

from __future__ import annotations

import re
import time

import numpy as np
import pandas as pd
import pytest

from mlsql.errors import OptionError
from mlsql.retraining.service import RetrainingService
from tests.integration.kafka_helpers import run_mlsql

pytestmark = pytest.mark.slow
N = 1_500
START = pd.Timestamp("2026-03-01")


def _rows(rng: np.random.Generator, new_pattern: bool, n: int = N) -> pd.DataFrame:
    x1 = rng.normal(loc=1.5 if new_pattern else 0.0, size=n)
    x2 = rng.normal(size=n)
    signal = x2 if new_pattern else x1 - (1.5 if new_pattern else 0.0)
    label = (signal + rng.normal(scale=0.5, size=n) > 0).astype(int)
    return pd.DataFrame({"x1": x1, "x2": x2, "label": label})


def _table(session, name: str, frame: pd.DataFrame, columns: str) -> None:
    path = session.data_dir / "retraining" / f"{name}.csv"
    path.parent.mkdir(exist_ok=True)
    frame.to_csv(path, index=False, header=False, date_format="%Y-%m-%d %H:%M:%S")
    session.sql(f"CREATE TABLE {name} ({columns}) WITH ('connector' = 'filesystem', "
                f"'path' = '{path}', 'format' = 'csv')")


@pytest.fixture(scope="module")
def data(batch_session):
    """Old and new labelled rows, a holdout of new ones, new rows labelled wrongly, and live
    rows scored over 10 days with their labels a day later."""
    session = batch_session
    rng = np.random.default_rng(11)
    features = "x1 DOUBLE, x2 DOUBLE, label INT"
    _table(session, "rt_old", _rows(rng, False), features)
    _table(session, "rt_new", _rows(rng, True), features)
    _table(session, "rt_holdout", _rows(rng, True), features)
    mislabelled = _rows(rng, True)
    mislabelled["label"] = 1 - mislabelled["label"]
    _table(session, "rt_mislabelled", mislabelled, features)
    _table(session, "rt_broken", _rows(rng, True)[["x1", "label"]], "x1 DOUBLE, label INT")
    live = _rows(rng, True)
    live.insert(0, "id", np.arange(N))
    live.insert(1, "ts", START + pd.to_timedelta(np.sort(rng.uniform(0, 10 * 86400, N)).round(),
                                                 unit="s"))
    _table(session, "rt_live", live[["id", "ts", "x1", "x2"]],
           "id BIGINT, ts TIMESTAMP(3), x1 DOUBLE, x2 DOUBLE")
    labels = live[["id", "ts", "label"]].assign(ts=live["ts"] + pd.Timedelta(days=1))
    _table(session, "rt_labels", labels, "id BIGINT, labelled_at TIMESTAMP(3), label INT")
    return session


def _model(session, name: str) -> None:
    """Version 1 of `name`, on the old pattern, and its quality and drift views."""
    session.sql(f"CREATE OR REPLACE MODEL {name} WITH ('model_type' = 'logistic_reg', "
                "'label' = 'label') AS SELECT x1, x2, label FROM rt_old")
    session.sql(f"""
        CREATE TEMPORARY VIEW {name}_scored AS SELECT id, ts, predicted_label, probability,
          model_version FROM ML_PREDICT(TABLE rt_live, MODEL {name},
                                        MAP['version_column', 'model_version']);
        CREATE TEMPORARY VIEW {name}_quality AS SELECT * FROM ML_EVALUATE_DELAYED(
          TABLE {name}_scored, TABLE rt_labels, MODEL {name}, DESCRIPTOR(id),
          MAP['window', '1 day', 'label_delay', '2 days']);
        CREATE TEMPORARY VIEW {name}_drift AS SELECT * FROM ML_VALIDATE_DATA_SKEW(
          TABLE rt_live, MODEL {name})""")


def _policy(session, name: str, **options: str | None) -> None:
    """ALTER MODEL name SET ('retrain.*' ...): these views and tables unless given (None: not
    set)."""
    defaults = {"quality_table": f"{name}_quality", "drift_table": f"{name}_drift",
                "training_data": "rt_new", "gate_data": "rt_holdout"}
    written = ", ".join(f"'retrain.{k}' = '{v}'" for k, v in {**defaults, **options}.items()
                        if v is not None)
    session.sql(f"ALTER MODEL {name} SET ({written})")


def _kinds(events) -> list[str]:
    return [e.event for e in events]


def test_a_condition_that_does_not_hold_trains_nothing(data):
    _model(data, "rt_calm")
    _policy(data, "rt_calm", when="roc_auc < 0.3 OR POPULATION_STABILITY_INDEX(x2) > 0.25")
    service = RetrainingService(data)
    assert service.check("rt_calm") == []
    assert data.registry.versions("rt_calm") == [1]
    assert data.sql("SELECT * FROM ML_RETRAINING_EVENTS(MODEL rt_calm)").empty


def test_falling_quality_trains_a_version_the_gate_promotes(data):
    _model(data, "rt_falls")
    events_path = data.data_dir / "retraining" / "events"
    data.sql("CREATE TABLE rt_events (model STRING, event_time TIMESTAMP(3), event STRING, "
             "serving_version INT, candidate_version INT, serving_score DOUBLE, "
             "candidate_score DOUBLE, reason STRING) WITH ('connector' = 'filesystem', "
             f"'path' = '{events_path}', 'format' = 'json')")
    _policy(data, "rt_falls", when="roc_auc < 0.7 AND POPULATION_STABILITY_INDEX(x1) > 0.25",
            events_table="rt_events")
    quality = data.sql("SELECT * FROM rt_falls_quality")
    latest = quality[quality["window_end"] == quality["window_end"].max()]
    service = RetrainingService(data)

    events = service.check("rt_falls")

    assert _kinds(events) == ["triggered", "trained", "promoted"]
    assert f"roc_auc = {latest['roc_auc'].iloc[0]:.4g} < 0.7" in events[0].reason
    assert "POPULATION_STABILITY_INDEX(x1) = " in events[0].reason
    assert data.registry.resolve("rt_falls").version == 2
    # The gate's scores are ML_EVALUATE's on the gate data, each version's own.
    for version, score in ((1, events[2].serving_score), (2, events[2].candidate_score)):
        evaluated = data.sql("SELECT roc_auc FROM ML_EVALUATE(TABLE rt_holdout, "
                             f"MODEL `rt_falls${version}`)")
        assert score == pytest.approx(evaluated["roc_auc"].iloc[0], abs=1e-12)
    assert events[2].candidate_score > 0.8 > events[2].serving_score
    # The same windows do not trigger twice; the new version has no quality window yet.
    assert service.check("rt_falls") == []
    listed = data.sql("SELECT event, serving_version, candidate_version, reason "
                      "FROM ML_RETRAINING_EVENTS(MODEL rt_falls)")
    assert listed["event"].tolist() == ["triggered", "trained", "promoted"]
    assert listed["candidate_version"].tolist()[1:] == [2, 2]
    assert "beats version 1" in listed["reason"].iloc[2]
    # Each event went to the policy's events table too (any Flink sink: a topic for alerts).
    written = data.sql("SELECT * FROM rt_events").sort_values("event_time", kind="stable")
    assert written["model"].tolist() == ["rt_falls"] * 3
    assert written["event"].tolist() == ["triggered", "trained", "promoted"]
    assert written["reason"].tolist() == [e.reason for e in events]
    assert written["candidate_score"].iloc[2] == events[2].candidate_score


def test_the_gate_refuses_a_worse_version_and_the_serving_one_stays(data):
    _model(data, "rt_refused")
    _policy(data, "rt_refused", when="DRIFT", training_data="rt_mislabelled")
    events = RetrainingService(data).check("rt_refused")
    assert _kinds(events) == ["triggered", "trained", "refused"]
    assert "DRIFT: x1" in events[0].reason
    assert "does not beat version 1" in events[2].reason
    assert data.registry.versions("rt_refused") == [1, 2]
    assert data.registry.resolve("rt_refused").version == 1  # version 2 is a candidate
    scored = data.sql("SELECT DISTINCT model_version FROM ML_PREDICT(TABLE rt_live, "
                      "MODEL rt_refused, MAP['version_column', 'model_version'])")
    assert scored["model_version"].tolist() == [1]


def test_a_failed_training_leaves_the_serving_version_serving(data):
    _model(data, "rt_failed")
    _policy(data, "rt_failed", when="roc_auc < 0.7", training_data="rt_broken")
    events = RetrainingService(data).check("rt_failed")
    assert _kinds(events) == ["triggered", "failed"]
    assert "x2" in events[1].reason and "version 1 keeps serving" in events[1].reason
    assert data.registry.versions("rt_failed") == [1]
    assert data.registry.resolve("rt_failed").version == 1


def test_a_schedule_trains_and_min_interval_defers_the_next(data):
    _model(data, "rt_scheduled")
    _policy(data, "rt_scheduled", when="EVERY ''1 s''", min_interval="1 h",
            quality_table=None, drift_table=None, gate_data=None)
    time.sleep(1.1)
    service = RetrainingService(data)
    assert _kinds(service.check("rt_scheduled")) == ["triggered", "trained", "promoted"]
    time.sleep(1.1)  # version 2 is older than 1 s now: EVERY holds again
    deferred = service.check("rt_scheduled")
    assert _kinds(deferred) == ["deferred"]
    assert "retrain.min_interval allows the next in" in deferred[0].reason
    assert service.check("rt_scheduled") == []  # said once
    assert data.registry.versions("rt_scheduled") == [1, 2]


def test_a_policy_is_checked_when_it_is_set(data):
    _model(data, "rt_checked")
    with pytest.raises(OptionError, match=r"retrain.when 'roc_auc <': it ends too early"):
        data.sql("ALTER MODEL rt_checked SET ('retrain.when' = 'roc_auc <', "
                 "'retrain.training_data' = 'rt_new')")
    with pytest.raises(OptionError, match=r"reads quality .* needs retrain.quality_table"):
        data.sql("ALTER MODEL rt_checked SET ('retrain.when' = 'recall < 0.5', "
                 "'retrain.training_data' = 'rt_new')")
    with pytest.raises(OptionError, match=r"gate_metric 'auc' is not a metric .*roc_auc"):
        data.sql("ALTER MODEL rt_checked SET ('retrain.when' = 'EVERY ''1 d''', "
                 "'retrain.training_data' = 'rt_new', 'retrain.gate_metric' = 'auc')")
    with pytest.raises(OptionError, match=r"unknown retraining option retrain.gate_margn "
                                          r"\(did you mean 'gate_margin'\?\)"):
        data.sql("ALTER MODEL rt_checked SET ('retrain.gate_margn' = '0.1')")
    assert data.registry.model_info("rt_checked").get("retraining") is None
    described = data.sql("DESCRIBE MODEL rt_checked")
    assert "retraining" not in described["section"].tolist()


def test_mlsql_retrain_runs_a_script_and_prints_a_timeline(tmp_path):
    rng = np.random.default_rng(5)
    for name, new in (("history", False), ("fresh", True), ("holdout", True)):
        _rows(rng, new).to_csv(tmp_path / f"{name}.csv", index=False, header=False)
    tables = "".join(
        f"CREATE TABLE {name} (x1 DOUBLE, x2 DOUBLE, label INT) WITH ('connector' = "
        f"'filesystem', 'path' = '{tmp_path / name}.csv', 'format' = 'csv');\n"
        for name in ("history", "fresh", "holdout"))
    registry = str(tmp_path / "registry")
    trained = run_mlsql("run", "-", "--registry", registry, "--mode", "batch", input=tables
                        + "CREATE MODEL m WITH ('model_type' = 'logistic_reg', 'label' = "
                          "'label') AS SELECT * FROM history;")
    assert trained.returncode == 0, trained.stderr
    script = tmp_path / "policy.sql"
    # A query is planned again at each check, so MODEL m is the serving version then: the
    # second check compares `fresh` with version 2's training rows, and finds no drift.
    script.write_text(tables + "ALTER MODEL m SET ('retrain.when' = 'DRIFT', "
                      "'retrain.drift_table' = 'SELECT * FROM ML_VALIDATE_DATA_SKEW(TABLE fresh, "
                      "MODEL m)', 'retrain.training_data' = 'fresh', 'retrain.gate_data' = "
                      "'holdout');\n")
    service = run_mlsql("retrain", str(script), "--registry", registry, "--passes", "2",
                        "--interval", "1 s")
    assert service.returncode == 0, service.stderr
    lines = service.stdout.splitlines()
    assert [line.split()[2] for line in lines] == ["triggered", "trained", "promoted"]
    assert re.search(r"^\d\d:\d\d:\d\d  m  promoted   v1 -> v2 +roc_auc on holdout: version 2 "
                     r"0\.\d+ beats version 1 0\.\d+ by more than 0$", lines[2]), lines[2]
    assert "checking m every 1 s" in service.stderr
    listed = run_mlsql("run", "-", "--registry", registry, "--format", "csv",
                       input="SELECT event FROM ML_RETRAINING_EVENTS(MODEL m);")
    assert listed.stdout.split() == ["event", "triggered", "trained", "promoted"]

"""ML_VALIDATE_DATA_SKEW and ML_VALIDATE_DATA_DRIFT against scipy and pandas on the same rows
and the same buckets: the counting happens in Flink, the reference numbers here."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import jensenshannon

import mlsql
from mlsql.errors import MlsqlError, SchemaError

pytestmark = pytest.mark.slow
N = 3_000


def _frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(5)
    train = pd.DataFrame({"amount": rng.gamma(2.0, 50.0, N).round(2),
                          "category": rng.choice(["grocery", "travel", "online"], N,
                                                 p=[0.5, 0.3, 0.2]),
                          "tx_hour": rng.integers(0, 24, N)})
    train.loc[::40, "amount"] = np.nan
    train["label"] = ((train["amount"].fillna(0) > 120) ^ (train["category"] == "travel"))
    train["label"] = train["label"].astype(int)
    live = train.copy()
    live["amount"] = live["amount"] * 1.5
    live.loc[::10, "amount"] = np.nan
    live["category"] = rng.choice(["grocery", "travel", "crypto"], N, p=[0.4, 0.3, 0.3])
    return train, live


@pytest.fixture(scope="module")
def validated(batch_session):
    train, live = _frames()
    for name, frame in (("dv_train", train), ("dv_live", live)):
        path = batch_session.data_dir / f"{name}.csv"
        frame.to_csv(path, index=False, header=False)
        batch_session.sql(f"CREATE TABLE {name} (amount DOUBLE, category STRING, tx_hour INT, "
                          f"label INT) WITH ('connector' = 'filesystem', 'path' = '{path}', "
                          "'format' = 'csv', 'csv.null-literal' = '')")
    batch_session.sql("CREATE OR REPLACE MODEL dv_model WITH ('model_type' = 'logistic_reg', "
                      "'label' = 'label', 'eval_fraction' = '0') "
                      "AS SELECT amount, category, tx_hour, label FROM dv_train")
    return batch_session, train, live


def _findings(frame: pd.DataFrame) -> dict[tuple[str, str], pd.Series]:
    return {(row.input, row.metric): row for row in frame.itertuples(index=False)}


def _shares(values: pd.Series, keys: list) -> np.ndarray:
    counts = values.value_counts()
    return np.array([counts.get(k, 0) for k in keys], dtype=float) / counts.sum()


def _histograms(reference: pd.Series, current: pd.Series, edges: list[float]):
    buckets = list(range(len(edges) + 1))
    bucket = lambda s: pd.Series(np.searchsorted(edges, s.dropna(), side="right"))  # noqa: E731
    return _shares(bucket(reference), buckets), _shares(bucket(current), buckets)


def test_skew_of_live_rows_against_the_training_profile(validated):
    session, train, live = validated
    model = session.registry.resolve("dv_model")
    profile = json.loads((model.path / "profile.json").read_text())
    edges = profile["inputs"]["amount"]["edges"]
    expected_edges = np.unique(np.quantile(train["amount"].dropna(),
                                           np.linspace(0, 1, 21)[1:-1]))
    np.testing.assert_array_equal(edges, expected_edges)  # the training rows' quantiles

    found = _findings(session.sql("SELECT * FROM ML_VALIDATE_DATA_SKEW(TABLE dv_live, "
                                  "MODEL dv_model)"))
    p, q = _histograms(train["amount"], live["amount"], edges)
    jsd = found["amount", "JENSEN_SHANNON_DIVERGENCE"]
    assert jsd.value == pytest.approx(jensenshannon(p, q, base=2) ** 2, abs=1e-12)
    assert (jsd.threshold, jsd.is_anomaly) == (0.3, jsd.value > 0.3)
    psi = np.sum((np.maximum(q, 1e-4) - np.maximum(p, 1e-4))
                 * np.log(np.maximum(q, 1e-4) / np.maximum(p, 1e-4)))
    assert found["amount", "POPULATION_STABILITY_INDEX"].value == pytest.approx(psi, abs=1e-12)
    null_change = live["amount"].isna().mean() - train["amount"].isna().mean()
    assert found["amount", "NULL_RATE_CHANGE"].value == pytest.approx(null_change, abs=1e-12)

    categories = sorted(set(train["category"]) | set(live["category"]))
    p, q = _shares(train["category"], categories), _shares(live["category"], categories)
    l_infty = found["category", "L_INFTY"]
    assert l_infty.value == pytest.approx(np.abs(p - q).max(), abs=1e-12)
    assert l_infty.is_anomaly  # a third of the rows moved to a new category
    assert found["category", "UNSEEN_CATEGORY_RATE"].value == pytest.approx(
        (live["category"] == "crypto").mean(), abs=1e-12)
    assert found["tx_hour", "JENSEN_SHANNON_DIVERGENCE"].value == pytest.approx(0, abs=1e-12)
    assert not found["tx_hour", "JENSEN_SHANNON_DIVERGENCE"].is_anomaly

    # The model's outputs: its predicted classes on the training rows and on the live rows.
    predicted = {name: session.sql(f"SELECT predicted_label FROM ML_PREDICT(TABLE {name}, "
                                   "MODEL dv_model)")["predicted_label"]
                 for name in ("dv_train", "dv_live")}
    classes = [0, 1]
    p, q = _shares(predicted["dv_train"], classes), _shares(predicted["dv_live"], classes)
    assert found["predicted_label", "L_INFTY"].value == pytest.approx(np.abs(p - q).max(),
                                                                      abs=1e-12)
    assert ("probability", "JENSEN_SHANNON_DIVERGENCE") in found


def test_options_change_thresholds_and_the_categorical_statistic(validated):
    session = validated[0]
    found = _findings(session.sql(
        "SELECT * FROM ML_VALIDATE_DATA_SKEW(TABLE dv_live, MODEL dv_model, MAP["
        "'categorical_metric_type', 'JENSEN_SHANNON_DIVERGENCE', "
        "'thresholds', 'amount:0.001, category:0.9', 'psi_threshold', '100'])"))
    amount = found["amount", "JENSEN_SHANNON_DIVERGENCE"]
    assert amount.threshold == 0.001 and amount.is_anomaly
    category = found["category", "JENSEN_SHANNON_DIVERGENCE"]
    assert category.threshold == 0.9 and not category.is_anomaly
    assert ("category", "L_INFTY") not in found
    assert not any(row.is_anomaly for (_, metric), row in found.items()
                   if metric == "POPULATION_STABILITY_INDEX")


def test_drift_between_two_tables_buckets_by_the_base_range(validated):
    session, train, live = validated
    found = _findings(session.sql(
        "SELECT * FROM ML_VALIDATE_DATA_DRIFT(TABLE dv_train, TABLE dv_live)"))
    low, high = train["amount"].min(), train["amount"].max()
    edges = list(np.linspace(low, high, 21)[1:-1])
    p, q = _histograms(train["amount"], live["amount"], edges)
    assert found["amount", "JENSEN_SHANNON_DIVERGENCE"].value == pytest.approx(
        jensenshannon(p, q, base=2) ** 2, abs=1e-12)
    assert found["label", "JENSEN_SHANNON_DIVERGENCE"].value == pytest.approx(0, abs=1e-12)
    assert {name for name, _ in found} == {"amount", "category", "tx_hour", "label"}


def test_mistakes_are_reported_before_a_job_runs(validated, batch_session):
    session = validated[0]
    with pytest.raises(MlsqlError, match=r"unknown ML_VALIDATE_DATA_SKEW option "
                                         r"'numerical_treshold'"):
        session.sql("SELECT * FROM ML_VALIDATE_DATA_SKEW(TABLE dv_live, MODEL dv_model, "
                    "MAP['numerical_treshold', '0.2'])")
    with pytest.raises(MlsqlError, match="categorical_metric_type is L_INFTY or"):
        session.sql("SELECT * FROM ML_VALIDATE_DATA_SKEW(TABLE dv_live, MODEL dv_model, "
                    "MAP['categorical_metric_type', 'chi2'])")
    session.sql("CREATE TEMPORARY VIEW dv_other AS SELECT label AS y FROM dv_live")
    with pytest.raises(SchemaError, match="has none of the columns model 'dv_model'"):
        session.sql("SELECT * FROM ML_VALIDATE_DATA_SKEW(TABLE dv_other, MODEL dv_model)")
    session.sql("CREATE OR REPLACE MODEL dv_flink WITH ('model_type' = 'linear_reg', "
                "'label' = 'label', 'training_mode' = 'distributed') "
                "AS SELECT tx_hour, label FROM dv_train")
    with pytest.raises(SchemaError, match="has no training profile"):
        session.sql("SELECT * FROM ML_VALIDATE_DATA_SKEW(TABLE dv_live, MODEL dv_flink)")


def test_the_table_api_functions_give_the_sql_rows(validated):
    session = validated[0]
    t_env = session.runtime.t_env
    live, train = t_env.from_path("dv_live"), t_env.from_path("dv_train")
    options = {"thresholds": "amount:0.01"}
    skew = mlsql.ml_validate_data_skew(live, "dv_model", options).to_pandas()
    sql = session.sql("SELECT * FROM ML_VALIDATE_DATA_SKEW(TABLE dv_live, MODEL dv_model, "
                      "MAP['thresholds', 'amount:0.01'])")
    pd.testing.assert_frame_equal(skew, sql)
    drift = mlsql.ml_validate_data_drift(train, live).to_pandas()
    pd.testing.assert_frame_equal(drift, session.sql(
        "SELECT * FROM ML_VALIDATE_DATA_DRIFT(TABLE dv_train, TABLE dv_live)"))


# The windowed form: one Flink SQL query, a set of rows per tumbling window.
START = pd.Timestamp("2026-03-01")
WINDOWED = ("SELECT * FROM ML_VALIDATE_DATA_SKEW(TABLE dv_events, MODEL dv_model, "
            "MAP['window', '1 hour'{}])")


def _events_ddl(name: str, path, extra: str = "") -> str:
    return (f"CREATE TABLE {name} (amount DOUBLE, category STRING, tx_hour INT, label INT, "
            "ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND) WITH ("
            f"'connector' = 'filesystem', 'path' = '{path}', 'format' = 'csv', "
            f"'csv.null-literal' = ''{extra})")


@pytest.fixture(scope="module")
def windowed(validated):
    """Three hours of live rows: three unseen categories, and no amount in the third hour."""
    session, train, live = validated
    rng = np.random.default_rng(11)
    events = live.copy()
    events["category"] = rng.choice(["grocery", "travel", "crypto", "gold", "nft"], N,
                                    p=[0.4, 0.3, 0.2, 0.07, 0.03])
    events["ts"] = START + pd.to_timedelta(np.sort(rng.integers(0, 3 * 3600, N)), unit="s")
    events.loc[events["ts"] >= START + pd.Timedelta(hours=2), "amount"] = np.nan
    path = session.data_dir / "dv_events.csv"
    events.to_csv(path, index=False, header=False, date_format="%Y-%m-%d %H:%M:%S")
    session.sql(_events_ddl("dv_events", path))
    return session, train, events, path


def _by_window(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame["window_start"] = pd.to_datetime(frame["window_start"])
    frame["window_end"] = pd.to_datetime(frame["window_end"])
    return frame.sort_values(["window_start", "input", "metric"]).reset_index(drop=True)


def test_each_window_gives_the_bounded_numbers_of_its_rows(windowed):
    session, train, events, _ = windowed
    result = _by_window(session.sql(WINDOWED.format("")))
    starts = [START + pd.Timedelta(hours=h) for h in range(3)]
    assert sorted(result["window_start"].unique()) == starts
    assert (result["window_end"] - result["window_start"] == pd.Timedelta(hours=1)).all()
    for hour, start in enumerate(starts):
        end = start + pd.Timedelta(hours=1)
        session.sql(f"CREATE TEMPORARY VIEW dv_hour{hour} AS SELECT * FROM dv_events WHERE "
                    f"ts >= TIMESTAMP '{start}' AND ts < TIMESTAMP '{end}'")
        bounded = session.sql(f"SELECT * FROM ML_VALIDATE_DATA_SKEW(TABLE dv_hour{hour}, "
                              "MODEL dv_model)")
        window = result[result["window_start"] == start]
        joined = bounded.merge(window, on=["input", "metric"], suffixes=("", "_w"))
        assert len(joined) == len(bounded) == len(window) == 17  # 5 columns' statistics
        np.testing.assert_allclose(joined["value_w"].astype(float),
                                   joined["value"].astype(float), rtol=0, atol=1e-9)
        assert (joined["threshold_w"] == joined["threshold"]).all()
        assert joined["is_anomaly_w"].tolist() == joined["is_anomaly"].tolist()

    # Against scipy on the window's rows and the profile's buckets.
    found = _findings(result[result["window_start"] == starts[0]])
    rows = events[events["ts"] < starts[1]]
    edges = json.loads((session.registry.resolve("dv_model").path / "profile.json")
                       .read_text())["inputs"]["amount"]["edges"]
    p, q = _histograms(train["amount"], rows["amount"], edges)
    assert found["amount", "JENSEN_SHANNON_DIVERGENCE"].value == pytest.approx(
        jensenshannon(p, q, base=2) ** 2, abs=1e-12)
    categories = sorted(set(train["category"]) | set(rows["category"]))
    p, q = _shares(train["category"], categories), _shares(rows["category"], categories)
    assert found["category", "L_INFTY"].value == pytest.approx(np.abs(p - q).max(), abs=1e-12)
    psi = np.sum((np.maximum(q, 1e-4) - np.maximum(p, 1e-4))
                 * np.log(np.maximum(q, 1e-4) / np.maximum(p, 1e-4)))
    assert found["category", "POPULATION_STABILITY_INDEX"].value == pytest.approx(psi, abs=1e-12)
    assert found["category", "UNSEEN_CATEGORY_RATE"].value == pytest.approx(
        rows["category"].isin(["crypto", "gold", "nft"]).mean(), abs=1e-12)

    # The third hour has no amount: no distribution to compare, all of it NULL.
    last = _findings(result[result["window_start"] == starts[2]])
    assert pd.isna(last["amount", "JENSEN_SHANNON_DIVERGENCE"].value)
    assert last["amount", "JENSEN_SHANNON_DIVERGENCE"].is_anomaly is None
    assert last["amount", "NULL_RATE_CHANGE"].value == pytest.approx(
        1 - train["amount"].isna().mean(), abs=1e-12)


def test_windowed_options_and_drift(windowed):
    session, train, events, _ = windowed
    found = _findings(session.sql(WINDOWED.format(
        ", 'time', 'ts', 'categorical_metric_type', 'JENSEN_SHANNON_DIVERGENCE', "
        "'thresholds', 'category:0.9'") + " WHERE window_start"
        f" = TIMESTAMP '{START + pd.Timedelta(hours=1)}'"))
    rows = events[(events["ts"] >= START + pd.Timedelta(hours=1))
                  & (events["ts"] < START + pd.Timedelta(hours=2))]
    categories = sorted(set(train["category"]) | set(rows["category"]))
    p, q = _shares(train["category"], categories), _shares(rows["category"], categories)
    category = found["category", "JENSEN_SHANNON_DIVERGENCE"]
    assert category.value == pytest.approx(jensenshannon(p, q, base=2) ** 2, abs=1e-12)
    assert category.threshold == 0.9 and not category.is_anomaly

    drift = _by_window(session.sql("SELECT * FROM ML_VALIDATE_DATA_DRIFT(TABLE dv_train, "
                                   "TABLE dv_events, MAP['window', '1 hour'])"))
    session.sql("CREATE TEMPORARY VIEW dv_first_hour AS SELECT amount, category, tx_hour, "
                f"label FROM dv_events WHERE ts < TIMESTAMP '{START + pd.Timedelta(hours=1)}'")
    bounded = session.sql("SELECT * FROM ML_VALIDATE_DATA_DRIFT(TABLE dv_train, "
                          "TABLE dv_first_hour)")
    joined = bounded.merge(drift[drift["window_start"] == START], on=["input", "metric"],
                           suffixes=("", "_w"))
    assert len(joined) == len(bounded) == 13  # amount, category, tx_hour, label
    np.testing.assert_allclose(joined["value_w"], joined["value"], rtol=0, atol=1e-9)


def test_a_stream_gives_each_window_as_its_watermark_passes(windowed, tmp_path):
    """A continuous job on a file source that never ends (it watches its directory): each
    window's rows come once the watermark passes its end, the same as the batch query's; the
    last hour, which no later row closes, stays open."""
    batch, _, _, path = windowed
    directory = tmp_path / "events"
    directory.mkdir()
    (directory / "part-0.csv").write_text(path.read_text())
    stream = mlsql.Session(registry=batch.registry.root)
    stream.sql("SET 'table.exec.source.idle-timeout' = '1 s'")
    stream.sql(_events_ddl("dv_events", directory, ", 'source.monitor-interval' = '1 s'"))
    # Append-only, so any sink takes it: a file sink in streaming mode takes no update.
    stream.sql(f"CREATE TABLE dv_alerts (window_start TIMESTAMP(3), input STRING, metric "
               f"STRING, `value` DOUBLE) WITH ('connector' = 'filesystem', 'path' = "
               f"'{tmp_path}/alerts', 'format' = 'csv')")
    explained = stream.sql("EXPLAIN CHANGELOG_MODE INSERT INTO dv_alerts SELECT window_start, "
                           "input, metric, `value` FROM ML_VALIDATE_DATA_SKEW(TABLE dv_events, "
                           "MODEL dv_model, MAP['window', '1 hour']) WHERE is_anomaly")
    plan = str(explained.iloc[0, 0])
    assert set(re.findall(r"changelogMode=\[([\w,]+)\]", plan)) == {"I", "NONE"}  # the sink

    table = mlsql.ml_validate_data_skew(stream.runtime.t_env.from_path("dv_events"),
                                        "dv_model", {"window": "1 hour"})
    result = table.execute()
    rows = []
    with result.collect() as streamed:
        for row in streamed:
            rows.append(list(row))
            if len(rows) == 2 * 17:
                break
    result.get_job_client().cancel()
    streamed_frame = _by_window(pd.DataFrame(rows, columns=table.get_schema().get_field_names()))
    expected = _by_window(batch.sql(WINDOWED.format("")))
    expected = expected[expected["window_start"] < START + pd.Timedelta(hours=2)]
    pd.testing.assert_frame_equal(streamed_frame, expected.reset_index(drop=True),
                                  check_exact=False, rtol=1e-12, check_dtype=False)

    # On a stream the time must be an event-time attribute, which batch mode does not need.
    stream.sql(f"CREATE TABLE dv_plain (amount DOUBLE, ts TIMESTAMP(3)) WITH ('connector' = "
               f"'filesystem', 'path' = '{directory}', 'format' = 'csv')")
    with pytest.raises(SchemaError, match=r"at line 1, column 15: dv_plain's column 'ts' is "
                                          r"no event-time attribute, which a window on a "
                                          r"stream needs: declare WATERMARK FOR `ts`"):
        stream.sql("SELECT * FROM ML_VALIDATE_DATA_SKEW(TABLE dv_plain, MODEL dv_model, "
                   "MAP['window', '1 hour'])")


def test_windowed_mistakes_are_reported_before_a_job_runs(windowed):
    session = windowed[0]
    cases = [
        ("MAP['window', '1 hr']", MlsqlError, r"window: '1 hr' is not a duration"),
        ("MAP['window', '500 ms']", MlsqlError, r"window is a whole number of seconds"),
        ("MAP['time', 'ts']", MlsqlError, r"the time option goes with a window"),
        ("MAP['window', '1 hour', 'time', 'tss']", SchemaError,
         r"dv_events has no column 'tss' \(the time option\) \(did you mean 'ts'\?\)"),
        ("MAP['window', '1 hour', 'time', 'amount']", SchemaError,
         r"dv_events's column 'amount' is DOUBLE, not a TIMESTAMP"),
    ]
    for options, error, message in cases:
        with pytest.raises(error, match=r"ML_VALIDATE_DATA_SKEW at line 2, column 6: "
                                        + message):
            session.sql("SELECT *\nFROM ML_VALIDATE_DATA_SKEW(TABLE dv_events, MODEL dv_model, "
                        f"{options})")
    with pytest.raises(SchemaError, match=r"at line 1, column 15: dv_live has no TIMESTAMP "
                                          r"columns to window by; name the time with"):
        session.sql("SELECT * FROM ML_VALIDATE_DATA_SKEW(TABLE dv_live, MODEL dv_model, "
                    "MAP['window', '1 hour'])")

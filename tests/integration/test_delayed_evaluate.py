"""ML_EVALUATE_DELAYED: quality per prediction-time window and version from labels that come
later, late labels counted apart, against pandas on the same rows, and the same numbers in
batch and streaming mode."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import mlsql
from mlsql.errors import MlsqlError, SchemaError

pytestmark = pytest.mark.slow
N = 2_000
START = pd.Timestamp("2026-03-01")
DELAY_DAYS = 30
DELAY = DELAY_DAYS * 86400
HORIZON = 86400  # the default: the window
EDGES = {  # tx_id: its labels' times after the prediction (s), and what the default counts
    10: ([DELAY], "labelled"),  # exactly at the delay
    11: ([DELAY + 1], "late_labels"),  # just past it
    12: ([DELAY + HORIZON], "late_labels"),  # exactly at the horizon
    13: ([DELAY + HORIZON + 1], "unlabelled"),  # past the horizon
    14: ([3600, DELAY + 60], "labelled"),  # one in time, one late: labelled, once
    15: ([DELAY + 60, DELAY + 120], "late_labels"),  # two late: late, once
    16: ([60, 120], "labelled"),  # two in time: two rows of the join, as before
    17: ([DELAY + 60, DELAY + HORIZON + 60], "late_labels"),  # late, and too late
}


def _ddl(directory) -> str:
    return (
        "CREATE TABLE de_predictions (tx_id BIGINT, event_time TIMESTAMP(3), "
        "predicted_label INT, probability DOUBLE, model_version INT, "
        "WATERMARK FOR event_time AS event_time - INTERVAL '1' SECOND) WITH ("
        f"'connector' = 'filesystem', 'path' = '{directory}/predictions.csv', "
        "'format' = 'csv');\n"
        "CREATE TABLE de_labels (tx_id BIGINT, labelled_at TIMESTAMP(3), label INT, "
        "WATERMARK FOR labelled_at AS labelled_at - INTERVAL '1' SECOND) WITH ("
        f"'connector' = 'filesystem', 'path' = '{directory}/labels.csv', 'format' = 'csv');\n")


QUERY = ("SELECT * FROM ML_EVALUATE_DELAYED(TABLE de_predictions, TABLE de_labels, "
         "MODEL de_model, DESCRIPTOR(tx_id), MAP['window', '1 day', 'label_delay', "
         f"'{DELAY_DAYS} days'])")
COUNTS = ["predictions", "labelled", "late_labels", "unlabelled"]


def _query(horizon: str | None = None, extra: str = "") -> str:
    """QUERY, with 'late_horizon' when given and more MAP entries."""
    options = (f", 'late_horizon', '{horizon}'" if horizon else "") + extra
    return QUERY.replace(f"'{DELAY_DAYS} days']", f"'{DELAY_DAYS} days'{options}]")


@pytest.fixture(scope="module")
def scored(batch_session):
    """A model, its predictions over 10 days of transactions (two versions' worth), and
    labels 0 to 40 days after each prediction, one in ten never, EDGES' as they say."""
    directory = batch_session.data_dir / "delayed"
    directory.mkdir()
    rng = np.random.default_rng(8)
    frame = pd.DataFrame({"tx_id": np.arange(N), "x": rng.normal(size=N)})
    frame["label"] = (frame["x"] + rng.normal(scale=0.7, size=N) > 0).astype(int)
    frame[["x", "label"]].to_csv(directory / "train.csv", index=False, header=False)
    batch_session.sql(f"CREATE TABLE de_train (x DOUBLE, label INT) WITH ('connector' = "
                      f"'filesystem', 'path' = '{directory}/train.csv', 'format' = 'csv')")
    batch_session.sql("CREATE OR REPLACE MODEL de_model WITH ('model_type' = 'logistic_reg', "
                      "'label' = 'label') AS SELECT x, label FROM de_train")
    frame[["tx_id", "x"]].to_csv(directory / "tx.csv", index=False, header=False)
    batch_session.sql(f"CREATE TABLE de_tx (tx_id BIGINT, x DOUBLE) WITH ('connector' = "
                      f"'filesystem', 'path' = '{directory}/tx.csv', 'format' = 'csv')")
    predicted = batch_session.sql("SELECT tx_id, predicted_label, probability FROM "
                                  "ML_PREDICT(TABLE de_tx, MODEL de_model)")
    predictions = frame[["tx_id"]].merge(predicted, on="tx_id")
    predictions["event_time"] = START + pd.to_timedelta(
        np.sort(rng.uniform(0, 10 * 86400, N)).round(), unit="s")
    predictions["model_version"] = np.where(predictions["tx_id"] % 3 == 0, 2, 1)
    predictions[["tx_id", "event_time", "predicted_label", "probability", "model_version"]] \
        .to_csv(directory / "predictions.csv", index=False, header=False,
                date_format="%Y-%m-%d %H:%M:%S")
    labels = frame[["tx_id", "label"]].copy()
    labels["labelled_at"] = predictions["event_time"] + pd.to_timedelta(
        rng.uniform(0, 40 * 86400, N).round(), unit="s")
    labels = pd.concat([labels[(rng.uniform(size=N) > 0.1) & ~labels["tx_id"].isin(EDGES)],
                        _edge_labels(frame, predictions)], ignore_index=True)
    # In the order labels arrive. Unsorted, a stream read of two bounded files races: once
    # the predictions' file ends (its watermark at the maximum), a label earlier than one
    # already read is late and dropped, and how many depends on which file is read faster.
    labels = labels.sort_values("labelled_at", kind="stable", ignore_index=True)
    labels[["tx_id", "labelled_at", "label"]].to_csv(
        directory / "labels.csv", index=False, header=False, date_format="%Y-%m-%d %H:%M:%S")
    batch_session.sql(_ddl(directory))
    return batch_session, directory, predictions, labels


def _edge_labels(frame: pd.DataFrame, predictions: pd.DataFrame) -> pd.DataFrame:
    times = predictions.set_index("tx_id")["event_time"]
    truth = frame.set_index("tx_id")["label"]
    return pd.DataFrame([
        {"tx_id": tx, "label": truth[tx], "labelled_at": times[tx] + pd.Timedelta(seconds=after)}
        for tx, (afters, _) in EDGES.items() for after in afters])


def _expected(predictions: pd.DataFrame, labels: pd.DataFrame,
              horizon: float = HORIZON) -> pd.DataFrame:
    """Every label within the delay a labelled row; a prediction without one late when a
    label came within the horizon, else unlabelled."""
    joined = predictions.merge(labels, on="tx_id", how="left")
    after = (joined["labelled_at"] - joined["event_time"]).dt.total_seconds()
    joined["in_time"] = after <= DELAY
    joined["late"] = (after > DELAY) & (after <= DELAY + horizon)
    status = joined.groupby("tx_id")[["in_time", "late"]].any()
    joined["window_start"] = joined["event_time"].dt.floor("D")
    rows = []
    for (start, version), group in joined.groupby(["window_start", "model_version"]):
        known = group[group["in_time"]]
        others = status.loc[group["tx_id"].unique()]
        others = others[~others["in_time"]]
        y, said, p = known["label"], known["predicted_label"], known["probability"]
        tp = ((y == 1) & (said == 1)).sum()
        fp = ((y == 0) & (said == 1)).sum()
        fn = ((y == 1) & (said == 0)).sum()
        clipped = p.clip(1e-15, 1 - 1e-15)
        buckets = np.minimum(np.floor(p.clip(0, 1) * 10_000), 9_999).astype(int)
        positives = np.bincount(buckets[y == 1], minlength=10_000).astype(float)
        negatives = np.bincount(buckets[y == 0], minlength=10_000).astype(float)
        below = np.cumsum(negatives) - negatives
        auc = (positives * (below + 0.5 * negatives)).sum() / (positives.sum() * negatives.sum())
        rows.append({
            "window_start": start, "model_version": version,
            "predictions": len(known) + len(others), "labelled": len(known),
            "late_labels": others["late"].sum(), "unlabelled": (~others["late"]).sum(),
            "accuracy": (y == said).mean(), "precision": tp / (tp + fp),
            "recall": tp / (tp + fn), "f1_score": 2 * tp / (2 * tp + fp + fn), "roc_auc": auc,
            "log_loss": -np.where(y == 1, np.log(clipped), np.log(1 - clipped)).mean(),
            "mean_predicted": p.mean(), "observed_rate": (y == 1).mean()})
    return pd.DataFrame(rows)


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame["window_start"] = pd.to_datetime(frame["window_start"])
    return frame.sort_values(["window_start", "model_version"]).reset_index(drop=True)


@pytest.mark.parametrize(("horizon", "seconds"), [(None, HORIZON), ("0 s", 0),
                                               ("3 days", 3 * 86400)])
def test_windowed_quality_equals_pandas_on_the_same_rows(scored, horizon, seconds):
    session, _, predictions, labels = scored
    result = _sorted(session.sql(_query(horizon)))
    expected = _sorted(_expected(predictions, labels, seconds))
    assert len(result) == len(expected) == 20  # 10 days x 2 versions
    assert list(result.columns[:7]) == ["window_start", "window_end", "model_version", *COUNTS]
    assert (result["window_end"] - result["window_start"] == pd.Timedelta(days=1)).all()
    assert (result["predictions"] == result[COUNTS[1:]].sum(axis=1)).all()
    assert result["predictions"].sum() == N + 1  # tx 16's second label in time: one row more
    if not seconds:
        assert (result["late_labels"] == 0).all()
    for column in COUNTS:
        assert result[column].astype(int).tolist() == expected[column].astype(int).tolist(), \
            column
    for column in expected.columns.drop(["window_start", *COUNTS]):
        np.testing.assert_allclose(result[column].astype(float), expected[column].astype(float),
                                   rtol=1e-9, atol=1e-9, err_msg=column)


@pytest.mark.parametrize("horizon", [None, "0 s"])
def test_each_edge_lands_in_its_column(scored, horizon):
    """Per prediction (tx_id as the segment): a label at the delay, just past it, at the
    horizon, past it, and duplicates."""
    session = scored[0]
    query = _query(horizon, ", 'segment', 'tx_id'")
    edges = ", ".join(map(str, EDGES))
    rows = session.sql(f"SELECT * FROM ({query}) WHERE segment IN ({edges})") \
        .set_index("segment")
    assert sorted(rows.index) == sorted(EDGES)
    for tx, (_, where) in EDGES.items():
        if horizon == "0 s" and where == "late_labels":
            where = "unlabelled"  # no horizon: late labels are no labels, as before
        counted = {column: 0 for column in COUNTS[1:]} | {where: 2 if tx == 16 else 1}
        assert rows.loc[tx, COUNTS].astype(int).to_dict() == \
            {"predictions": sum(counted.values()), **counted}, tx


@pytest.mark.parametrize("horizon", [None, "0 s"])
def test_a_stream_gives_the_batch_numbers(scored, horizon):
    batch, directory, _, _ = scored
    stream = mlsql.Session(registry=batch.registry.root)
    stream.sql(_ddl(directory))
    result = _sorted(stream.sql(_query(horizon)))
    expected = _sorted(batch.sql(_query(horizon)))
    pd.testing.assert_frame_equal(result, expected, check_exact=False, rtol=1e-9)


def test_mistakes_name_the_option_or_column(scored):
    session = scored[0]
    with pytest.raises(MlsqlError, match=r"unknown ML_EVALUATE_DELAYED option 'label_dealy' "
                                         r"\(did you mean 'label_delay'\?\)"):
        session.sql(QUERY.replace("'label_delay'", "'label_dealy'"))
    with pytest.raises(SchemaError, match=r"de_predictions has no column 'txid' \(the join "
                                          r"key\)"):
        session.sql(QUERY.replace("DESCRIPTOR(tx_id)", "DESCRIPTOR(txid)"))
    with pytest.raises(MlsqlError, match=r"label_delay: '30 dayz' is not a duration"):
        session.sql(QUERY.replace(f"'{DELAY_DAYS} days'", "'30 dayz'"))
    with pytest.raises(MlsqlError, match=r"option 'late_horison' \(did you mean "
                                         r"'late_horizon'\?\)"):
        session.sql(_query(extra=", 'late_horison', '1 day'"))
    for horizon, error in [("1 dayz", "'1 dayz' is not a duration"),
                           ("-1 day", "'-1 day' is not a duration"),
                           ("0 dayz", "'0 dayz' is not a duration"),
                           ("1.5 s", "'1.5 s' is not a whole number of seconds")]:
        with pytest.raises(MlsqlError, match=f"ML_EVALUATE_DELAYED's late_horizon: {error}"):
            session.sql(_query(horizon))
    with pytest.raises(MlsqlError, match=r"label_delay: '0 s': a duration must be positive"):
        session.sql(QUERY.replace(f"'{DELAY_DAYS} days'", "'0 s'"))


def test_the_table_api_function_gives_the_sql_rows(scored):
    session = scored[0]
    t_env = session.runtime.t_env
    frame = mlsql.ml_evaluate_delayed(
        t_env.from_path("de_predictions"), t_env.from_path("de_labels"), "de_model", "tx_id",
        {"window": "1 day", "label_delay": f"{DELAY_DAYS} days"}).to_pandas()
    pd.testing.assert_frame_equal(_sorted(frame), _sorted(session.sql(QUERY)))

"""ML_EVALUATE_DELAYED: quality per prediction-time window and version from labels that come
later, against pandas on the same rows, and the same numbers in batch and streaming mode."""

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


@pytest.fixture(scope="module")
def scored(batch_session):
    """A model, its predictions over 10 days of transactions (two versions' worth), and
    labels 0 to 40 days after each prediction, one in ten never."""
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
    labels = labels[rng.uniform(size=N) > 0.1]
    labels[["tx_id", "labelled_at", "label"]].to_csv(
        directory / "labels.csv", index=False, header=False, date_format="%Y-%m-%d %H:%M:%S")
    batch_session.sql(_ddl(directory))
    return batch_session, directory, predictions, labels


def _expected(predictions: pd.DataFrame, labels: pd.DataFrame) -> pd.DataFrame:
    joined = predictions.merge(labels, on="tx_id", how="left")
    late = joined["labelled_at"] > joined["event_time"] + pd.Timedelta(days=DELAY_DAYS)
    joined.loc[late, "label"] = np.nan
    joined["window_start"] = joined["event_time"].dt.floor("D")
    rows = []
    for (start, version), group in joined.groupby(["window_start", "model_version"]):
        known = group[group["label"].notna()]
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
            "window_start": start, "model_version": version, "predictions": len(group),
            "labelled": len(known), "unlabelled": len(group) - len(known),
            "accuracy": (y == said).mean(), "precision": tp / (tp + fp),
            "recall": tp / (tp + fn), "f1_score": 2 * tp / (2 * tp + fp + fn), "roc_auc": auc,
            "log_loss": -np.where(y == 1, np.log(clipped), np.log(1 - clipped)).mean(),
            "mean_predicted": p.mean(), "observed_rate": (y == 1).mean()})
    return pd.DataFrame(rows)


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame["window_start"] = pd.to_datetime(frame["window_start"])
    return frame.sort_values(["window_start", "model_version"]).reset_index(drop=True)


def test_windowed_quality_equals_pandas_on_the_same_rows(scored):
    session, _, predictions, labels = scored
    result = _sorted(session.sql(QUERY))
    expected = _sorted(_expected(predictions, labels))
    assert len(result) == len(expected) == 20  # 10 days x 2 versions
    assert (result["window_end"] - result["window_start"] == pd.Timedelta(days=1)).all()
    late = (labels.set_index("tx_id")["labelled_at"]
            > predictions.set_index("tx_id")["event_time"].reindex(labels["tx_id"])
            + pd.Timedelta(days=DELAY_DAYS)).sum()
    assert result["unlabelled"].sum() == N - len(labels) + late  # never labelled, or too late
    for column in expected.columns:
        if column == "window_start":
            continue
        np.testing.assert_allclose(result[column].astype(float), expected[column].astype(float),
                                   rtol=1e-9, err_msg=column)


def test_a_stream_gives_the_batch_numbers(scored, tmp_path):
    batch, directory, _, _ = scored
    stream = mlsql.Session(registry=batch.registry.root)
    stream.sql(_ddl(directory))
    result = _sorted(stream.sql(QUERY))
    expected = _sorted(batch.sql(QUERY))
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


def test_the_table_api_function_gives_the_sql_rows(scored):
    session = scored[0]
    t_env = session.runtime.t_env
    frame = mlsql.ml_evaluate_delayed(
        t_env.from_path("de_predictions"), t_env.from_path("de_labels"), "de_model", "tx_id",
        {"window": "1 day", "label_delay": f"{DELAY_DAYS} days"}).to_pandas()
    pd.testing.assert_frame_equal(_sorted(frame), _sorted(session.sql(QUERY)))

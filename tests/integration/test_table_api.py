"""The Table API on real Flink jobs: model functions over PyFlink Tables that compose with
the Table API (joins, windows) in batch and streaming, training from a Table, and the
Pipeline API — equal to the SQL path, saved and loaded without pickle."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from pyflink.table.expressions import col, lit
from pyflink.table.window import Tumble

import mlsql
from mlsql.errors import ModelNotFoundError, OptionError, SchemaError
from mlsql.models.registry import METADATA_FILE
from mlsql.pipeline import (
    Bucketizer,
    Imputer,
    KBinsDiscretizer,
    LogisticRegression,
    OneHotEncoder,
    OnlineLogisticRegression,
    Pipeline,
    PipelineModel,
    RobustScaler,
    SQLTransformer,
    StandardScaler,
    StringIndexer,
    ValueOneHotEncoder,
)
from tests.helpers import create_csv_table

pytestmark = pytest.mark.slow
ROWS = 400
START = pd.Timestamp("2026-01-01")


def _transactions(seed: int, rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "tx_id": np.arange(rows, dtype=np.int64),
        "card_id": rng.integers(0, 8, rows).astype(np.int64),
        "amount": rng.gamma(2.0, 40.0, rows).round(2),
        "balance": rng.normal(-20.0, 30.0, rows).round(3),  # negative mean: fitted (-x)
        "hour_of_day": rng.integers(0, 24, rows).astype(np.int64),
        "merchant": rng.choice(["food", "travel", "tech", "fuel"], rows, p=[.4, .3, .2, .1]),
    })
    frame["tx_time"] = (START + pd.to_timedelta(frame["tx_id"] * 90, unit="s")).dt.strftime(
        "%Y-%m-%d %H:%M:%S")
    logit = 0.03 * (frame["amount"] - 80) + 1.5 * (frame["merchant"] == "tech") - 0.02 * \
        frame["balance"]
    frame["is_fraud"] = (rng.random(rows) < 1 / (1 + np.exp(-logit + 1))).astype(np.int64)
    return frame


@pytest.fixture(scope="module")
def data(batch_session) -> pd.DataFrame:
    frame = _transactions(11, ROWS)
    create_csv_table(batch_session, "ta_tx", frame, batch_session.data_dir,
                     types={"tx_time": "TIMESTAMP(3)"})
    cards = pd.DataFrame({"card_id": np.arange(8, dtype=np.int64),
                          "region": ["north", "south"] * 4})
    create_csv_table(batch_session, "ta_cards", cards, batch_session.data_dir)
    return frame


@pytest.fixture(scope="module")
def trained(batch_session, data) -> pd.DataFrame:
    table = batch_session.table_env.from_path("ta_tx").drop_columns(col("tx_id"),
                                                                      col("tx_time"))
    return batch_session.create_model("ta_lr", table, model_type="logistic_reg",
                                      label="is_fraud", max_iter=300)


def _sorted(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    return frame.sort_values(by).reset_index(drop=True)


def test_create_model_from_a_table_trains_as_the_statement_does(batch_session, trained):
    assert trained["model"].iloc[0] == "ta_lr" and trained["train_rows"].iloc[0] > 0
    described = batch_session.sql("DESCRIBE MODEL ta_lr")
    assert {"amount", "balance", "merchant", "card_id"} <= set(described["name"])
    again = batch_session.sql(
        "CREATE MODEL ta_lr_sql WITH ('model_type' = 'logistic_reg', 'label' = 'is_fraud', "
        "'max_iter' = '300') AS SELECT card_id, amount, balance, hour_of_day, merchant, "
        "is_fraud FROM ta_tx")
    assert again["accuracy"].iloc[0] == pytest.approx(trained["accuracy"].iloc[0], abs=1e-12)


@pytest.mark.parametrize("execution", ["sql", "jvm", "udf"])
def test_ml_predict_table_joins_and_windows_in_batch(batch_session, trained, execution):
    t_env = batch_session.table_env
    scored = mlsql.ml_predict(t_env.from_path("ta_tx"), "ta_lr", execution=execution)
    assert "predicted_is_fraud" in scored.get_schema().get_field_names()  # lazy: no job yet
    cards = t_env.from_path("ta_cards").rename_columns(col("card_id").alias("c_id"))
    hourly = (scored.join(cards, col("card_id") == col("c_id"))
              .window(Tumble.over(lit(1).hours).on(col("tx_time")).alias("w"))
              .group_by(col("w"), col("region"))
              .select(col("w").start.alias("hour"), col("region"),
                      col("predicted_is_fraud").sum.alias("alerts"),
                      col("tx_id").count.alias("n")))
    got = _sorted(hourly.to_pandas(), ["hour", "region"])
    expected = batch_session.sql(
        "SELECT TUMBLE_START(tx_time, INTERVAL '1' HOUR) AS `hour`, region, "
        "SUM(predicted_is_fraud) AS alerts, COUNT(tx_id) AS n FROM ML_PREDICT(TABLE ta_tx, "
        f"MODEL ta_lr, MAP['execution', '{execution}']) AS p JOIN ta_cards c ON "
        "p.card_id = c.card_id GROUP BY TUMBLE(tx_time, INTERVAL '1' HOUR), region")
    expected = _sorted(expected, ["hour", "region"])
    assert len(got) > 10 and got["n"].sum() == ROWS
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    assert got["alerts"].sum() > 0


def _event_stream(batch_session, data: pd.DataFrame, directory, name: str) -> mlsql.Session:
    """A streaming Session over the same registry, with `data` as table `name`: a file
    source with a watermark on tx_time (bounded, so its windows close at the end)."""
    stream = mlsql.Session(registry=batch_session.registry.root, mode="streaming")
    data.to_csv(directory / "events.csv", index=False, header=False)
    stream.sql(
        f"CREATE TABLE {name} (tx_id BIGINT, card_id BIGINT, amount DOUBLE, balance DOUBLE, "
        "hour_of_day BIGINT, merchant STRING, tx_time TIMESTAMP(3), is_fraud BIGINT, "
        "WATERMARK FOR tx_time AS tx_time - INTERVAL '1' SECOND) WITH ("
        f"'connector' = 'filesystem', 'path' = '{directory / 'events.csv'}', "
        "'format' = 'csv')")
    return stream


def test_ml_predict_table_windows_and_joins_a_stream(tmp_path, data, trained, batch_session):
    stream = _event_stream(batch_session, data, tmp_path, "ta_events")
    cards = pd.DataFrame({"c_id": np.arange(8, dtype=np.int64),
                          "region": ["north", "south"] * 4})
    scored = mlsql.ml_predict(stream.table_env.from_path("ta_events"), "ta_lr$1")
    windows = (scored.window(Tumble.over(lit(1).hours).on(col("tx_time")).alias("w"))
               .group_by(col("w"), col("card_id"))
               .select(col("w").start.alias("hour"), col("card_id"),
                       col("predicted_is_fraud").sum.alias("alerts"))
               .join(stream.table_env.from_pandas(cards), col("card_id") == col("c_id"))
               .select(col("hour"), col("card_id"), col("region"), col("alerts")))
    got = _sorted(windows.to_pandas(), ["hour", "card_id"])
    frame = batch_session.sql("SELECT tx_time, card_id, predicted_is_fraud FROM ML_PREDICT("
                              "TABLE ta_tx, MODEL `ta_lr$1`)")
    frame["hour"] = frame["tx_time"].dt.floor("h")
    expected = (frame.groupby(["hour", "card_id"])["predicted_is_fraud"].sum()
                .reset_index(name="alerts"))
    expected["region"] = expected["card_id"].map(cards.set_index("c_id")["region"])
    expected = _sorted(expected[["hour", "card_id", "region", "alerts"]], ["hour", "card_id"])
    assert len(got) == len(expected) > 20
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    assert got["alerts"].sum() > 0


def test_online_estimators_train_on_a_stream(tmp_path, data, batch_session):
    stream = _event_stream(batch_session, data, tmp_path, "ta_online_events")
    events = stream.table_env.from_path("ta_online_events")
    estimator = OnlineLogisticRegression(label="is_fraud", features=["amount", "merchant"],
                                         update_every="2 hours")
    job = Pipeline([estimator]).fit(events, name="ta_online")
    job.wait(300)
    versions = batch_session.registry.versions("ta_online")
    assert len(versions) >= 4  # 10 hours of event time, a version per 2 hours
    meta = batch_session.registry.resolve("ta_online").metadata
    assert [i["name"] for i in meta["inputs"]] == ["amount", "merchant"]
    with pytest.raises(OptionError, match="keeps no TRANSFORM"):
        Pipeline([StandardScaler(columns=["amount"]), estimator]).fit(events, name="ta_x")


def test_evaluate_and_analysis_functions_equal_the_sql_forms(batch_session, trained):
    table = batch_session.table_env.from_path("ta_tx")
    got = mlsql.ml_evaluate(table, "ta_lr").to_pandas()
    expected = batch_session.sql("SELECT * FROM ML_EVALUATE(TABLE ta_tx, MODEL ta_lr)")
    pd.testing.assert_frame_equal(got, expected)
    importance = mlsql.ml_feature_importance(batch_session, "ta_lr").to_pandas()
    assert importance.equals(batch_session.sql(
        "SELECT * FROM ML_FEATURE_IMPORTANCE(MODEL ta_lr)"))
    matrix = mlsql.ml_confusion_matrix(table, "ta_lr").to_pandas()
    assert int(matrix.drop(columns=["expected_label"]).to_numpy().sum()) == ROWS
    curve = mlsql.ml_roc_curve(table, "ta_lr").to_pandas()
    assert curve["recall"].max() == pytest.approx(1.0)
    history = mlsql.ml_training_info(batch_session, "ta_lr").to_pandas()
    assert set(history["version"]) == {1}


def test_table_functions_report_errors_before_any_job(batch_session, trained):
    table = batch_session.table_env.from_path("ta_tx")
    with pytest.raises(ModelNotFoundError, match="ml_predict: model 'nope' not found"):
        mlsql.ml_predict(table, "nope")
    with pytest.raises(SchemaError, match="column 'merchant' not found in the input Table"):
        mlsql.ml_predict(table.drop_columns(col("merchant")), "ta_lr")
    with pytest.raises(mlsql.MlsqlError, match="execution must be one of"):
        mlsql.ml_predict(table, "ta_lr", execution="gpu")
    with pytest.raises(mlsql.MlsqlError, match=r"takes a pyflink\.table\.Table"):
        mlsql.ml_predict(pd.DataFrame({"x": [1]}), "ta_lr")
    with pytest.raises(OptionError, match="unknown option 'num_treez'"):
        batch_session.create_model("ta_bad", table, model_type="boosted_tree_classifier",
                                   label="is_fraud", num_treez=3)
    assert not batch_session.registry.exists("ta_bad")
    # A Table keeps its Session alive; one made before a mode change is refused.
    frame = pd.DataFrame({"amount": [1.0]})
    orphan = mlsql.Session(registry=batch_session.registry.root, mode="batch")
    old = orphan.table_env.from_pandas(frame)
    orphan.sql("SET 'execution.runtime-mode' = 'streaming'")
    with pytest.raises(mlsql.MlsqlError, match="made before SET 'execution\\.runtime-mode'"):
        mlsql.ml_predict(old, "ta_lr")
    with pytest.raises(SchemaError, match="column 'card_id' not found"):
        mlsql.ml_predict(mlsql.Session(registry=batch_session.registry.root)
                         .table_env.from_pandas(frame), "ta_lr")


PIPELINE_SQL = """
CREATE MODEL {name}
TRANSFORM (ML_STANDARD_SCALER(amount, TRUE, TRUE, 'flink-ml') OVER () AS amount_z,
           ML_ROBUST_SCALER(balance, TRUE, TRUE, 0.25, 0.75, 'flink-ml') OVER () AS balance,
           ML_KBINS_DISCRETIZER(hour_of_day, 4, 'quantile', 200000) OVER () AS hour_bucket,
           ML_ONE_HOT_ENCODER(merchant) OVER () AS merchant,
           is_fraud)
WITH ('model_type' = 'logistic_reg', 'label' = 'is_fraud', 'class_weight' = 'balanced')
AS SELECT * FROM ta_tx
"""


def _fraud_pipeline() -> Pipeline:
    return Pipeline([
        StandardScaler(columns=["amount"], output_cols=["amount_z"], with_mean=True),
        RobustScaler(columns=["balance"], with_centering=True),
        KBinsDiscretizer(columns=["hour_of_day"], num_bins=4, output_cols=["hour_bucket"]),
        ValueOneHotEncoder(columns=["merchant"]),
        LogisticRegression(label="is_fraud", class_weight="balanced",
                           features=["amount_z", "balance", "hour_bucket", "merchant"]),
    ])


@pytest.fixture(scope="module")
def pipeline_model(batch_session, data) -> PipelineModel:
    return _fraud_pipeline().fit(batch_session.table_env.from_path("ta_tx"), name="ta_pipe")


def test_a_pipeline_is_the_same_model_as_its_transform_statement(batch_session,
                                                                 pipeline_model):
    batch_session.sql(PIPELINE_SQL.format(name="ta_pipe_sql"))
    sql_meta = batch_session.registry.resolve("ta_pipe_sql").metadata
    pipe_meta = pipeline_model.model.metadata
    assert [i["name"] for i in pipe_meta["inputs"]] == [i["name"] for i in sql_meta["inputs"]]
    assert _constants(pipe_meta) == _constants(sql_meta)
    assert pipe_meta["options"] == sql_meta["options"]
    table = batch_session.table_env.from_path("ta_tx")
    by_pipeline = _sorted(pipeline_model.predict(table).to_pandas(), ["tx_id"])
    by_sql = _sorted(batch_session.sql(
        "SELECT * FROM ML_PREDICT(TABLE ta_tx, MODEL ta_pipe_sql)"), ["tx_id"])
    # Both ways: the pipeline's model scored from SQL, the statement's from the Table API.
    from_sql = _sorted(batch_session.sql(
        "SELECT * FROM ML_PREDICT(TABLE ta_tx, MODEL ta_pipe)"), ["tx_id"])
    from_table = _sorted(mlsql.ml_predict(table, "ta_pipe_sql").to_pandas(), ["tx_id"])
    for frame in (by_sql, from_sql, from_table):
        np.testing.assert_allclose(frame["probability"], by_pipeline["probability"],
                                   rtol=0, atol=1e-9)
        assert frame["predicted_is_fraud"].tolist() == by_pipeline["predicted_is_fraud"].tolist()
    assert 0.2 < by_pipeline["predicted_is_fraud"].mean() < 0.8


def _constants(meta: dict) -> list[list[float]]:
    """The numbers in each stored TRANSFORM item (quoting aside, the fitted constants)."""
    import re

    found = [[float(n) for n in re.findall(r"-?\d+\.\d+E-?\d+", item["expression"])]
             for item in meta["transform"]["items"]]
    assert sum(map(len, found)) >= 8  # scaler, robust scaler, 3 bucket splits ...
    return found


def test_a_pipeline_model_loads_back_without_pickle(batch_session, pipeline_model, tmp_path):
    # What the fit stored, read as plain JSON, and its scores from SQL: neither goes
    # through PipelineModel.
    root = batch_session.registry.root
    version_dir = batch_session.registry.resolve("ta_pipe").path
    stored = json.loads((version_dir / METADATA_FILE).read_text())["transform"]["items"]
    scored = _sorted(batch_session.sql(
        "SELECT * FROM ML_PREDICT(TABLE ta_tx, MODEL ta_pipe)"), ["tx_id"])
    files = list(version_dir.rglob("*"))
    assert not [f for f in files if f.suffix in (".pkl", ".pickle", ".joblib")]
    for path in files:
        if path.suffix == ".npy":
            np.load(path, allow_pickle=False)

    fresh = mlsql.Session(registry=root, mode="batch")  # another TableEnvironment
    create_csv_table(fresh, "ta_tx", pd.read_csv(batch_session.data_dir / "ta_tx.csv",
                                                 names=list(_transactions(11, 1).columns)),
                     tmp_path, types={"tx_time": "TIMESTAMP(3)"})
    loaded = PipelineModel.load(f"ta_pipe${pipeline_model.version}", registry=root)
    assert [(s.column, s.expression) for s in loaded.stages] == [
        (item["name"], item["expression"]) for item in stored if item["name"] != "is_fraud"]
    assert [s.column for s in loaded.stages] == ["amount_z", "balance", "hour_bucket",
                                                 "merchant"]
    assert "(-" in loaded.stages[1].expression  # the balance's negative median, as a literal
    table = fresh.table_env.from_path("ta_tx")
    again = _sorted(loaded.predict(table).to_pandas(), ["tx_id"])
    pd.testing.assert_frame_equal(again, scored, check_dtype=False)
    transformed = loaded.transform(table.drop_columns(col("is_fraud"))).to_pandas()
    assert {"merchant_1", "merchant_other", "amount_z", "hour_bucket"} <= set(transformed)
    assert "merchant" not in transformed  # an output named as its input replaces it
    predictions = [c for c in again.columns if c not in table.get_schema().get_field_names()]
    assert predictions and list(transformed.columns[-len(predictions):]) == predictions
    pd.testing.assert_frame_equal(_sorted(transformed, ["tx_id"])[predictions],
                                  again[predictions], check_dtype=False)
    # Flink ML's StandardScaler: the sample standard deviation
    amount = pd.read_csv(batch_session.data_dir / "ta_tx.csv", header=None)[2]
    np.testing.assert_allclose(_sorted(transformed, ["tx_id"])["amount_z"],
                               (amount - amount.mean()) / amount.std(ddof=1), atol=1e-9)
    with pytest.raises(mlsql.MlsqlError, match="was loaded from registry"):
        PipelineModel.load("ta_pipe", registry=root).predict(
            mlsql.Session(registry=root / "other", mode="batch").table_env.from_pandas(
                pd.DataFrame({"amount": [1.0]})))


def test_a_saved_pipeline_model_names_its_registry_version(batch_session, pipeline_model,
                                                          tmp_path):
    pipeline_model.save(tmp_path / "saved")
    saved = json.loads((tmp_path / "saved" / "pipeline.json").read_text())
    assert (saved["model"], saved["version"]) == ("ta_pipe", pipeline_model.version)
    loaded = PipelineModel.load(tmp_path / "saved")
    assert (loaded.name, loaded.version) == ("ta_pipe", pipeline_model.version)
    assert loaded.stages == pipeline_model.stages


def test_chained_fitted_stages_fit_in_order(batch_session, data):
    frame = data.copy()
    frame.loc[::7, "amount"] = np.nan
    create_csv_table(batch_session, "ta_gaps", frame, batch_session.data_dir,
                     types={"tx_time": "TIMESTAMP(3)"})
    fitted = Pipeline([
        Imputer(columns=["amount"], strategy="median"),
        StandardScaler(columns=["amount"]),
        SQLTransformer("amount * 2 + balance", output_col="mixed"),
    ]).fit(batch_session.table_env.from_path("ta_gaps"))
    got = _sorted(fitted.transform(batch_session.table_env.from_path("ta_gaps")).to_pandas(),
                  ["tx_id"])
    present = frame["amount"].dropna()
    observed_median = present[present <= present.median()].max()  # Flink ML's: a value seen
    imputed = frame["amount"].fillna(observed_median)
    scaled = imputed / imputed.std(ddof=1)  # Flink ML's defaults: not centred, sample std
    np.testing.assert_allclose(got["amount"], scaled, atol=1e-9)
    np.testing.assert_allclose(got["mixed"], scaled * 2 + frame["balance"], atol=1e-9)
    with pytest.raises(OptionError, match="not saved"):
        Pipeline([StandardScaler(columns=["amount"])]).fit(
            batch_session.table_env.from_path("ta_gaps"), name="nope")
    with pytest.raises(SchemaError, match="no column 'amount_x'"):
        Pipeline([StandardScaler(columns=["amount_x"])]).fit(
            batch_session.table_env.from_path("ta_gaps"))
    # Flink ML's one-hot encoding of a string: StringIndexer, then OneHotEncoder on its indices
    indexed = Pipeline([
        StringIndexer(columns=["merchant"], output_cols=["merchant_index"],
                      string_order_type="alphabetAsc"),
        OneHotEncoder(columns=["merchant_index"], output_cols=["m"]),
    ]).fit(batch_session.table_env.from_path("ta_gaps"))
    got = indexed.transform(batch_session.table_env.from_path("ta_gaps")).to_pandas()
    merchants = sorted(frame["merchant"].unique())
    hot = got[[f"m_{i + 1}" for i in range(len(merchants) - 1)]].to_numpy()  # last dropped
    np.testing.assert_array_equal(got["merchant_index"],
                                  [merchants.index(m) for m in got["merchant"]])
    np.testing.assert_array_equal(hot, np.eye(len(merchants))[got["merchant_index"].astype(int),
                                                              :-1])
    # rows that a stage drops in transform() cannot be dropped from a model's training rows
    with pytest.raises(OptionError, match="handle_invalid='skip' drops rows in transform"):
        Pipeline([Bucketizer(columns=["amount"], splits_array=[[0, 100]],
                             handle_invalid="skip"),
                  LogisticRegression(label="is_fraud", features=["amount"])]).fit(
            batch_session.table_env.from_path("ta_gaps"), name="nope")

"""ML_VALIDATE_DATA_SKEW and ML_VALIDATE_DATA_DRIFT against scipy and pandas on the same rows
and the same buckets: the counting happens in Flink, the reference numbers here."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import jensenshannon

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
    import mlsql

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

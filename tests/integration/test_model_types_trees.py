"""random_forest_*, isolation_forest and xgboost_* through the SQL surface beyond the shared
suite (tests/integration/test_model_types.py), on rows with a string column and NULLs, one
session for the module: explanations, feature importance, training history, the anomaly flag,
and compiled SQL against the UDF."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlsql.errors import MlsqlError
from tests.helpers import create_csv_table
from udfs.predictors import load_predictor

pytestmark = pytest.mark.slow


def _rows(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"x1": rng.normal(size=rows), "x2": rng.normal(size=rows),
                          "kind": rng.choice(["a", "b", "c"], rows).astype(object)})
    logit = 1.5 * frame["x1"] - frame["x2"] + (frame["kind"] == "b") * 1.0
    frame["y"] = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(int)
    frame.loc[rng.random(rows) < 0.05, "x2"] = np.nan
    frame.loc[rng.random(rows) < 0.05, "kind"] = None
    return frame


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    import mlsql

    root = tmp_path_factory.mktemp("trees")
    session = mlsql.Session(registry=root / "registry", mode="batch")
    create_csv_table(session, "tr_train", _rows(400, 7), root)
    test = _rows(100, 8)
    test.loc[0, "kind"] = "never_seen"
    test.insert(0, "id", np.arange(len(test), dtype=np.int64))
    create_csv_table(session, "tr_test", test, root)
    session.sql("""
        CREATE MODEL tr_xgb WITH ('model_type' = 'xgboost_classifier', 'label' = 'y',
          'num_trees' = '20', 'max_depth' = '3') AS SELECT * FROM tr_train;
        CREATE MODEL tr_forest WITH ('model_type' = 'random_forest_classifier', 'label' = 'y',
          'num_trees' = '8', 'max_depth' = '4') AS SELECT * FROM tr_train;
        CREATE MODEL tr_anomaly WITH ('model_type' = 'isolation_forest', 'num_trees' = '20',
          'max_samples' = '32', 'contamination' = '0.1') AS SELECT x1, x2, kind FROM tr_train;
    """)
    return session


def _payload(session, name: str) -> dict:
    return load_predictor(str(session.registry.resolve(name).path)).payload


def test_xgboost_explanations_add_up_to_the_log_odds(session):
    explained = session.sql("SELECT * FROM ML_EXPLAIN_PREDICT(TABLE tr_test, MODEL tr_xgb, 2)")
    ranked = explained[["attribution_1", "attribution_2"]].to_numpy()
    total = explained["baseline"] + explained["other_attribution"] + np.nansum(ranked, axis=1)
    np.testing.assert_allclose(total, explained["raw_score"], atol=1e-5)  # float32 sums
    p = explained["probability"]
    np.testing.assert_allclose(explained["raw_score"], np.log(p / (1 - p)), atol=1e-4)
    assert set(explained["feature_1"]) <= {"x1", "x2", "kind"}
    assert len(explained) == 100  # the unseen category and the NULLs included


def test_feature_importance_of_forests_and_xgboost(session):
    forest = session.sql("SELECT * FROM ML_FEATURE_IMPORTANCE(MODEL tr_forest)")
    assert set(forest["importance_type"]) == {"impurity"}
    assert set(forest["feature"]) == {"x1", "x2", "kind=a", "kind=b", "kind=c"}
    assert forest["importance"].sum() == pytest.approx(1.0)
    assert forest.loc[0, "feature"] == "x1"  # the strongest effect in the data
    xgb = session.sql("SELECT * FROM ML_FEATURE_IMPORTANCE(MODEL tr_xgb)")
    assert set(xgb["importance_type"]) == {"gain"}
    assert xgb.loc[0, "feature"] == "x1" and set(xgb["feature"]) == {"x1", "x2", "kind"}
    with pytest.raises(MlsqlError, match="has no feature importance"):
        session.sql("SELECT * FROM ML_FEATURE_IMPORTANCE(MODEL tr_anomaly)")


def test_training_info_has_a_row_per_tree(session):
    forest = session.sql("SELECT * FROM ML_TRAINING_INFO(MODEL tr_forest)")
    assert list(forest["iteration"]) == list(range(1, 9))
    assert forest["eval_loss"].notna().all() and forest["loss"].notna().all()
    xgb = session.sql("SELECT * FROM ML_TRAINING_INFO(MODEL tr_xgb)")
    assert list(xgb["iteration"]) == list(range(1, 21))
    assert xgb["loss"].iloc[-1] < xgb["loss"].iloc[0]


@pytest.mark.parametrize("model", ["tr_forest", "tr_anomaly"])
def test_compiled_sql_equals_the_udf(session, model):
    outputs = [o["name"] for o in session.registry.resolve(model).metadata["outputs"]]
    columns = ", ".join(f"u.`{n}` AS `u_{n}`, s.`{n}` AS `s_{n}`" for n in outputs)
    features = "DESCRIPTOR(x1, x2, kind)"
    both = session.sql(
        f"SELECT {columns} FROM "
        f"ML_PREDICT(TABLE tr_test, MODEL {model}, {features}, MAP['execution', 'udf']) AS u "
        f"JOIN ML_PREDICT(TABLE tr_test, MODEL {model}, {features}, "
        f"MAP['execution', 'sql']) AS s ON u.id = s.id")
    assert len(both) == 100
    for name in outputs:
        left, right = both[f"u_{name}"], both[f"s_{name}"]
        if left.dtype.kind == "f":
            np.testing.assert_allclose(right, left, rtol=0, atol=1e-9)
        else:
            assert (left == right).all(), name


def test_isolation_forest_flags_its_contamination(session):
    flagged = session.sql("SELECT x1, x2, anomaly_score, is_anomaly FROM "
                          "ML_PREDICT(TABLE tr_train, MODEL tr_anomaly)")
    assert flagged["is_anomaly"].dtype == bool
    assert flagged["is_anomaly"].mean() == pytest.approx(0.1, abs=0.01)
    threshold = _payload(session, "tr_anomaly")["threshold"]
    assert ((flagged["anomaly_score"] >= threshold) == flagged["is_anomaly"]).all()
    far = flagged["x1"].abs() + flagged["x2"].fillna(0).abs()
    assert far[flagged["is_anomaly"]].mean() > far[~flagged["is_anomaly"]].mean()

"""linear_svc, naive_bayes, knn and mlp on what the shared suite's numeric datasets lack:
string features (one-hot, NULL and unseen values), NULL numbers, a STRING label; compiled
SQL against the UDF in Flink on such rows, attributions, per-epoch training history and the
knn row limit through CREATE MODEL."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlsql.errors import TrainingError
from tests.helpers import MIXED_TYPES, create_csv_table, fresh_mixed_rows, mixed_rows

pytestmark = pytest.mark.slow

MODELS = {
    "x_svc_multi": "'model_type' = 'linear_svc', 'label' = 'k'",
    "x_svc": "'model_type' = 'linear_svc', 'label' = 'y', 'l2_reg' = '0.1'",
    "x_nb": "'model_type' = 'naive_bayes', 'label' = 'y'",
    "x_nb_multi": "'model_type' = 'naive_bayes', 'label' = 'k'",
    "x_knn": "'model_type' = 'knn_classifier', 'label' = 'k', 'weights' = 'distance'",
    "x_mlp": "'model_type' = 'mlp_classifier', 'label' = 'y', 'hidden_units' = '[8, 4]', "
             "'max_iter' = '30'",
    "x_mlp_reg": "'model_type' = 'mlp_regressor', 'label' = 'b', 'hidden_units' = '[8]', "
                 "'max_iter' = '20'",
}
COLUMNS = "a, b, c, flag"
TYPES = MIXED_TYPES


@pytest.fixture(scope="module")
def session(batch_session):
    create_csv_table(batch_session, "x_train", mixed_rows(5, 1_500),
                     batch_session.data_dir, TYPES)
    create_csv_table(batch_session, "x_fresh", fresh_mixed_rows(), batch_session.data_dir,
                     TYPES)
    batch_session.sql(f"CREATE TEMPORARY VIEW x_both AS SELECT {COLUMNS} FROM x_train "
                      f"UNION ALL SELECT {COLUMNS} FROM x_fresh")
    for name, options in MODELS.items():
        label = options.split("'label' = '")[1].split("'")[0]
        columns = COLUMNS.replace("b, ", "") if label == "b" else COLUMNS
        batch_session.sql(f"CREATE OR REPLACE MODEL {name} WITH ({options}) "
                          f"AS SELECT {columns}, {label} FROM x_train")
    return batch_session


@pytest.mark.parametrize("model", ["x_svc", "x_svc_multi", "x_nb", "x_nb_multi"])
def test_compiled_sql_equals_the_udf(session, model):
    """On the training rows and on fresh ones with NULLs and an unseen string, one job per
    path."""
    table = "x_both"

    def scored(path: str) -> pd.DataFrame:
        rows = session.sql(f"SELECT * FROM ML_PREDICT(TABLE {table}, MODEL {model}, "
                           f"MAP['execution', '{path}'])")
        inputs = ["a", "b", "c", "flag"]  # equal inputs score equally: any order of ties
        return rows.sort_values(inputs, na_position="first", kind="stable").reset_index(
            drop=True)

    udf, sql = scored("udf"), scored("sql")
    assert len(udf) == len(sql) == 1_505
    for column in [c for c in udf.columns if c.startswith("predicted_")] + ["probability"]:
        assert sql[column].notna().all()
        if udf[column].dtype.kind == "f":
            np.testing.assert_allclose(sql[column], udf[column], rtol=1e-9, atol=1e-12)
        else:
            assert (sql[column].to_numpy() == udf[column].to_numpy()).all()
    plan = session.sql(f"EXPLAIN SELECT * FROM ML_PREDICT(TABLE {table}, MODEL {model})")
    assert "PythonCalc" not in plan.iloc[0, 0]  # 'auto' picks the compiled form


@pytest.mark.parametrize("model", ["x_knn", "x_mlp", "x_mlp_reg"])
def test_udf_only_types_score_strings_and_nulls(session, model):
    scored = session.sql(f"SELECT * FROM ML_PREDICT(TABLE x_fresh, MODEL {model})")
    assert len(scored) == 5
    predicted = next(c for c in scored.columns if c.startswith("predicted_"))
    assert scored[predicted].notna().all()
    if "probability" in scored:
        assert scored["probability"].between(0, 1).all()
    plan = session.sql(f"EXPLAIN SELECT * FROM ML_PREDICT(TABLE x_fresh, MODEL {model})")
    assert "PythonCalc" in plan.iloc[0, 0]


def test_explanations_add_up_to_the_log_odds(session):
    explained = session.sql("SELECT * FROM ML_EXPLAIN_PREDICT(TABLE x_fresh, MODEL x_svc, 4)")
    total = explained["baseline"] + explained[[f"attribution_{i}" for i in range(1, 5)]].sum(
        axis=1) + explained["other_attribution"]
    np.testing.assert_allclose(total, explained["raw_score"], rtol=1e-9, atol=1e-12)
    p = explained["probability"]
    np.testing.assert_allclose(explained["raw_score"], np.log(p / (1 - p)), rtol=1e-6)


def test_mlp_history_has_every_epoch(session):
    info = session.sql("SELECT iteration, loss FROM ML_TRAINING_INFO(MODEL x_mlp)")
    assert info["iteration"].tolist() == list(range(1, 31))
    assert info["loss"].iloc[-1] < info["loss"].iloc[0]


def test_knn_refuses_more_rows_than_max_rows(session):
    with pytest.raises(TrainingError, match="exceed max_rows=1,000; raise 'max_rows'"):
        session.sql("CREATE MODEL x_knn_big WITH ('model_type' = 'knn_regressor', "
                    "'label' = 'b', 'max_rows' = '1000', 'eval_fraction' = '0') "
                    "AS SELECT a, c, b FROM x_train")
    assert not session.registry.exists("x_knn_big")

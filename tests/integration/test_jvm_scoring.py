"""The JVM scorer (mlsql/jvm) against the Python UDF on rows the shared suite's numeric
datasets lack: string features (LightGBM's and XGBoost's categorical splits, one-hot for
linear models and k-means), NULL numbers and strings, unseen strings, a STRING and an INT
label. Both paths score the same rows in Flink; every output must agree within 1e-9."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from mlsql.errors import MlsqlError
from tests.helpers import MIXED_TYPES, create_csv_table, fresh_mixed_rows, mixed_rows

pytestmark = pytest.mark.slow

TREES = "'num_trees' = '30', 'num_leaves' = '8', 'min_data_in_leaf' = '5'"
MODELS = {
    "j_gbt": f"'model_type' = 'boosted_tree_classifier', 'label' = 'y', {TREES}",
    "j_gbt_multi": f"'model_type' = 'boosted_tree_classifier', 'label' = 'k', {TREES}",
    "j_gbt_reg": f"'model_type' = 'boosted_tree_regressor', 'label' = 'b', {TREES}",
    "j_xgb": "'model_type' = 'xgboost_classifier', 'label' = 'y', 'num_trees' = '30'",
    "j_xgb_multi": "'model_type' = 'xgboost_classifier', 'label' = 'k', 'num_trees' = '30'",
    "j_xgb_reg": "'model_type' = 'xgboost_regressor', 'label' = 'b', 'num_trees' = '30'",
    "j_logistic": "'model_type' = 'logistic_reg', 'label' = 'y'",
    "j_logistic_multi": "'model_type' = 'logistic_reg', 'label' = 'k'",
    "j_linear": "'model_type' = 'linear_reg', 'label' = 'b'",
    "j_kmeans": "'model_type' = 'kmeans', 'num_clusters' = '4'",
}
COLUMNS = "a, b, c, flag"
INPUTS = ["a", "b", "c", "flag"]


def label_of(options: str) -> str | None:
    return options.split("'label' = '")[1].split("'")[0] if "'label'" in options else None


@pytest.fixture(scope="module")
def session(batch_session):
    create_csv_table(batch_session, "j_train", mixed_rows(7, 1_200), batch_session.data_dir,
                     MIXED_TYPES)
    create_csv_table(batch_session, "j_fresh", fresh_mixed_rows(), batch_session.data_dir,
                     MIXED_TYPES)
    batch_session.sql(f"CREATE TEMPORARY VIEW j_both AS SELECT {COLUMNS} FROM j_train "
                      f"UNION ALL SELECT {COLUMNS} FROM j_fresh")
    for name, options in MODELS.items():
        label = label_of(options)
        columns = COLUMNS.replace("b, ", "") if label == "b" else COLUMNS
        batch_session.sql(f"CREATE OR REPLACE MODEL {name} WITH ({options}) "
                          f"AS SELECT {columns}{', ' + label if label else ''} FROM j_train")
    return batch_session


def scored(session, model: str) -> dict[str, pd.DataFrame]:
    """The model's outputs on j_both through the UDF and on the JVM, in one job."""
    rows = session.sql(" UNION ALL ".join(
        f"SELECT '{path}' AS path, * FROM ML_PREDICT(TABLE j_both, MODEL {model}, "
        f"MAP['execution', '{path}'])" for path in ("udf", "jvm")))
    # Equal inputs score equally, so any order of ties compares equal.
    return {path: part.drop(columns="path").sort_values(
                INPUTS, na_position="first", kind="stable").reset_index(drop=True)
            for path, part in rows.groupby("path")}


@pytest.mark.parametrize("model", sorted(MODELS))
def test_jvm_equals_the_udf(session, model):
    paths = scored(session, model)
    udf, jvm = paths["udf"], paths["jvm"]
    assert list(jvm.columns) == list(udf.columns)
    assert len(jvm) == len(udf) == 1_205
    for column in udf.columns:
        left, right = udf[column].to_numpy(), jvm[column].to_numpy()
        if left.dtype.kind == "f":
            np.testing.assert_allclose(right, left, rtol=1e-9, atol=1e-9, err_msg=column)
        else:
            assert (pd.isna(left) == pd.isna(right)).all(), column
            known = ~pd.isna(left)
            assert (left[known] == right[known]).all(), column


def test_a_model_the_jvm_does_not_score_is_refused_before_any_job(session):
    session.sql("CREATE OR REPLACE MODEL j_knn WITH ('model_type' = 'knn_classifier', "
                "'label' = 'y') AS SELECT a, b, y FROM j_train")
    with pytest.raises(MlsqlError, match="cannot run on the JVM: the JVM scorer reads"):
        session.sql("SELECT * FROM ML_PREDICT(TABLE j_train, MODEL j_knn, "
                    "MAP['execution', 'jvm'])")


def test_without_a_jdk_auto_falls_back_with_one_notice(session, monkeypatch, tmp_path):
    """A machine with no javac (PATH and JAVA_HOME without one, no jar built yet): trees are
    scored by the UDF after a one-line notice; asked for, the JVM path says why not."""
    from mlsql.jvm import build

    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setattr(build, "jar_path", lambda: tmp_path / "never-built.jar")
    build.scorer_jar.cache_clear()
    notices: list[str] = []
    monkeypatch.setattr(session.context, "progress", notices.append)
    monkeypatch.setattr(session.context, "notices", set())
    session.sql("SET 'mlsql.predict.max-tree-nodes' = '100'")  # too large for compiled SQL
    try:
        for _ in range(2):
            plan = session.sql("EXPLAIN SELECT * FROM ML_PREDICT(TABLE j_train, "
                               "MODEL j_gbt)").iloc[0, 0]
            assert "PythonCalc" in plan and "__mlsql_jvm_scores" not in plan
        assert [n for n in notices if "javac" in n] == [
            "no JDK (javac) found on the PATH or in $JAVA_HOME, so mlsql's JVM scorers cannot "
            "be built; ML_PREDICT scores without them (compiled SQL or the Python UDF)"]
        with pytest.raises(MlsqlError, match="cannot run on the JVM: no JDK"):
            session.sql("SELECT * FROM ML_PREDICT(TABLE j_train, MODEL j_gbt, "
                        "MAP['execution', 'jvm'])")
    finally:
        session.sql("RESET 'mlsql.predict.max-tree-nodes'")
        build.scorer_jar.cache_clear()


def _split_thresholds(node: dict, found: dict[int, set[float]]) -> None:
    if "split_feature" in node:
        found.setdefault(node["split_feature"], set()).add(float(node["threshold"]))
        _split_thresholds(node["left_child"], found)
        _split_thresholds(node["right_child"], found)


@pytest.mark.parametrize("label", ["r", "k"])
def test_the_bit_vector_walk_is_lightgbm_itself_at_its_thresholds(session, tmp_path, label):
    """Rows whose values sit exactly on the model's split thresholds, or one double either
    side: the JVM's bit-vector traversal (numerical splits, no missing values) predicts what
    LightGBM's own predict does, bit for bit, for a regressor and a three-class classifier."""
    import lightgbm

    rng = np.random.default_rng(3)
    train = pd.DataFrame({"u": rng.normal(size=600), "v": rng.integers(0, 9, 600) * 1.0,
                          "w": rng.random(600)})
    train["r"] = 2 * train["u"] + train["v"] - train["w"]
    train["k"] = (train["v"].astype(int) + (train["u"] > 0)) % 3
    create_csv_table(session, f"q_train_{label}", train, tmp_path)
    kind = "boosted_tree_regressor" if label == "r" else "boosted_tree_classifier"
    session.sql(f"CREATE OR REPLACE MODEL q_{label} WITH ('model_type' = '{kind}', "
                f"'label' = '{label}', {TREES}) AS SELECT u, v, w, {label} FROM q_train_{label}")
    version = session.registry.resolve(f"q_{label}")
    booster = lightgbm.Booster(model_file=str(version.path / "model.txt"))
    thresholds: dict[int, set[float]] = {}
    for tree in booster.dump_model()["tree_info"]:
        _split_thresholds(tree["tree_structure"], thresholds)
    columns = []
    for feature in range(3):
        at = np.array(sorted(thresholds.get(feature, {0.0})))
        values = np.concatenate([at, np.nextafter(at, -np.inf), np.nextafter(at, np.inf)])
        columns.append(values)
    rows = max(len(c) for c in columns)
    x = np.column_stack([np.resize(rng.permutation(c), rows) for c in columns])
    test = pd.DataFrame(x, columns=["u", "v", "w"])
    test.insert(0, "id", np.arange(rows, dtype=np.int64))
    create_csv_table(session, f"q_test_{label}", test, tmp_path)
    outputs = [o["name"] for o in version.metadata["outputs"]]
    scored = session.sql(f"SELECT id, {', '.join(outputs)} FROM ML_PREDICT(TABLE "
                         f"q_test_{label}, MODEL q_{label}, MAP['execution', 'jvm'])")
    scored = scored.sort_values("id").reset_index(drop=True)
    expected = booster.predict(x)
    assert len(scored) == rows > 30
    if label == "r":
        assert (scored[outputs[0]].to_numpy() == expected).all()
    else:
        classes = json.loads((version.path / "predictor.json").read_text())["classes"]
        assert (scored[outputs[0]].to_numpy() == np.asarray(classes)[expected.argmax(1)]).all()
        np.testing.assert_allclose(scored[outputs[1]].to_numpy(), expected.max(1),
                                   rtol=1e-15, atol=0)

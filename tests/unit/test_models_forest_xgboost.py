"""random_forest_*, isolation_forest and xgboost_*: each fit through the registry, its scorer
(reloaded from the version directory, no pickle) against the library it wraps fitted directly
on the same rows; histories, feature importance, option errors."""

from __future__ import annotations

import json
import math
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn import datasets
from sklearn.ensemble._iforest import _average_path_length
from sklearn.model_selection import train_test_split

from mlsql.compiler.sql import NotCompilable
from mlsql.errors import OptionError
from mlsql.models import isolation_forest, model_type, random_forest
from mlsql.models import xgboost as xgboost_type
from mlsql.models.base import CompileRequest, FitRequest
from mlsql.models.history import History
from mlsql.training.model_options import parse_options
from udfs import features
from udfs.models import scorer
from udfs.models.tree_arrays import average_path_length

TOLERANCE = 1e-9


def _data(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    loader = {"breast_cancer": datasets.load_breast_cancer, "iris": datasets.load_iris,
              "wine": datasets.load_wine, "diabetes": datasets.load_diabetes}[name]
    x, y = loader(return_X_y=True)
    return train_test_split(x, y, test_size=0.25, random_state=0)


def _spec(x: np.ndarray, encoding: str) -> dict[str, Any]:
    frame = pd.DataFrame(x, columns=[f"c{i}" for i in range(x.shape[1])])
    return features.fit_spec(frame, {c: features.NUMERIC for c in frame}, encoding, False)


def _fit(type_name: str, x: np.ndarray, y: np.ndarray | None, directory: Path,
         spec: dict[str, Any] | None = None, evaluation: Any = None, **options: str):
    raw = {"model_type": type_name, **options}
    if y is not None:
        raw["label"] = "y"
    model, values = parse_options(raw)
    if spec is None:
        spec = _spec(x, model.categorical_encoding)
    history = History()
    steps: list[str] = []
    request = FitRequest(x=x, y=y, options=values, spec=spec, directory=directory,
                         progress=steps.append, history=history, evaluation=evaluation)
    fitted = model.fit(request)
    payload = {"task": model.task, **fitted}
    payload = json.loads(json.dumps(payload))  # predictor.json holds it as JSON
    return payload, scorer(payload, str(directory)), values, history, steps


def _assert_no_pickle(directory: Path) -> None:
    files = sorted(p.name for p in directory.iterdir())
    assert files
    for path in directory.iterdir():
        if path.suffix == ".npy":
            array = np.load(path, allow_pickle=False)
            assert array.dtype != object
        else:
            assert path.name == "model.json"
            json.loads(path.read_text())


# --- random forest ---------------------------------------------------------------------------

@pytest.mark.parametrize(("dataset", "options"), [
    ("iris", {}),
    ("breast_cancer", {"num_trees": "30", "max_depth": "5", "min_samples_leaf": "3"}),
    ("wine", {"num_trees": "25", "max_features": "0.5", "subsample": "0.7",
              "class_weight": "balanced"}),
])
def test_random_forest_classifier_equals_scikit_learn(tmp_path: Path, dataset: str,
                                                      options: dict[str, str]) -> None:
    x_train, x_test, y_train, y_test = _data(dataset)
    payload, model, values, history, steps = _fit(
        "random_forest_classifier", x_train, y_train, tmp_path,
        evaluation=(x_test, y_test), **options)
    reference = random_forest.estimator(values, "classification").fit(x_train, y_train)
    got = model.scores(x_test)
    assert got.shape == (len(x_test), len(payload["classes"]))
    np.testing.assert_allclose(got, reference.predict_proba(x_test), rtol=0, atol=TOLERANCE)
    np.testing.assert_allclose(got.sum(axis=1), 1.0, atol=TOLERANCE)
    assert payload["classes"] == sorted(set(y_train.tolist()))
    # Impurity importance by feature name, as scikit-learn's.
    assert list(payload["feature_importance"]) == [f"c{i}" for i in range(x_train.shape[1])]
    assert payload["feature_importance_type"] == "impurity"
    np.testing.assert_allclose(list(payload["feature_importance"].values()),
                               reference.feature_importances_, atol=TOLERANCE)
    # One history row per tree; the last is the whole forest's log-loss.
    trees = values["num_trees"]
    assert [r["iteration"] for r in history.rows] == list(range(1, trees + 1))
    proba = reference.predict_proba(x_test)[np.arange(len(y_test)), y_test]
    assert history.rows[-1]["eval_loss"] == pytest.approx(
        -np.mean(np.log(np.clip(proba, 1e-15, 1.0))), rel=1e-9)
    assert history.rows[0]["loss"] > history.rows[-1]["loss"]
    assert steps[-1] == f"forest: {trees}/{trees} trees"
    _assert_no_pickle(tmp_path)


def test_random_forest_regressor_equals_scikit_learn(tmp_path: Path) -> None:
    x_train, x_test, y_train, y_test = _data("diabetes")
    payload, model, values, history, _ = _fit(
        "random_forest_regressor", x_train, y_train, tmp_path, evaluation=(x_test, y_test),
        num_trees="40", min_samples_leaf="2")
    reference = random_forest.estimator(values, "regression").fit(x_train, y_train)
    got = model.scores(x_test)
    assert got.shape == (len(x_test),)
    np.testing.assert_allclose(got, reference.predict(x_test), rtol=0, atol=TOLERANCE)
    assert values["max_features"] == 1.0  # scikit-learn's regressor default: every column
    assert history.rows[-1]["eval_loss"] == pytest.approx(
        np.mean((reference.predict(x_test) - y_test) ** 2), rel=1e-9)
    assert "classes" not in payload
    _assert_no_pickle(tmp_path)


def test_random_forest_one_hot_categories_and_empty_batch(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"amount": rng.normal(size=400),
                          "kind": rng.choice(["a", "b", "c"], size=400)})
    y = np.where((frame["kind"] == "b") | (frame["amount"] > 1.0), "fraud", "ok")
    spec = features.fit_spec(frame, {"amount": features.NUMERIC,
                                     "kind": features.CATEGORICAL}, features.ONE_HOT, False)
    x = features.encode(spec, [frame["amount"], frame["kind"]])
    payload, model, values, _, _ = _fit("random_forest_classifier", x, y, tmp_path, spec=spec,
                                        num_trees="10")
    assert list(payload["feature_importance"]) == ["amount", "kind=a", "kind=b", "kind=c"]
    unseen = features.encode(spec, [pd.Series([0.0, 2.0]), pd.Series(["zzz", None])])
    reference = random_forest.estimator(values, "classification").fit(
        x, np.searchsorted(payload["classes"], y))
    np.testing.assert_allclose(model.scores(unseen), reference.predict_proba(unseen),
                               atol=TOLERANCE)
    assert model.scores(np.zeros((0, 4))).shape == (0, 2)


def test_both_tree_walks_reach_scikit_learns_leaves() -> None:
    from sklearn.ensemble import RandomForestRegressor

    from udfs.models.tree_arrays import from_sklearn

    rng = np.random.default_rng(5)
    x = rng.normal(size=(3000, 4))
    model = RandomForestRegressor(n_estimators=5, random_state=0).fit(x, rng.normal(size=3000))
    trees = [e.tree_ for e in model.estimators_]
    arrays = from_sklearn(trees, [t.value[:, 0, :] for t in trees])
    assert arrays.depth > 16  # fully grown on noise: walked tree by tree
    test = rng.normal(size=(500, 4))
    offsets = np.cumsum([0] + [t.node_count for t in trees[:-1]])
    expected = model.apply(test) + offsets
    np.testing.assert_array_equal(arrays.leaves(test), expected)
    np.testing.assert_array_equal(arrays._leaves_all_trees(test.astype(np.float32)), expected)


# --- isolation forest ------------------------------------------------------------------------

@pytest.mark.parametrize("options", [
    {},
    {"contamination": "0.1", "max_features": "0.5", "num_trees": "50"},
    {"max_samples": "64", "contamination": "0.05"},
    {"max_samples": "0.5"},
])
def test_isolation_forest_equals_scikit_learn(tmp_path: Path, options: dict[str, str]) -> None:
    x_train, x_test, _, _ = _data("breast_cancer")
    payload, model, values, history, _ = _fit("isolation_forest", x_train, None, tmp_path,
                                              **options)
    reference = isolation_forest.estimator(values).fit(x_train)
    got = model.scores(x_test)
    np.testing.assert_allclose(got, -reference.score_samples(x_test), rtol=0, atol=TOLERANCE)
    assert payload["threshold"] == pytest.approx(-reference.offset_, abs=TOLERANCE)
    # The flag (score >= threshold) is scikit-learn's outlier (predict == -1).
    np.testing.assert_array_equal(got >= payload["threshold"], reference.predict(x_test) == -1)
    assert len(history.rows) == 1 and history.rows[0]["iteration"] == values["num_trees"]
    assert "classes" not in payload
    _assert_no_pickle(tmp_path)


def test_isolation_forest_ranks_malignant_tumours_as_anomalies(tmp_path: Path) -> None:
    from sklearn.metrics import roc_auc_score

    x_train, x_test, _, y_test = _data("breast_cancer")
    _, model, _, _, _ = _fit("isolation_forest", x_train, None, tmp_path)
    assert roc_auc_score(y_test == 0, model.scores(x_test)) > 0.75  # 0: malignant


def test_average_path_length_is_scikit_learns() -> None:
    n = np.array([0, 1, 2, 3, 4, 10, 255, 256, 1e6])
    np.testing.assert_allclose(average_path_length(n), _average_path_length(n), rtol=1e-15)


def test_isolation_forest_with_fewer_rows_than_max_samples(tmp_path: Path) -> None:
    x = np.random.default_rng(1).normal(size=(40, 3))
    payload, model, values, _, _ = _fit("isolation_forest", x, None, tmp_path,
                                        max_samples="100")
    assert payload["max_samples"] == 40
    reference = isolation_forest.estimator({**values, "max_samples": 40}).fit(x)
    np.testing.assert_allclose(model.scores(x), -reference.score_samples(x), atol=TOLERANCE)


def test_isolation_forest_of_one_row_scores_as_scikit_learn(tmp_path: Path) -> None:
    x = np.array([[1.0, 2.0]])
    _, model, values, _, _ = _fit("isolation_forest", x, None, tmp_path)
    reference = isolation_forest.estimator({**values, "max_samples": 1}).fit(x)
    probe = np.array([[1.0, 2.0], [5.0, -3.0]])
    np.testing.assert_allclose(model.scores(probe), -reference.score_samples(probe))


# --- xgboost ---------------------------------------------------------------------------------

def _xgboost_direct(values: dict[str, Any], objective: dict[str, Any], x: np.ndarray,
                    y: np.ndarray) -> Any:
    import xgboost

    return xgboost.train({**xgboost_type.params(values), **objective},
                         xgboost.DMatrix(x, label=y), num_boost_round=values["num_trees"])


@pytest.mark.parametrize(("type_name", "dataset", "objective"), [
    ("xgboost_classifier", "breast_cancer", {"objective": "binary:logistic"}),
    ("xgboost_classifier", "iris", {"objective": "multi:softprob", "num_class": 3}),
    ("xgboost_regressor", "diabetes", {"objective": "reg:squarederror"}),
])
def test_xgboost_reloaded_equals_xgboost(tmp_path: Path, type_name: str, dataset: str,
                                         objective: dict[str, Any]) -> None:
    import xgboost

    x_train, x_test, y_train, y_test = _data(dataset)
    payload, model, values, history, steps = _fit(
        type_name, x_train, y_train, tmp_path, evaluation=(x_test, y_test), num_trees="30",
        max_depth="4", learning_rate="0.2", subsample="0.8", colsample_bytree="0.7")
    direct = _xgboost_direct(values, objective, x_train, y_train)
    want = np.asarray(direct.predict(xgboost.DMatrix(x_test)), dtype=np.float64)
    got = model.scores(x_test)
    if type_name == "xgboost_classifier":
        if want.ndim == 1:
            want = np.column_stack([1.0 - want, want])
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)  # XGBoost's float32 softmax
        want = want / want.sum(axis=1, keepdims=True)  # rows summing to 1 in float64
        np.testing.assert_allclose(got.sum(axis=1), 1.0, rtol=0, atol=1e-15)
    np.testing.assert_allclose(got, want, rtol=0, atol=TOLERANCE)
    # Every round's losses: log-loss, or squared error (XGBoost's rmse squared).
    assert [r["iteration"] for r in history.rows] == list(range(1, 31))
    assert all(r["eval_loss"] is not None for r in history.rows)
    if type_name == "xgboost_regressor":
        assert history.rows[-1]["eval_loss"] == pytest.approx(
            np.mean((want - y_test) ** 2), rel=1e-5)
    assert history.rows[-1]["loss"] < history.rows[0]["loss"]
    assert steps[-1] == "boosting: 30/30 trees"
    assert payload["feature_importance_type"] == "gain"
    gains = direct.get_score(importance_type="total_gain")
    assert payload["feature_importance"] == pytest.approx(
        {f"c{i}": gains.get(f"f{i}", 0.0) for i in range(x_train.shape[1])})
    _assert_no_pickle(tmp_path)
    assert json.loads((tmp_path / "model.json").read_text())["learner"]


def test_xgboost_categorical_codes_split_natively(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"amount": rng.normal(size=600),
                          "merchant": rng.choice(["a", "b", "c", "d"], size=600)})
    y = np.where(frame["merchant"].isin(["b", "d"]), 1, 0) ^ (frame["amount"] > 1.5)
    spec = features.fit_spec(frame, {"amount": features.NUMERIC,
                                     "merchant": features.CATEGORICAL}, features.ORDINAL,
                             False)
    x = features.encode(spec, [frame["amount"], frame["merchant"]])
    payload, model, _, _, _ = _fit("xgboost_classifier", x, y.astype(int), tmp_path,
                                   spec=spec, num_trees="20")
    assert model.types == ["q", "c"]
    accuracy = np.mean(model.scores(x).argmax(axis=1) == y)
    assert accuracy > 0.95
    # An unseen or NULL merchant is NaN: XGBoost's missing value, scored all the same.
    rows = features.encode(spec, [pd.Series([0.0, 0.0]), pd.Series(["zzz", None])])
    assert np.isnan(rows[:, 1]).all()
    scores = model.scores(rows)
    assert np.isfinite(scores).all() and scores[0, 1] == scores[1, 1]
    assert list(payload["feature_importance"]) == ["amount", "merchant"]


def test_xgboost_contributions_add_up_to_the_margin(tmp_path: Path) -> None:
    import xgboost

    x_train, x_test, y_train, _ = _data("breast_cancer")
    _, model, _, _, _ = _fit("xgboost_classifier", x_train, y_train, tmp_path,
                             num_trees="10")
    scores = model.scores(x_test)
    contributions, baseline = model.contributions(x_test, scores)
    margin = model.booster.predict(xgboost.DMatrix(x_test), output_margin=True)
    np.testing.assert_allclose(contributions.sum(axis=1) + baseline, margin, atol=1e-4)
    x_train, x_test, y_train, _ = _data("iris")
    (tmp_path / "iris").mkdir()
    _, model, _, _, _ = _fit("xgboost_classifier", x_train, y_train, tmp_path / "iris",
                             num_trees="5")
    contributions, baseline = model.contributions(x_test, model.scores(x_test))
    assert contributions.shape == x_test.shape and baseline.shape == (len(x_test),)


# --- compiled SQL (random forest, isolation forest) -----------------------------------------

def _mixed_rows(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Numbers (float32 values, so SQLite's REAL needs no FLOAT rounding; with NULLs) and
    strings (with NULL) that decide the class."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    frame = pd.DataFrame({
        "a": rng.normal(y * 1.5, 1.0).astype(np.float32).astype(np.float64),
        "b": rng.normal(size=n).astype(np.float32).astype(np.float64),
        "c": np.array(["p", "q", "r", "s"], dtype=object)[(y + rng.integers(0, 2, n)) % 4],
    })
    frame.loc[rng.random(n) < 0.1, "a"] = np.nan
    frame.loc[rng.random(n) < 0.1, "c"] = None
    return frame, y


def _sqlite(test: pd.DataFrame) -> sqlite3.Connection:
    connection = sqlite3.connect(":memory:")
    connection.create_function("POWER", 2, math.pow)
    connection.create_function("GREATEST", -1, max)
    connection.execute("CREATE TABLE t (a REAL, b REAL, c TEXT)")
    connection.executemany("INSERT INTO t VALUES (?, ?, ?)", [
        tuple(None if pd.isna(v) else v for v in row) for row in test.itertuples(index=False)])
    return connection


@pytest.mark.parametrize(("type_name", "options"), [
    ("random_forest_classifier", {"num_trees": "8", "max_depth": "4"}),
    ("random_forest_regressor", {"num_trees": "6", "max_depth": "5"}),
    ("isolation_forest", {"num_trees": "10", "max_samples": "32", "contamination": "0.1"}),
])
def test_compiled_sql_equals_the_scorer(tmp_path: Path, type_name: str,
                                        options: dict[str, str]) -> None:
    frame, y = _mixed_rows(400, seed=3)
    kinds = {"a": features.NUMERIC, "b": features.NUMERIC, "c": features.CATEGORICAL}
    spec = features.fit_spec(frame, kinds, features.ONE_HOT, False)
    x = features.encode(spec, [frame[c] for c in kinds])
    target = None if type_name == "isolation_forest" else (
        y.astype(np.float64) if type_name.endswith("regressor") else y)
    payload, fitted_scorer, _, _, _ = _fit(type_name, x, target, tmp_path, spec=spec,
                                           **options)
    payload["features"] = spec
    request = CompileRequest(payload=payload, directory=tmp_path,
                             inputs=["`a`", "`b`", "`c`"], label_type="BIGINT",
                             max_tree_nodes=2000)
    compiled = model_type(type_name).compile(request)
    outputs = compiled.substitute([f"({s})" for s in compiled.scores])

    test = _mixed_rows(80, seed=9)[0]
    test.loc[len(test)] = [np.nan, 0.25, "unseen"]
    rows = _sqlite(test).execute(f"SELECT {', '.join(outputs)} FROM t").fetchall()
    scores = fitted_scorer.scores(features.encode(spec, [test[c] for c in kinds]))
    if type_name == "random_forest_classifier":
        np.testing.assert_array_equal([r[0] for r in rows],
                                      np.asarray(payload["classes"])[scores.argmax(axis=1)])
        np.testing.assert_allclose([r[1] for r in rows], scores.max(axis=1), rtol=0,
                                   atol=TOLERANCE)
    elif type_name == "random_forest_regressor":
        np.testing.assert_allclose([r[0] for r in rows], scores, rtol=0, atol=TOLERANCE)
    else:
        np.testing.assert_allclose([r[0] for r in rows], scores, rtol=0, atol=TOLERANCE)
        np.testing.assert_array_equal([bool(r[1]) for r in rows],
                                      scores >= payload["threshold"])
    with pytest.raises(NotCompilable, match="exceed the compiled-SQL limit of 10 nodes"):
        model_type(type_name).compile(CompileRequest(
            payload=payload, directory=tmp_path, inputs=request.inputs,
            label_type="BIGINT", max_tree_nodes=10))


def test_xgboost_has_no_compiled_form() -> None:
    assert model_type("xgboost_classifier").compile is None


# --- options ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("options", "message"), [
    ({"model_type": "random_forest_classifier", "label": "y", "max_features": "half"},
     "option 'max_features' = 'half': must be 'sqrt', 'log2', 'all'"),
    ({"model_type": "random_forest_classifier", "label": "y", "max_features": "0"},
     "must be 'sqrt', 'log2', 'all'"),
    ({"model_type": "random_forest_regressor", "label": "y", "max_depth": "0"},
     "option 'max_depth' = '0': must be a positive depth, or -1"),
    ({"model_type": "random_forest_regressor", "label": "y", "subsample": "1.5"},
     "option 'subsample' = '1.5': must be above 0 and at most 1"),
    ({"model_type": "random_forest_regressor", "label": "y", "class_weight": "balanced"},
     "unknown option 'class_weight' for model_type random_forest_regressor"),
    ({"model_type": "isolation_forest", "contamination": "0.7"},
     "option 'contamination' = '0.7': must be 'auto'"),
    ({"model_type": "isolation_forest", "contamination": "lots"}, "must be 'auto'"),
    ({"model_type": "isolation_forest", "max_samples": "0"},
     "option 'max_samples' = '0': must be 'auto' (256 rows), a row count"),
    ({"model_type": "isolation_forest", "max_samples": "1.5"}, "must be 'auto' (256 rows)"),
    ({"model_type": "isolation_forest", "num_trees": "0"},
     "option 'num_trees' = '0': must be a positive integer"),
    ({"model_type": "xgboost_classifier", "label": "y", "colsample_bytree": "0"},
     "option 'colsample_bytree' = '0': must be above 0 and at most 1"),
    ({"model_type": "xgboost_regressor", "label": "y", "learning_rate": "-1"},
     "option 'learning_rate' = '-1': must not be negative"),
    ({"model_type": "xgboost_regressor", "label": "y", "num_leaves": "8"},
     "unknown option 'num_leaves' for model_type xgboost_regressor"),
])
def test_option_errors(options: dict[str, str], message: str) -> None:
    with pytest.raises(OptionError) as error:
        parse_options(options)
    assert message in str(error.value)


def test_option_values() -> None:
    _, values = parse_options({"model_type": "random_forest_classifier", "label": "y",
                               "max_features": "all", "max_depth": "-1"})
    assert values["max_features"] is None and values["max_depth"] is None
    assert parse_options({"model_type": "random_forest_classifier", "label": "y",
                          "max_features": "3"})[1]["max_features"] == 3
    assert parse_options({"model_type": "random_forest_classifier", "label": "y",
                          "max_features": "LOG2"})[1]["max_features"] == "log2"
    model, values = parse_options({"model_type": "isolation_forest"})
    assert model.task == "anomaly" and values["contamination"] == "auto"
    assert values["max_samples"] == "auto" and values["label"] is None
    assert parse_options({"model_type": "isolation_forest",
                          "max_samples": "512"})[1]["max_samples"] == 512
    with pytest.raises(OptionError):
        parse_options({"model_type": "isolation_forest", "label": "y"})  # unsupervised
    _, values = parse_options({"model_type": "xgboost_regressor", "label": "y"})
    assert (values["num_trees"], values["learning_rate"], values["max_depth"]) == (100, 0.3, 6)

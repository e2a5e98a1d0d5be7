"""linear_svc, naive_bayes, knn and mlp: each fit, and its numpy scorer against the
scikit-learn estimator it wraps fitted on the same rows; the compiled SQL of linear_svc and
naive_bayes against the scorer (evaluated by sqlite, with Flink's functions registered);
option errors."""

from __future__ import annotations

import json
import math
import re
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn import datasets
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from mlsql.errors import OptionError, TrainingError
from mlsql.models import model_type
from mlsql.models.base import CompileRequest, FitRequest
from mlsql.models.history import History
from mlsql.models.mlp import hidden_units
from mlsql.training.model_options import parse_options
from udfs import features
from udfs.models import scorer

pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning")  # the references stop at max_iter too


def _data(name: str):
    loader = {"breast_cancer": datasets.load_breast_cancer, "iris": datasets.load_iris,
              "wine": datasets.load_wine, "diabetes": datasets.load_diabetes}[name]
    x, y = loader(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, random_state=0)
    scaler = StandardScaler().fit(x_train)
    return scaler.transform(x_train), y_train, scaler.transform(x_test), y_test


def _fit(type_name: str, x, y, directory: Path, **options: str):
    model, values = parse_options({"model_type": type_name, "label": "y", **options})
    history = History()
    request = FitRequest(x=x, y=y, options=values, spec={}, directory=directory,
                         progress=lambda message: None, history=history)
    fitted = model.fit(request)
    payload = {"task": model.task, **fitted}
    json.loads(json.dumps(payload))  # predictor.json holds it as JSON, nothing else
    return payload, scorer(payload, str(directory)), values, history


# --- linear_svc --------------------------------------------------------------------------

@pytest.mark.parametrize("dataset", ["breast_cancer", "wine"])
def test_linear_svc_decisions_are_liblinears(tmp_path, dataset):
    from sklearn.svm import LinearSVC

    x, y, x_test, _ = _data(dataset)
    payload, svc, values, history = _fit("linear_svc", x, y, tmp_path, l2_reg="0.5")
    reference = LinearSVC(C=2.0, max_iter=values["max_iter"], random_state=values["seed"],
                          dual="auto").fit(x, y)
    np.testing.assert_allclose(svc.decision(x_test), reference.decision_function(x_test),
                               rtol=0, atol=1e-9)
    probabilities = svc.scores(x_test)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-12)
    assert (probabilities.argmax(axis=1) == reference.predict(x_test)).all()
    assert payload["probability_scale"] > 0
    assert len(history.rows) == 1 and history.rows[0]["iteration"] >= 1


def test_linear_svc_probability_rises_with_the_decision(tmp_path):
    x, y, x_test, _ = _data("breast_cancer")
    _, svc, _, _ = _fit("linear_svc", x, y, tmp_path)
    order = np.argsort(svc.decision(x_test))
    p = svc.scores(x_test)[order, 1]
    assert (np.diff(p) >= 0).all() and 0 < p[0] < 0.5 < p[-1] < 1
    # Platt scaling, not a hard 0/1: the probabilities are calibrated on the training rows.
    train_p = svc.scores(x)[:, 1]
    assert abs(train_p.mean() - y.mean()) < 0.05


# --- naive_bayes -------------------------------------------------------------------------

@pytest.mark.parametrize("dataset", ["breast_cancer", "iris"])
def test_naive_bayes_is_gaussian_nb(tmp_path, dataset):
    from sklearn.naive_bayes import GaussianNB

    x, y, x_test, _ = _data(dataset)
    _, nb, _, _ = _fit("naive_bayes", x, y, tmp_path, var_smoothing="1e-6")
    reference = GaussianNB(var_smoothing=1e-6).fit(x, y)
    np.testing.assert_allclose(nb.joint_log_likelihood(x_test),
                               reference.predict_joint_log_proba(x_test), rtol=1e-12)
    np.testing.assert_allclose(nb.scores(x_test), reference.predict_proba(x_test),
                               rtol=0, atol=1e-9)


def test_naive_bayes_without_smoothing_refuses_a_constant_feature(tmp_path):
    x = np.array([[0.0, 1.0], [0.0, 2.0], [1.0, 3.0], [1.0, 5.0]])
    with pytest.raises(TrainingError, match="var_smoothing"):
        _fit("naive_bayes", x, np.array([0, 0, 1, 1]), tmp_path, var_smoothing="0")


# --- knn ---------------------------------------------------------------------------------

@pytest.fixture(params=["tree", "brute"])
def knn_search(request, monkeypatch):
    """Both neighbour searches: a k-d tree (up to TREE_MAX_FEATURES) and brute force."""
    import udfs.models.knn as knn_module

    monkeypatch.setattr(knn_module, "TREE_MAX_FEATURES", 100 if request.param == "tree" else 0)
    return request.param


@pytest.mark.parametrize("weights", ["uniform", "distance"])
def test_knn_classifier_votes_as_scikit_learn(tmp_path, weights, knn_search):
    from sklearn.neighbors import KNeighborsClassifier

    x, y, x_test, _ = _data("wine")
    x_test = np.vstack([x_test, x[:3]])  # rows at distance 0 from a training row
    _, knn, _, _ = _fit("knn_classifier", x, y, tmp_path, num_neighbors="7", weights=weights)
    assert (knn.tree is not None) == (knn_search == "tree")
    reference = KNeighborsClassifier(n_neighbors=7, weights=weights, algorithm="brute")
    reference.fit(x, y)
    np.testing.assert_allclose(knn.scores(x_test), reference.predict_proba(x_test),
                               rtol=0, atol=1e-9)
    assert (knn.scores(x_test).argmax(axis=1) == reference.predict(x_test)).all()
    assert not any(p.suffix == ".pkl" for p in tmp_path.iterdir())


@pytest.mark.parametrize("weights", ["uniform", "distance"])
def test_knn_regressor_averages_as_scikit_learn(tmp_path, weights, knn_search):
    from sklearn.neighbors import KNeighborsRegressor

    x, y, x_test, _ = _data("diabetes")
    _, knn, _, _ = _fit("knn_regressor", x, y, tmp_path, weights=weights)
    reference = KNeighborsRegressor(n_neighbors=5, weights=weights).fit(x, y)
    # Distances may differ from scikit-learn's in the last bits (summed in another order), so
    # 1 / distance weights agree to about 1e-12 relative; the averages within 1e-9.
    np.testing.assert_allclose(knn.scores(x_test), reference.predict(x_test), rtol=0,
                               atol=1e-9)


def test_knn_scores_in_batches(tmp_path, monkeypatch):
    import udfs.models.knn as knn_module

    monkeypatch.setattr(knn_module, "TREE_MAX_FEATURES", 0)
    x, y, x_test, _ = _data("wine")
    _, knn, _, _ = _fit("knn_classifier", x, y, tmp_path, num_neighbors="3")
    whole = knn.scores(x_test)
    monkeypatch.setattr(knn_module, "_BATCH_CELLS", len(x) * 4)  # 4 rows per block
    np.testing.assert_array_equal(knn.scores(x_test), whole)


def test_knn_refuses_more_rows_than_max_rows(tmp_path):
    x, y, _, _ = _data("iris")
    with pytest.raises(TrainingError, match=r"112 training rows exceed max_rows=100; raise "
                                            "'max_rows'"):
        _fit("knn_classifier", x, y, tmp_path, max_rows="100")


def test_knn_with_fewer_rows_than_neighbours_lets_them_all_vote(tmp_path):
    # Flink ML's Knn; scikit-learn refuses, but with k = the rows it gives the same
    from sklearn.neighbors import KNeighborsRegressor

    x, y, x_test, _ = _data("iris")
    _, knn, _, _ = _fit("knn_regressor", x, y.astype(float), tmp_path, num_neighbors="200")
    every_row = KNeighborsRegressor(n_neighbors=len(x)).fit(x, y.astype(float))
    np.testing.assert_allclose(knn.scores(x_test),
                               every_row.predict(x_test), atol=1e-12)


# --- mlp ---------------------------------------------------------------------------------

@pytest.mark.parametrize("dataset, activation", [("breast_cancer", "relu"), ("iris", "tanh"),
                                                 ("wine", "logistic")])
def test_mlp_classifier_forward_pass_is_scikit_learns(tmp_path, dataset, activation):
    from sklearn.neural_network import MLPClassifier

    x, y, x_test, _ = _data(dataset)
    _, mlp, _, history = _fit("mlp_classifier", x, y, tmp_path, hidden_units="[16, 8]",
                              activation=activation, max_iter="60")
    reference = MLPClassifier(hidden_layer_sizes=(16, 8), activation=activation,
                              max_iter=60, random_state=42).fit(x, y)
    # The same products and sums as scikit-learn; exp/expit may differ in the last bit.
    np.testing.assert_allclose(mlp.scores(x_test), reference.predict_proba(x_test),
                               rtol=0, atol=1e-9)
    assert [row["iteration"] for row in history.rows] == list(range(1, 61))
    assert history.rows[-1]["loss"] == pytest.approx(reference.loss_curve_[-1])
    assert not list(tmp_path.glob("*.pkl"))


def test_mlp_regressor_learns_the_standardized_label(tmp_path):
    from sklearn.neural_network import MLPRegressor

    x, y, x_test, _ = _data("diabetes")
    payload, mlp, _, history = _fit("mlp_regressor", x, y, tmp_path, hidden_units="32",
                                    max_iter="100", learning_rate="0.01")
    reference = MLPRegressor(hidden_layer_sizes=(32,), learning_rate_init=0.01, max_iter=100,
                             random_state=42).fit(x, (y - y.mean()) / y.std())
    np.testing.assert_allclose(mlp.scores(x_test),
                               reference.predict(x_test) * y.std() + y.mean(), rtol=1e-12)
    # loss_curve_ is half the standardized squared error: the history is in the label's units
    assert history.rows[-1]["loss"] == pytest.approx(2 * reference.loss_curve_[-1] * y.var())
    assert payload["target_std"] == pytest.approx(y.std())


def test_mlp_lbfgs_records_one_row(tmp_path):
    x, y, _, _ = _data("iris")
    _, _, _, history = _fit("mlp_classifier", x, y, tmp_path, solver="lbfgs", max_iter="50")
    assert len(history.rows) == 1 and history.rows[0]["loss"] is None


@pytest.mark.parametrize("text, sizes", [("[32, 16]", [32, 16]), ("8", [8]),
                                         (" 4,2 ", [4, 2])])
def test_hidden_units_read_as_bigquery_writes_them(text, sizes):
    assert hidden_units(text) == sizes


# --- options -----------------------------------------------------------------------------

@pytest.mark.parametrize("type_name, option, text, message", [
    ("mlp_classifier", "hidden_units", "[32, 0]", "layer sizes, each from 1 to 4096"),
    ("mlp_classifier", "hidden_units", "[a]", "such as '[32, 16]'"),
    ("mlp_regressor", "activation", "softplus", "'relu', 'tanh', 'logistic', 'identity'"),
    ("mlp_regressor", "batch_size", "0", "'auto'"),
    ("knn_classifier", "weights", "gaussian", "'uniform', 'distance'"),
    ("knn_regressor", "num_neighbors", "0", "positive integer"),
    ("linear_svc", "l2_reg", "0", "must be positive"),
    ("linear_svc", "loss", "log", "'squared_hinge', 'hinge'"),
    ("naive_bayes", "var_smoothing", "-1", "must not be negative"),
])
def test_bad_options_name_the_option_and_what_it_accepts(type_name, option, text, message):
    with pytest.raises(OptionError, match=f"option '{option}' = '{re.escape(text)}'") as error:
        parse_options({"model_type": type_name, "label": "y", option: text})
    assert message in str(error.value)


def test_defaults():
    defaults = {name: {o.name: o.default for o in model_type(name).options}
                for name in ("linear_svc", "naive_bayes", "knn_classifier", "mlp_regressor")}
    assert defaults["linear_svc"]["l2_reg"] == 1.0
    assert defaults["naive_bayes"]["var_smoothing"] == 1e-9
    assert defaults["knn_classifier"]["num_neighbors"] == 5
    assert defaults["mlp_regressor"]["hidden_units"] == [100]
    assert model_type("knn_regressor").compile is None
    assert model_type("mlp_classifier").compile is None


# --- compiled SQL ------------------------------------------------------------------------

def _exp(z: float) -> float:
    """Java's Math.exp, as Flink's EXP: infinity where the double overflows."""
    try:
        return math.exp(z)
    except OverflowError:
        return math.inf


def _sqlite() -> sqlite3.Connection:
    connection = sqlite3.connect(":memory:")
    connection.create_function("EXP", 1, _exp)
    connection.create_function("POWER", 2, math.pow)
    connection.create_function("GREATEST", -1, max)
    connection.create_function("RAND", 0, lambda: 0.5)
    return connection


def _mixed_rows(n: int, classes: int, seed: int = 3) -> tuple[pd.DataFrame, np.ndarray]:
    """Numbers (one epoch-like, with NULLs) and strings (with NULL) whose classes differ."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n)
    frame = pd.DataFrame({
        "a": rng.normal(y * 1.5, 1.0),
        "ts": 1.7e12 + rng.normal(y * 3e5, 1e6),
        "c": np.array(["p", "q", "r", "s"], dtype=object)[(y + rng.integers(0, 2, n)) % 4],
    })
    frame.loc[rng.random(n) < 0.1, "a"] = np.nan
    frame.loc[rng.random(n) < 0.1, "c"] = None
    return frame, y


@pytest.mark.parametrize("type_name, classes", [("linear_svc", 2), ("linear_svc", 3),
                                                ("naive_bayes", 2), ("naive_bayes", 4)])
def test_compiled_sql_equals_the_scorer(tmp_path, type_name, classes):
    frame, y = _mixed_rows(300, classes)
    kinds = {"a": features.NUMERIC, "ts": features.NUMERIC, "c": features.CATEGORICAL}
    spec = features.fit_spec(frame, kinds, features.ONE_HOT, True)
    x = features.encode(spec, [frame[c] for c in kinds])
    payload, fitted_scorer, _, _ = _fit(type_name, x, y, tmp_path)
    payload["features"] = spec
    compiled = model_type(type_name).compile(CompileRequest(
        payload=payload, directory=tmp_path, inputs=["`a`", "`ts`", "`c`"], label_type="INT",
        max_tree_nodes=2000))
    label_sql, probability_sql = compiled.substitute(compiled.scores)

    test = _mixed_rows(50, classes, seed=9)[0]
    test.loc[len(test)] = [np.nan, np.nan, "unseen"]
    connection = _sqlite()
    connection.execute("CREATE TABLE t (a REAL, ts REAL, c TEXT)")
    connection.executemany("INSERT INTO t VALUES (?, ?, ?)", [
        tuple(None if pd.isna(v) else v for v in row) for row in test.itertuples(index=False)])
    rows = connection.execute(f"SELECT {label_sql}, {probability_sql} FROM t").fetchall()
    sql_labels = np.array([r[0] for r in rows])
    sql_probability = np.array([r[1] for r in rows])

    p = fitted_scorer.scores(features.encode(spec, [test[c] for c in kinds]))
    expected = p[:, 1] if classes == 2 else p.max(axis=1)
    np.testing.assert_allclose(sql_probability, expected, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(sql_labels, np.asarray(payload["classes"])[p.argmax(axis=1)])


# --- attributions ------------------------------------------------------------------------

@pytest.mark.parametrize("type_name, dataset", [("linear_svc", "breast_cancer"),
                                                ("linear_svc", "iris"),
                                                ("naive_bayes", "breast_cancer"),
                                                ("naive_bayes", "wine")])
def test_attributions_add_up_to_the_explained_score(tmp_path, type_name, dataset):
    x, y, x_test, _ = _data(dataset)
    _, fitted, _, _ = _fit(type_name, x, y, tmp_path)
    scores = fitted.scores(x_test)
    encoded, baseline = fitted.contributions(x_test, scores)
    raw = baseline + encoded.sum(axis=1)
    rows = np.arange(len(x_test))
    if type_name == "linear_svc":
        decision = fitted.decision(x_test)
        expected = fitted.scale * (decision if decision.ndim == 1 else
                                   decision[rows, scores.argmax(axis=1)])
        if decision.ndim == 1:  # the positive class's log-odds
            np.testing.assert_allclose(expected, np.log(scores[:, 1] / scores[:, 0]),
                                       rtol=1e-6, atol=1e-9)
    else:
        jll = fitted.joint_log_likelihood(x_test)
        expected = jll[:, 1] - jll[:, 0] if jll.shape[1] == 2 else \
            jll[rows, scores.argmax(axis=1)] - jll.mean(axis=1)
    np.testing.assert_allclose(raw, expected, rtol=1e-9, atol=1e-9)

"""CREATE MODEL and ML_PREDICT on real Flink jobs, checked against the libraries fitted
directly on the same split."""

from __future__ import annotations

import lightgbm
import numpy as np
import pandas as pd
import pytest
from sklearn import datasets, metrics
from sklearn.cluster import KMeans
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from tests.helpers import create_csv_table
from udfs.predictors import load_predictor
from udfs.split import eval_mask

pytestmark = pytest.mark.slow


def _dataset(loader, label: str) -> pd.DataFrame:
    frame = loader(as_frame=True).frame
    frame.columns = [c.replace(" ", "_").replace("(", "").replace(")", "") for c in frame.columns]
    return frame.rename(columns={"target": label})


def _split(frame: pd.DataFrame, label: str, fraction: float = 0.2, seed: int = 42):
    features = frame.drop(columns=[label]).astype(float)
    held_out = eval_mask(features, fraction, seed)
    return features, held_out


def _train_and_score(session, name, frame, label, options):
    """Train on the whole table (mlsql holds out its split) and score the held-out rows."""
    features, held_out = _split(frame, label)
    create_csv_table(session, f"{name}_all", frame, session.data_dir)
    create_csv_table(session, f"{name}_eval", frame[held_out], session.data_dir)
    summary = session.sql(f"CREATE OR REPLACE MODEL {name} WITH ({options}, 'label' = "
                          f"'{label}') AS SELECT * FROM {name}_all")
    scored = session.sql(f"SELECT * FROM ML_PREDICT(TABLE {name}_eval, MODEL {name})")
    return summary, scored, features, held_out


def test_logistic_regression_on_breast_cancer(batch_session):
    frame = _dataset(datasets.load_breast_cancer, "malignant")
    summary, scored, x, held_out = _train_and_score(
        batch_session, "bc_logistic", frame, "malignant", "'model_type' = 'logistic_reg'")
    y = frame["malignant"].to_numpy()
    direct = make_pipeline(StandardScaler(), LogisticRegression(max_iter=200))
    direct.fit(x[~held_out], y[~held_out])
    expected = metrics.accuracy_score(y[held_out], direct.predict(x[held_out]))

    ours = metrics.accuracy_score(scored["malignant"], scored["predicted_malignant"])
    assert abs(ours - expected) <= 0.02
    assert summary.loc[0, "accuracy"] == pytest.approx(ours, abs=1e-6)
    assert summary.loc[0, "train_rows"] == (~held_out).sum()
    assert len(scored) == held_out.sum()
    assert scored["predicted_malignant"].dtype == np.int64  # the label's type: BIGINT
    positive = direct.predict_proba(x[held_out])[:, 1]
    np.testing.assert_allclose(scored["probability"], positive, atol=1e-3)

    # The held-out table is the training's evaluation split: ML_EVALUATE reproduces it.
    evaluated = batch_session.sql("SELECT * FROM ML_EVALUATE(TABLE bc_logistic_eval, "
                                  "MODEL bc_logistic)")
    assert evaluated.loc[0, "rows"] == held_out.sum()
    for metric in ("accuracy", "precision", "recall", "f1_score", "log_loss", "roc_auc"):
        assert evaluated.loc[0, metric] == pytest.approx(summary.loc[0, metric], abs=1e-6)
    renamed = batch_session.sql(
        "CREATE TEMPORARY VIEW bc_relabelled AS SELECT *, malignant AS truth "
        "FROM bc_logistic_eval;\n"
        "SELECT accuracy FROM ML_EVALUATE(TABLE bc_relabelled, MODEL bc_logistic, "
        "DESCRIPTOR(truth)) WHERE accuracy > 0.5")
    assert renamed.loc[0, "accuracy"] == pytest.approx(ours, abs=1e-9)
    features = ", ".join(x.columns)
    by_position = batch_session.sql(
        "SELECT accuracy FROM ML_EVALUATE(TABLE bc_relabelled, MODEL bc_logistic, "
        f"DESCRIPTOR(truth), DESCRIPTOR({features}))")
    assert by_position.loc[0, "accuracy"] == pytest.approx(ours, abs=1e-9)


def test_boosted_trees_on_breast_cancer(batch_session):
    frame = _dataset(datasets.load_breast_cancer, "malignant")
    _, scored, x, held_out = _train_and_score(
        batch_session, "bc_trees", frame, "malignant",
        "'model_type' = 'boosted_tree_classifier', 'num_trees' = '50'")
    y = frame["malignant"].to_numpy()
    direct = lightgbm.LGBMClassifier(n_estimators=50, verbosity=-1, random_state=42)
    direct.fit(x[~held_out], y[~held_out])
    expected = metrics.accuracy_score(y[held_out], direct.predict(x[held_out]))
    ours = metrics.accuracy_score(scored["malignant"], scored["predicted_malignant"])
    assert abs(ours - expected) <= 0.02


@pytest.mark.parametrize("model_type, direct", [
    ("linear_reg", LinearRegression()),
    ("boosted_tree_regressor", lightgbm.LGBMRegressor(n_estimators=100, verbosity=-1)),
])
def test_regression_on_diabetes(batch_session, model_type, direct):
    frame = _dataset(datasets.load_diabetes, "progression")
    summary, scored, x, held_out = _train_and_score(
        batch_session, f"diabetes_{model_type}", frame, "progression",
        f"'model_type' = '{model_type}'")
    y = frame["progression"].to_numpy()
    direct.fit(x[~held_out], y[~held_out])
    expected = metrics.r2_score(y[held_out], direct.predict(x[held_out]))
    ours = metrics.r2_score(scored["progression"], scored["predicted_progression"])
    assert abs(ours - expected) <= 0.02
    assert summary.loc[0, "r2_score"] == pytest.approx(ours, abs=1e-6)
    evaluated = batch_session.sql(f"SELECT r2_score, `rows` FROM ML_EVALUATE("
                                  f"TABLE diabetes_{model_type}_eval, MODEL diabetes_{model_type})")
    assert evaluated.loc[0, "r2_score"] == pytest.approx(ours, abs=1e-9)
    assert scored["predicted_progression"].dtype == np.float64


def test_multiclass_with_a_string_label(batch_session):
    iris = datasets.load_iris(as_frame=True)
    frame = iris.frame.rename(columns=lambda c: c.replace(" (cm)", "").replace(" ", "_"))
    frame["species"] = iris.target_names[frame.pop("target")]
    _, scored, x, held_out = _train_and_score(
        batch_session, "iris_species", frame, "species", "'model_type' = 'logistic_reg'")
    assert set(scored["predicted_species"]) <= set(iris.target_names)
    direct = make_pipeline(StandardScaler(), LogisticRegression(max_iter=200))
    direct.fit(x[~held_out], frame["species"][~held_out])
    np.testing.assert_allclose(scored["probability"],
                               direct.predict_proba(x[held_out]).max(axis=1), atol=1e-3)
    assert (scored["probability"] >= 1 / 3).all()


def test_kmeans_clusters_like_scikit_learn(batch_session):
    frame = _dataset(datasets.load_iris, "drop").drop(columns="drop")
    frame.columns = [c.replace("_cm", "") for c in frame.columns]
    create_csv_table(batch_session, "iris_features", frame, batch_session.data_dir)
    summary = batch_session.sql("CREATE OR REPLACE MODEL iris_clusters WITH ("
                                "'model_type' = 'kmeans', 'num_clusters' = '3', "
                                "'eval_fraction' = '0') AS SELECT * FROM iris_features")
    scored = batch_session.sql("SELECT * FROM ML_PREDICT(TABLE iris_features, "
                               "MODEL iris_clusters)")
    scaled = StandardScaler().fit_transform(frame)
    direct = KMeans(n_clusters=3, random_state=42, n_init="auto").fit(scaled)
    assert summary.loc[0, "mean_squared_distance"] == pytest.approx(
        direct.inertia_ / len(frame), rel=0.05)
    assert sorted(scored["cluster_id"].unique()) == [0, 1, 2]
    np.testing.assert_allclose((scored["distance"] ** 2).mean(),
                               summary.loc[0, "mean_squared_distance"], rtol=1e-6)
    agreement = metrics.adjusted_rand_score(direct.labels_, scored["cluster_id"])
    assert agreement > 0.9


def test_strings_booleans_nulls_and_unseen_categories(batch_session, tmp_path):
    rng = np.random.default_rng(5)
    n = 2_000
    frame = pd.DataFrame({
        "amount": rng.exponential(50, n),
        "channel": rng.choice(["web", "store", "phone"], n),
        "night": rng.random(n) < 0.3,
    })
    frame["fraud"] = ((frame["amount"] > 80) & (frame["channel"] == "web")
                      | (frame["night"] & (frame["amount"] > 120))).astype(int)
    frame.loc[::17, "amount"] = np.nan
    frame.loc[::23, "channel"] = None
    create_csv_table(batch_session, "mixed_train", frame, tmp_path)
    for model_type in ("logistic_reg", "boosted_tree_classifier"):
        batch_session.sql(f"CREATE OR REPLACE MODEL mixed_{model_type} WITH ("
                          f"'model_type' = '{model_type}', 'label' = 'fraud') "
                          "AS SELECT * FROM mixed_train")
        fresh = pd.DataFrame({"amount": [None, 200.0, 5.0], "channel": ["web", "drone", None],
                              "night": [True, False, None]})
        create_csv_table(batch_session, f"mixed_new_{model_type}", fresh, tmp_path,
                         {"amount": "DOUBLE", "channel": "STRING", "night": "BOOLEAN"})
        scored = batch_session.sql(f"SELECT * FROM ML_PREDICT(TABLE mixed_new_{model_type}, "
                                   f"MODEL mixed_{model_type})")
        assert scored["predicted_fraud"].notna().all() and scored["probability"].notna().all()
        # Flink's answer is the predictor's answer on the same rows.
        version = batch_session.registry.resolve(f"mixed_{model_type}")
        direct = load_predictor(str(version.path)).predict([
            fresh["amount"].astype(float), fresh["channel"],
            fresh["night"].map({True: 1.0, False: 0.0})])
        np.testing.assert_allclose(scored["probability"], direct["probability"], rtol=1e-9)
    assert batch_session.sql("DESCRIBE MODEL mixed_logistic_reg").query(
        "section == 'input'")["name"].tolist() == ["amount", "channel", "night"]

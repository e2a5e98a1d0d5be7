"""The analysis functions on real Flink jobs (one session for the module): feature
importance, explanations in batch and streaming, ROC curve, confusion matrix, residual
summary and training info, checked against LightGBM, scikit-learn and ML_PREDICT."""

from __future__ import annotations

import json
import re

import lightgbm
import numpy as np
import pandas as pd
import pytest
from sklearn import metrics

from mlsql.core.progress import Step
from mlsql.errors import MlsqlError, ModelNotFoundError, SchemaError
from tests.helpers import create_csv_table
from udfs.predictors import load_predictor

pytestmark = pytest.mark.slow


def _binary(rows: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    frame = pd.DataFrame({"x1": rng.normal(size=rows), "x2": rng.normal(size=rows),
                          "kind": rng.choice(["a", "b", "c"], rows)})
    logit = 1.5 * frame["x1"] - frame["x2"] + (frame["kind"] == "b") * 1.0
    frame["y"] = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(int)
    return frame


def _species(rows: int = 240) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    species = rng.choice(["setosa", "versicolor", "virginica"], rows)
    centre = pd.Series(species).map({"setosa": 0.0, "versicolor": 1.5, "virginica": 3.0})
    return pd.DataFrame({"length": centre + rng.normal(size=rows),
                         "width": rng.normal(size=rows), "species": species})


def _regression(rows: int = 200) -> pd.DataFrame:
    rng = np.random.default_rng(5)
    frame = pd.DataFrame({"a": rng.normal(size=rows), "b": rng.normal(size=rows)})
    frame["target"] = 3 * frame["a"] - 2 * frame["b"] + rng.normal(size=rows)
    return frame


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    import mlsql

    root = tmp_path_factory.mktemp("analysis")
    steps: list[str] = []
    session = mlsql.Session(registry=root / "registry", mode="batch", progress=steps.append)
    session.steps = steps
    for name, frame in (("bin", _binary()), ("species", _species()), ("reg", _regression())):
        create_csv_table(session, name, frame, root)
    session.sql("""
        CREATE MODEL an_tree WITH ('model_type' = 'boosted_tree_classifier', 'label' = 'y',
          'num_trees' = '20', 'min_data_in_leaf' = '5') AS SELECT * FROM bin;
        CREATE MODEL an_logistic WITH ('model_type' = 'logistic_reg', 'label' = 'y')
          AS SELECT * FROM bin;
        CREATE MODEL an_species WITH ('model_type' = 'boosted_tree_classifier',
          'label' = 'species', 'num_trees' = '10', 'min_data_in_leaf' = '5')
          AS SELECT * FROM species;
        CREATE MODEL an_linear WITH ('model_type' = 'linear_reg', 'label' = 'target')
          AS SELECT * FROM reg;
        CREATE MODEL an_kmeans WITH ('model_type' = 'kmeans', 'num_clusters' = '2')
          AS SELECT a, b FROM reg;
    """)
    return session


def _predictor(session, name: str):
    return load_predictor(str(session.registry.resolve(name).path))


def test_training_emits_structured_steps(session):
    steps = [s for s in session.steps if isinstance(s, Step)]
    extracted = [s for s in steps if s.task == "extract" and s.finished]
    assert extracted and extracted[0].unit == "rows" and extracted[0].done == 300
    boosting = [s for s in steps if s.task == "boosting"]
    assert [s.done for s in boosting if s.total == 20] == [4, 8, 12, 16, 20]
    assert "boosting: 20/20 trees" in boosting and boosting[-1].finished


def test_feature_importance(session):
    trees = session.sql("SELECT * FROM ML_FEATURE_IMPORTANCE(MODEL an_tree)")
    assert list(trees.columns) == ["feature", "importance", "importance_type"]
    booster = _predictor(session, "an_tree").booster
    gains = dict(zip(["x1", "x2", "kind"], booster.feature_importance("gain"), strict=True))
    expected = sorted(gains.items(), key=lambda kv: -kv[1])
    assert list(trees["feature"]) == [name for name, _ in expected]
    np.testing.assert_allclose(trees["importance"], [g for _, g in expected], rtol=1e-9)
    assert set(trees["importance_type"]) == {"gain"}

    linear = session.sql("SELECT * FROM ML_FEATURE_IMPORTANCE(MODEL `an_logistic$1`)")
    coef = np.abs(np.asarray(_predictor(session, "an_logistic").payload["coef"][0]))
    assert list(linear["importance"]) == pytest.approx(sorted(coef, reverse=True), abs=1e-12)
    assert linear.loc[0, "feature"] == "x1"  # the strongest effect in the data
    assert "kind=b" in set(linear["feature"])
    assert set(linear["importance_type"]) == {"standardized_coefficient"}

    with pytest.raises(MlsqlError, match=r"an_kmeans' \(kmeans\) has no feature importance"):
        session.sql("SELECT * FROM ML_FEATURE_IMPORTANCE(MODEL an_kmeans)")


def _check_sums(explained: pd.DataFrame, k: int) -> None:
    """baseline + attributions + other = raw score; the top k by magnitude, largest first
    (NULL past the model's column count)."""
    ranked = explained[[f"attribution_{i}" for i in range(1, k + 1)]].to_numpy()
    total = explained["baseline"] + explained["other_attribution"] + np.nansum(ranked, axis=1)
    np.testing.assert_allclose(total, explained["raw_score"], atol=1e-9)
    shown = ~np.isnan(ranked).all(axis=0)
    assert (np.diff(np.abs(ranked[:, shown]), axis=1) <= 1e-12).all()


@pytest.mark.parametrize("model", ["an_tree", "an_logistic"])
def test_explain_predict_adds_up_to_the_raw_score(session, model):
    explained = session.sql(f"SELECT * FROM ML_EXPLAIN_PREDICT(TABLE bin, MODEL {model}, 2) "
                            "ORDER BY x1")
    assert list(explained.columns) == [
        "x1", "x2", "kind", "y", "predicted_y", "probability", "baseline", "raw_score",
        "feature_1", "attribution_1", "feature_2", "attribution_2", "other_attribution"]
    _check_sums(explained, 2)
    predicted = session.sql(f"SELECT * FROM ML_PREDICT(TABLE bin, MODEL {model}, "
                            "MAP['execution', 'udf']) ORDER BY x1")
    np.testing.assert_allclose(explained["probability"], predicted["probability"], atol=1e-12)
    # the positive class's log-odds
    p = explained["probability"]
    np.testing.assert_allclose(explained["raw_score"], np.log(p / (1 - p)), atol=1e-6)
    assert set(explained["feature_1"]) <= {"x1", "x2", "kind"}


def test_explain_predict_multiclass_explains_the_predicted_class(session):
    explained = session.sql("SELECT * FROM ML_EXPLAIN_PREDICT(TABLE species, MODEL an_species, "
                            "DESCRIPTOR(length, width)) ORDER BY length")
    _check_sums(explained, 3)
    assert explained["feature_3"].isna().all() and explained["attribution_3"].isna().all()
    predictor = _predictor(session, "an_species")
    frame = _species().sort_values("length")
    raw = predictor.booster.predict(predictor.encode([frame["length"], frame["width"]]),
                                    raw_score=True)
    np.testing.assert_allclose(explained["raw_score"], raw.max(axis=1), atol=1e-9)
    assert (explained["predicted_species"].to_numpy()
            == np.asarray(predictor.classes)[raw.argmax(axis=1)]).all()


def test_explain_predict_in_a_streaming_job(session):
    batch = session.sql("SELECT x1, raw_score, feature_1, attribution_1 FROM "
                        "ML_EXPLAIN_PREDICT(TABLE bin, MODEL an_tree)")
    try:
        streamed = session.sql("SET 'execution.runtime-mode' = 'streaming';\n"
                               "SELECT x1, raw_score, feature_1, attribution_1 FROM "
                               "ML_EXPLAIN_PREDICT(TABLE bin, MODEL an_tree)")
        with pytest.raises(SchemaError, match=r"ML_ROC_CURVE at line 2, column 34: "
                                              r"endless is unbounded"):
            session.sql("CREATE TEMPORARY TABLE endless (x1 DOUBLE, x2 DOUBLE, kind STRING, "
                        "y INT) WITH ('connector' = 'datagen');\n"
                        "SELECT * FROM ML_ROC_CURVE(TABLE endless, MODEL an_tree)")
    finally:
        session.sql("SET 'execution.runtime-mode' = 'batch'")
    pd.testing.assert_frame_equal(streamed.sort_values("x1").reset_index(drop=True),
                                  batch.sort_values("x1").reset_index(drop=True))


# The logistic model scores all 300 rows apart: a curve longer than a VALUES list may be
# (mlsql.planner.values.MAX_VALUES_ROWS), handed to Flink as data.
@pytest.mark.parametrize("model", ["an_tree", "an_logistic"])
def test_roc_curve_matches_scikit_learn(session, model):
    curve = session.sql(f"SELECT * FROM ML_ROC_CURVE(TABLE bin, MODEL {model})")
    assert list(curve.columns) == ["threshold", "recall", "false_positive_rate",
                                   "true_positives", "false_positives", "true_negatives",
                                   "false_negatives"]
    assert curve["true_positives"].dtype == np.int64
    scored = session.sql(f"SELECT y, probability FROM ML_PREDICT(TABLE bin, MODEL {model}, "
                         "MAP['execution', 'udf'])")
    auc = np.trapezoid(curve["recall"], curve["false_positive_rate"])
    assert auc == pytest.approx(metrics.roc_auc_score(scored["y"], scored["probability"]),
                                abs=1e-6)
    fpr, tpr, thresholds = metrics.roc_curve(scored["y"], scored["probability"],
                                             drop_intermediate=False)
    np.testing.assert_allclose(curve["threshold"], thresholds, rtol=1e-12)
    np.testing.assert_allclose(curve["recall"], tpr, rtol=1e-12)
    np.testing.assert_allclose(curve["false_positive_rate"], fpr, rtol=1e-12)
    assert ((curve["true_positives"] + curve["false_negatives"]) == scored["y"].sum()).all()
    # A long curve's temporary view is gone once its statement has run.
    assert not [v for v in session.table_env.list_temporary_views() if v.startswith("__mlsql")]
    with pytest.raises(SchemaError, match="3 classes; ML_ROC_CURVE is for binary"):
        session.sql("SELECT * FROM ML_ROC_CURVE(TABLE species, MODEL an_species)")


def test_confusion_matrix_binary_and_multiclass(session):
    binary = session.sql("SELECT * FROM ML_CONFUSION_MATRIX(TABLE bin, MODEL an_logistic, "
                         "DESCRIPTOR(y))")
    scored = session.sql("SELECT y, predicted_y FROM ML_PREDICT(TABLE bin, MODEL an_logistic)")
    assert list(binary.columns) == ["expected_label", "0", "1"]
    assert list(binary["expected_label"]) == ["0", "1"]
    np.testing.assert_array_equal(binary[["0", "1"]].to_numpy(), metrics.confusion_matrix(
        scored["y"], scored["predicted_y"]))

    multi = session.sql("SELECT expected_label, `setosa`, `virginica` FROM "
                        "ML_CONFUSION_MATRIX(TABLE species, MODEL an_species)")
    scored = session.sql("SELECT species, predicted_species FROM "
                         "ML_PREDICT(TABLE species, MODEL an_species, MAP['execution', 'udf'])")
    classes = ["setosa", "versicolor", "virginica"]
    expected = metrics.confusion_matrix(scored["species"], scored["predicted_species"],
                                        labels=classes)
    assert list(multi["expected_label"]) == classes
    np.testing.assert_array_equal(multi[["setosa", "virginica"]].to_numpy(), expected[:, [0, 2]])
    with pytest.raises(SchemaError, match=r"a regressor; .* use ML_RESIDUAL_SUMMARY"):
        session.sql("SELECT * FROM ML_CONFUSION_MATRIX(TABLE reg, MODEL an_linear)")


def test_residual_summary(session):
    summary = session.sql("SELECT * FROM ML_RESIDUAL_SUMMARY(TABLE reg, MODEL an_linear)")
    assert list(summary.columns) == [
        "count", "mean_residual", "std_residual", "mean_absolute_error",
        "root_mean_squared_error", "min_residual", "p05", "p25", "median", "p75", "p95",
        "max_residual"]
    scored = session.sql("SELECT target, predicted_target FROM "
                         "ML_PREDICT(TABLE reg, MODEL an_linear)")
    residual = scored["target"] - scored["predicted_target"]
    row = summary.iloc[0]
    assert row["count"] == 200
    assert row["median"] == pytest.approx(residual.median(), abs=1e-9)
    assert row["p95"] == pytest.approx(np.percentile(residual, 95), abs=1e-9)
    assert row["root_mean_squared_error"] == pytest.approx(np.sqrt((residual**2).mean()),
                                                           abs=1e-9)
    with pytest.raises(SchemaError, match="is for regressors; use ML_CONFUSION_MATRIX"):
        session.sql("SELECT * FROM ML_RESIDUAL_SUMMARY(TABLE bin, MODEL an_tree)")


def test_training_info(session):
    trees = session.sql("SELECT * FROM ML_TRAINING_INFO(MODEL an_tree)")
    assert list(trees.columns) == ["version", "iteration", "loss", "eval_loss", "duration_ms",
                                   "training_seconds", "options"]
    assert list(trees["iteration"]) == list(range(1, 21))
    assert trees["loss"].iloc[-1] < trees["loss"].iloc[0]
    summary = session.registry.resolve("an_tree").metadata["metrics"]
    assert trees["eval_loss"].iloc[-1] == pytest.approx(summary["log_loss"], abs=1e-6)
    assert json.loads(trees.loc[0, "options"])["num_trees"] == 20
    assert (trees["training_seconds"] > 0).all() and (trees["duration_ms"] >= 0).all()

    session.sql("CREATE OR REPLACE MODEL an_logistic WITH ('model_type' = 'logistic_reg', "
                "'label' = 'y', 'eval_fraction' = '0') AS SELECT * FROM bin")
    info = session.sql("SELECT * FROM ML_TRAINING_INFO(MODEL an_logistic)")
    assert list(info["version"]) == [1, 2] and (info["iteration"] >= 1).all()
    first = session.registry.resolve("an_logistic", 1).metadata["metrics"]
    assert info.loc[0, "eval_loss"] == pytest.approx(first["log_loss"], abs=1e-9)
    assert info.loc[0, "loss"] > 0 and pd.isna(info.loc[1, "eval_loss"])
    pinned = session.sql("SELECT version FROM ML_TRAINING_INFO(MODEL `an_logistic$1`)")
    assert list(pinned["version"]) == [1]


def test_training_info_of_a_version_without_history(session):
    """As published before mlsql kept histories (and before files.json existed)."""
    path = session.registry.resolve("an_kmeans").path / "metadata.json"
    metadata = json.loads(path.read_text())
    del metadata["training"]
    path.write_text(json.dumps(metadata))
    (path.parent / "files.json").unlink()
    info = session.sql("SELECT * FROM ML_TRAINING_INFO(MODEL an_kmeans)")
    assert len(info) == 1 and pd.isna(info.loc[0, "loss"])


def test_distributed_training_records_newton_steps(session):
    session.sql("CREATE MODEL an_distributed WITH ('model_type' = 'logistic_reg', "
                "'label' = 'y', 'training_mode' = 'distributed', 'max_iter' = '3') "
                "AS SELECT * FROM bin")
    info = session.sql("SELECT iteration, loss FROM ML_TRAINING_INFO(MODEL an_distributed)")
    # Iteration k: the loss after k Newton moves; 0 is the all-zero start, log 2 per row.
    assert list(info["iteration"]) == [0, 1, 2]
    assert info["loss"].iloc[0] == pytest.approx(np.log(2), abs=1e-9)
    assert (np.diff(info["loss"]) <= 1e-12).all()  # Newton steps never raise the loss
    published = session.registry.resolve("an_distributed").metadata["metrics"]["log_loss"]
    assert published <= info["loss"].iloc[-1] + 1e-12  # the third move's model, one step on
    newton = [s for s in session.steps if isinstance(s, Step) and s.task == "newton"]
    assert [s.done for s in newton] == [1, 2, 3]


def test_errors_name_the_position_before_any_job(session):
    before = len(session.steps)
    with pytest.raises(ModelNotFoundError, match="line 2, column 42"):
        session.sql("SELECT *\nFROM ML_EXPLAIN_PREDICT(TABLE bin, MODEL an_tre)")
    with pytest.raises(SchemaError, match=r"column 'x1' not found in species"):
        session.sql("SELECT * FROM ML_EXPLAIN_PREDICT(TABLE species, MODEL an_tree)")
    with pytest.raises(SchemaError, match=r"ML_EXPLAIN_PREDICT at line 1, column 15: .*"
                                          r"kmeans model"):
        session.sql("SELECT * FROM ML_EXPLAIN_PREDICT(TABLE reg, MODEL an_kmeans)")
    with pytest.raises(SchemaError, match="no label; ML_CONFUSION_MATRIX is for classifiers"):
        session.sql("SELECT * FROM ML_CONFUSION_MATRIX(TABLE reg, MODEL an_kmeans)")
    assert session.steps[before:] == []  # nothing was extracted


def test_imported_models_are_refused(session, tmp_path):
    booster = lightgbm.Booster(model_file=str(session.registry.resolve("an_tree").path
                                              / "model.txt"))
    path = tmp_path / "gbm.txt"
    booster.save_model(str(path))
    session.sql(f"CREATE MODEL an_imported INPUT (x1 DOUBLE, x2 DOUBLE, kind DOUBLE) "
                f"OUTPUT (score DOUBLE) WITH ('provider' = 'lightgbm', 'path' = '{path}')")
    with pytest.raises(MlsqlError, match=r"an_imported' \(import:lightgbm\) has no feature"):
        session.sql("SELECT * FROM ML_FEATURE_IMPORTANCE(MODEL an_imported)")
    with pytest.raises(SchemaError, match="an imported"):
        session.sql("SELECT * FROM ML_EXPLAIN_PREDICT(TABLE bin, MODEL an_imported)")


def test_compile_refuses_explanations_it_cannot_write(session, tmp_path):
    from mlsql.export import compile_job

    with pytest.raises(MlsqlError, match="cannot write ML_EXPLAIN_PREDICT"):
        compile_job(session, "SELECT * FROM ML_EXPLAIN_PREDICT(TABLE bin, MODEL an_tree);",
                    tmp_path / "job")
    assert not (tmp_path / "job").exists()
    with pytest.raises(MlsqlError, match="cannot write a plan-time table of more than 200"):
        compile_job(session, "SELECT * FROM ML_ROC_CURVE(TABLE bin, MODEL an_logistic);",
                    tmp_path / "roc")
    session.context.drop_plan_views()


def test_feature_tests_equal_scikit_learn_and_scipy(session):
    """ML_F_VALUE_TEST and ML_ANOVA_TEST against scikit-learn's f_regression and f_classif,
    ML_CHI_SQUARE_TEST against scipy's chi2_contingency (all three in one statement)."""
    from scipy.stats import chi2_contingency
    from sklearn.feature_selection import f_classif, f_regression

    frame = session.sql("""
        SELECT 'f' AS test, * FROM ML_F_VALUE_TEST(TABLE reg, DESCRIPTOR(target),
                                                   DESCRIPTOR(a, b))
        UNION ALL SELECT 'anova', * FROM ML_ANOVA_TEST(TABLE species, DESCRIPTOR(species),
                                                       DESCRIPTOR(length, width))
        UNION ALL SELECT 'chi', * FROM ML_CHI_SQUARE_TEST(TABLE bin, DESCRIPTOR(y),
                                                          DESCRIPTOR(kind))""")
    by_test = {test: part.sort_values("feature_index") for test, part in frame.groupby("test")}
    regression, species, binary = _regression(), _species(), _binary()
    f, p = f_regression(regression[["a", "b"]], regression["target"])
    np.testing.assert_allclose(by_test["f"]["statistic"], f, rtol=1e-9)
    np.testing.assert_allclose(by_test["f"]["p_value"], p, rtol=1e-6, atol=1e-300)
    assert by_test["f"]["degrees_of_freedom"].tolist() == [198, 198]
    f, p = f_classif(species[["length", "width"]], species["species"])
    np.testing.assert_allclose(by_test["anova"]["statistic"], f, rtol=1e-9)
    np.testing.assert_allclose(by_test["anova"]["p_value"], p, rtol=1e-6, atol=1e-300)
    assert by_test["anova"]["feature"].tolist() == ["length", "width"]
    statistic, p, dof, _ = chi2_contingency(pd.crosstab(binary["kind"], binary["y"]),
                                            correction=False)
    chi = by_test["chi"].iloc[0]
    assert (chi["statistic"], chi["p_value"], chi["degrees_of_freedom"]) == pytest.approx(
        (statistic, p, dof), rel=1e-9)


def test_feature_tests_report_columns_before_a_job(session):
    with pytest.raises(SchemaError, match=re.escape(
            "ML_ANOVA_TEST at line 1, column 76: column 'lenght' is not in species (did you "
            "mean 'length'?)")):
        session.sql("SELECT * FROM ML_ANOVA_TEST(TABLE species, DESCRIPTOR(species), "
                    "DESCRIPTOR(lenght))")
    with pytest.raises(SchemaError, match="ML_F_VALUE_TEST needs a numeric 'species'"):
        session.sql("SELECT * FROM ML_F_VALUE_TEST(TABLE species, DESCRIPTOR(species), "
                    "DESCRIPTOR(length))")
    with pytest.raises(MlsqlError, match="first DESCRIPTOR names the one label column"):
        session.sql("SELECT * FROM ML_CHI_SQUARE_TEST(TABLE bin, DESCRIPTOR(y, kind), "
                    "DESCRIPTOR(kind))")


def test_evaluate_binary_on_ml_predict_output_matches_scikit_learn(session):
    """ML_EVALUATE_BINARY over a model's scored rows: the ROC area is scikit-learn's
    roc_auc_score, ks the largest |tpr - fpr| of its roc_curve."""
    session.sql("CREATE TEMPORARY VIEW bin_scored AS SELECT y, probability FROM "
                "ML_PREDICT(TABLE bin, MODEL an_logistic, MAP['execution', 'udf'])")
    scored = session.sql("SELECT y, probability FROM bin_scored")
    got = session.sql("SELECT * FROM ML_EVALUATE_BINARY(TABLE bin_scored, DESCRIPTOR(y), "
                      "DESCRIPTOR(probability))").iloc[0]
    assert got["area_under_roc"] == pytest.approx(
        metrics.roc_auc_score(scored["y"], scored["probability"]), abs=1e-9)
    fpr, tpr, _ = metrics.roc_curve(scored["y"], scored["probability"])
    assert got["ks"] == pytest.approx(np.abs(tpr - fpr).max(), abs=1e-9)
    assert 0.0 < got["area_under_pr"] <= 1.0 and 0.0 < got["area_under_lorenz"] <= 1.0
    with pytest.raises(SchemaError, match="needs a numeric 'kind'"):
        session.sql("SELECT * FROM ML_EVALUATE_BINARY(TABLE bin, DESCRIPTOR(y), "
                    "DESCRIPTOR(kind))")

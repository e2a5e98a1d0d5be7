"""The math of the analysis functions, against LightGBM's and scikit-learn's own answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics

from mlsql.models.history import History
from mlsql.models.registry import ModelVersion
from mlsql.planner.model_info import feature_importance, training_info
from mlsql.planner.values import values_subquery
from mlsql.training import algorithms
from udfs import diagnostics, features
from udfs.explain import attributions, explain
from udfs.predictors import Predictor

TREE_OPTIONS = {"learning_rate": 0.1, "num_leaves": 15, "max_depth": -1, "min_data_in_leaf": 5,
                "seed": 42, "num_trees": 30}


def _frame(rows: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"a": rng.normal(size=rows), "b": rng.normal(size=rows) * 10,
                          "kind": rng.choice(["x", "y", "z", None], rows)})
    frame.loc[rng.random(rows) < 0.1, "a"] = np.nan
    score = np.nan_to_num(frame["a"]) * 2 - frame["b"] / 10 + (frame["kind"] == "y")
    frame["label"] = (score + rng.normal(size=rows) > 0).astype(int)
    frame["three"] = np.digitize(score, [-1, 1])
    frame["target"] = score * 3 + rng.normal(size=rows)
    return frame


KINDS = {"a": features.NUMERIC, "b": features.NUMERIC, "kind": features.CATEGORICAL}


def _fitted(model_type: str, label: str, tmp_path, **options) -> tuple[Predictor, np.ndarray]:
    frame = _frame()
    encoding, standardize = algorithms.encoding_for(model_type)
    spec = features.fit_spec(frame, KINDS, encoding, standardize)
    x = features.encode(spec, [frame[c] for c in KINDS])
    y = frame[label].to_numpy()
    all_options = {"model_type": model_type, "l2_reg": 1.0, "max_iter": 200,
                   "class_weight": None, "num_clusters": 3, **TREE_OPTIONS, **options}
    history = History()
    fitted = algorithms.fit(model_type, x, y, all_options, spec, tmp_path, lambda _: None,
                            history, (x[:50], y[:50]))
    task = "regression" if model_type.endswith("regressor") or model_type == "linear_reg" \
        else "classification"
    outputs = ([{"name": f"predicted_{label}", "type": "DOUBLE"}] if task == "regression" else
               [{"name": f"predicted_{label}", "type": "BIGINT"},
                {"name": "probability", "type": "DOUBLE"}])
    payload = {"format": 1, "task": task, "features": spec, "outputs": outputs, **fitted}
    predictor = Predictor(payload, str(tmp_path))
    predictor.history = history
    return predictor, x


@pytest.mark.parametrize("model_type, label", [
    ("boosted_tree_classifier", "label"), ("boosted_tree_classifier", "three"),
    ("boosted_tree_regressor", "target")])
def test_tree_shap_values_add_up_to_lightgbm_raw_score(tmp_path, model_type, label):
    predictor, x = _fitted(model_type, label, tmp_path)
    explained = attributions(predictor, x)
    raw = np.asarray(predictor.booster.predict(x, raw_score=True))
    expected = raw if raw.ndim == 1 else raw[np.arange(len(x)), raw.argmax(axis=1)]
    np.testing.assert_allclose(explained.raw_score, expected, atol=1e-9, rtol=0)
    np.testing.assert_allclose(explained.baseline + explained.values.sum(axis=1), expected,
                               atol=1e-9, rtol=0)
    assert explained.values.shape == (len(x), 3)


@pytest.mark.parametrize("model_type, label", [
    ("logistic_reg", "label"), ("logistic_reg", "three"), ("linear_reg", "target")])
def test_linear_attributions_are_coefficient_times_standardized_value(tmp_path, model_type,
                                                                      label):
    predictor, x = _fitted(model_type, label, tmp_path)
    explained = attributions(predictor, x)
    coef = np.asarray(predictor.payload["coef"])
    intercept = np.asarray(predictor.payload["intercept"])
    z = x @ coef.T + intercept
    chosen = np.zeros(len(x), dtype=int) if z.shape[1] == 1 else z.argmax(axis=1)
    np.testing.assert_allclose(explained.raw_score, z[np.arange(len(x)), chosen], atol=1e-9)
    np.testing.assert_allclose(explained.baseline, intercept[chosen])
    # a standardized numeric column: coefficient x (value - mean) / std
    a = predictor.spec["columns"][0]
    value = np.where(np.isnan(_frame()["a"]), a["mean"], _frame()["a"])
    np.testing.assert_allclose(explained.values[:, 0],
                               coef[chosen, 0] * (value - a["mean"]) / a["std"], atol=1e-12)
    if model_type == "logistic_reg" and label == "label":
        p = predictor.scores(x)[:, 1]
        np.testing.assert_allclose(explained.raw_score, np.log(p / (1 - p)), atol=1e-9)


def test_explain_orders_the_top_k_and_sums_the_rest(tmp_path):
    predictor, _ = _fitted("logistic_reg", "label", tmp_path)
    frame = _frame()
    for k in (1, 2, 5):
        out = explain(predictor, [frame[c] for c in KINDS], k)
        assert list(out.columns[:2]) == ["predicted_label", "probability"]
        ranked = out[[f"attribution_{i}" for i in range(1, k + 1)]].to_numpy()
        total = out["baseline"] + np.nansum(ranked, axis=1) + out["other_attribution"]
        np.testing.assert_allclose(total, out["raw_score"], atol=1e-9)
        shown = min(k, 3)
        assert (np.diff(np.abs(ranked[:, :shown]), axis=1) <= 0).all()
        assert np.isnan(ranked[:, shown:]).all() and out[f"feature_{k}"].isna().all() == (k > 3)
    pd.testing.assert_frame_equal(out[["predicted_label", "probability"]],
                                  predictor.predict([frame[c] for c in KINDS]))


def test_feature_importance_order(tmp_path):
    trees, _ = _fitted("boosted_tree_classifier", "label", tmp_path)
    rows = feature_importance(trees.payload, str(tmp_path))
    gains = trees.booster.feature_importance("gain")
    assert [r[0] for r in rows] == [["a", "b", "kind"][i] for i in np.argsort(-gains)]
    assert {r[2] for r in rows} == {"gain"}
    linear, _ = _fitted("logistic_reg", "three", tmp_path / "x")
    rows = feature_importance(linear.payload, str(tmp_path))
    coef = np.abs(np.asarray(linear.payload["coef"])).mean(axis=0)
    assert [r[1] for r in rows] == pytest.approx(sorted(coef, reverse=True))
    assert rows[0][0] in ("a", "b") and {r[2] for r in rows} == {"standardized_coefficient"}
    assert "kind=y" in [r[0] for r in rows]
    with pytest.raises(ValueError, match="no feature importance"):
        feature_importance({"algorithm": "kmeans", "task": "clustering"}, "")


def test_roc_curve_auc_equals_scikit_learn():
    rng = np.random.default_rng(1)
    truth = rng.integers(0, 2, 1000)
    score = np.round(rng.random(1000) * 0.7 + truth * 0.3, 2)  # many ties
    curve = diagnostics.roc_curve(truth, score)
    assert diagnostics.trapezoid_auc(curve) == pytest.approx(
        metrics.roc_auc_score(truth, score), abs=1e-6)
    fpr, tpr, thresholds = metrics.roc_curve(truth, score, drop_intermediate=False)
    np.testing.assert_array_equal(curve["threshold"], thresholds)
    np.testing.assert_allclose(curve["false_positive_rate"], fpr)
    np.testing.assert_allclose(curve["recall"], tpr)
    assert (curve["true_positives"] + curve["false_negatives"] == truth.sum()).all()
    assert (curve["false_positives"] + curve["true_negatives"] == (1 - truth).sum()).all()
    with pytest.raises(ValueError, match="needs both"):
        diagnostics.roc_curve(np.ones(5), np.arange(5.0))


def test_confusion_matrix_equals_scikit_learn():
    rng = np.random.default_rng(2)
    truth, predicted = rng.integers(0, 4, 300), rng.integers(0, 4, 300)
    np.testing.assert_array_equal(diagnostics.confusion_matrix(truth, predicted, 4),
                                  metrics.confusion_matrix(truth, predicted, labels=range(4)))


def test_residual_summary():
    rng = np.random.default_rng(3)
    label, prediction = rng.normal(size=101), rng.normal(size=101)
    summary = diagnostics.residual_summary(label, prediction)
    residual = label - prediction
    assert summary["count"] == 101 and summary["median"] == pytest.approx(np.median(residual))
    assert summary["root_mean_squared_error"] == pytest.approx(
        metrics.root_mean_squared_error(label, prediction))
    assert summary["mean_absolute_error"] == pytest.approx(
        metrics.mean_absolute_error(label, prediction))
    assert summary["p05"] <= summary["p25"] <= summary["median"] <= summary["p75"]
    assert [name for name, _ in diagnostics.RESIDUAL_COLUMNS] == list(summary)


def test_lightgbm_history_has_a_row_per_round(tmp_path):
    predictor, _ = _fitted("boosted_tree_classifier", "label", tmp_path)
    rows = predictor.history.rows
    assert [r["iteration"] for r in rows] == list(range(1, 31))
    assert rows[-1]["loss"] < rows[0]["loss"] and rows[-1]["eval_loss"] is not None
    assert all(r["duration_ms"] >= 0 for r in rows)


def test_training_info_rows(tmp_path):
    version = ModelVersion("m", 2, tmp_path, {
        "options": {"num_trees": 2}, "task": "classification",
        "training": {"seconds": 1.5, "history": [
            {"iteration": 1, "loss": 0.5, "eval_loss": None, "duration_ms": 3},
            {"iteration": 2, "loss": 0.4, "eval_loss": 0.45, "duration_ms": 2}]}})
    assert training_info(version) == [(2, 1, 0.5, None, 3, 1.5, '{"num_trees": 2}'),
                                      (2, 2, 0.4, 0.45, 2, 1.5, '{"num_trees": 2}')]
    old = ModelVersion("m", 1, tmp_path, {"options": {}, "task": "regression"})
    assert training_info(old) == [(1, None, None, None, None, None, "{}")]
    online = ModelVersion("m", 3, tmp_path, {"options": {}, "task": "classification",
                                             "metrics": {"log_loss": 0.3},
                                             "online": {"update": 7}})
    assert training_info(online) == [(3, 7, None, 0.3, None, None, "{}")]


def test_values_are_literals_only():
    sql = values_subquery("t", [("name", "STRING"), ("x", "DOUBLE"), ("n", "BIGINT")],
                          [["a", float("inf"), 1], [None, 0.5, 2], ["it's", float("nan"), 3]])
    inner = sql[sql.index("VALUES"):]
    assert "CAST" not in inner and "'it''s'" in inner
    assert sql.startswith("(SELECT CASE k0 WHEN 1 THEN CAST(NULL AS STRING)")
    assert "CAST(v2 AS BIGINT) AS `n`" in sql


def test_swing_scores_and_options_follow_flink_ml():
    from mlsql.errors import OptionError, Site
    from mlsql.planner.swing import DEFAULTS, swing_options, swing_scores

    pairs = [(0, 10), (0, 11), (1, 10), (1, 11), (1, 12), (2, 12)]
    options = {**DEFAULTS, "min_user_behavior": 1}
    rows = swing_scores(pairs, options)
    weight = {0: 17 ** -0.3, 1: 18 ** -0.3}  # (alpha1 + items) ^ -beta
    assert rows == [[10, 11, weight[0] * weight[1] / 2, 1],
                    [11, 10, weight[0] * weight[1] / 2, 1]]  # user 2 shares nothing
    assert swing_scores(pairs, {**options, "k": 0.0}) == []
    with pytest.raises(OptionError, match="maxUserBehavior must be greater than or equal"):
        swing_options({"min_user_behavior": "5", "max_user_behavior": "3"}, Site("ML_SWING"))
    with pytest.raises(OptionError, match="k must be a whole number >= 1"):
        swing_options({"k": "2.5"}, Site("ML_SWING"))

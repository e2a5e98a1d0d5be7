"""Plots chosen by an analysis result's columns (the contract with the ML_* functions)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score, roc_curve

from mlsql.notebook import plot
from mlsql.notebook.plots import plot_kind, roc_auc

PNG = b"\x89PNG\r\n\x1a\n"


def _roc_frame():
    rng = np.random.default_rng(3)
    y = rng.random(500) < 0.3
    scores = np.clip(y * 0.3 + rng.random(500) * 0.8, 0, 1)
    fpr, tpr, thresholds = roc_curve(y, scores)
    frame = pd.DataFrame({"threshold": thresholds, "recall": tpr, "false_positive_rate": fpr,
                          "true_positives": 0, "false_positives": 0, "true_negatives": 0,
                          "false_negatives": 0})
    return frame, roc_auc_score(y, scores)


FRAMES = {
    "confusion": pd.DataFrame({"expected_label": ["0", "1"], "0": [90, 4], "1": [3, 12]}),
    "importance": pd.DataFrame({"feature": ["amount", "online", "hour"],
                                "importance": [10.0, 2.5, 4.0], "importance_type": "gain"}),
    "explanation": pd.DataFrame({
        "tx_id": [1], "probability": [0.97], "baseline": [-3.2], "raw_score": [3.1],
        "feature_1": ["amount"], "attribution_1": [4.0], "feature_2": ["hour_of_day"],
        "attribution_2": [1.5], "feature_3": ["online"], "attribution_3": [-0.1],
        "other_attribution": [0.9]}),
    "training": pd.DataFrame({
        "version": [1, 1, 1, 2, 2], "iteration": [1, 2, 3, 1, 2],
        "loss": [0.6, 0.4, 0.3, 0.5, 0.2], "eval_loss": [0.65, 0.45, 0.35, None, None],
        "duration_ms": 5, "training_seconds": 1.0, "options": "{}"}),
    "residuals": pd.DataFrame({"count": [100], "mean_residual": [0.1], "p05": [-2.0],
                               "p25": [-0.5], "median": [0.05], "p75": [0.6], "p95": [2.2]}),
    "quality": pd.DataFrame({
        "window_start": pd.to_datetime(["2026-03-01", "2026-03-02", "2026-03-01",
                                        "2026-03-02"]),
        "window_end": pd.to_datetime(["2026-03-02", "2026-03-03", "2026-03-02",
                                      "2026-03-03"]),
        "model_version": [1, 1, 2, 2], "predictions": 100, "labelled": 85, "late_labels": 5,
        "unlabelled": 10,
        "accuracy": [0.9, 0.8, 0.92, 0.93], "roc_auc": [0.95, 0.85, 0.96, 0.97]}),
    "validation": pd.DataFrame({
        "input": ["amount", "amount", "category", "category"],
        "metric": ["JENSEN_SHANNON_DIVERGENCE", "NULL_RATE_CHANGE", "L_INFTY",
                   "NULL_RATE_CHANGE"],
        "threshold": [0.3, 0.1, 0.3, 0.1], "value": [0.05, 0.0, 0.4, 0.0],
        "is_anomaly": [False, False, True, False]}),
    "drift": pd.DataFrame({
        "window_start": pd.to_datetime(["2026-03-01", "2026-03-01", "2026-03-02",
                                        "2026-03-02"]),
        "window_end": pd.to_datetime(["2026-03-02", "2026-03-02", "2026-03-03",
                                      "2026-03-03"]),
        "input": ["amount", "amount", "amount", "amount"],
        "metric": ["JENSEN_SHANNON_DIVERGENCE", "NULL_RATE_CHANGE"] * 2,
        "threshold": [0.3, 0.1, 0.3, 0.1], "value": [0.05, 0.0, 0.4, 0.0],
        "is_anomaly": [False, False, True, False]}),
}


@pytest.mark.parametrize("kind", sorted(FRAMES))
def test_each_result_gets_its_png(kind):
    drawn = plot(FRAMES[kind])
    assert drawn is not None and drawn.kind == kind
    assert drawn._repr_png_().startswith(PNG)


def test_roc_curve_with_the_auc_in_its_legend():
    frame, expected = _roc_frame()
    assert roc_auc(frame) == pytest.approx(expected, abs=1e-9)
    drawn = plot(frame)
    assert drawn.kind == "roc" and drawn.png().startswith(PNG)
    legend = [t.get_text() for t in drawn.figure.axes[0].get_legend().get_texts()]
    assert legend[0] == f"ROC (AUC = {expected:.4f})"


def test_drift_over_time_draws_each_columns_main_statistic_with_anomalies_marked():
    drawn = plot(FRAMES["drift"])
    axes = drawn.figure.axes[0]
    (line,) = axes.get_lines()
    assert list(line.get_ydata()) == [0.05, 0.4]  # JENSEN_SHANNON_DIVERGENCE, not null rate
    assert axes.collections[0].get_offsets()[:, 1].tolist() == [0.4]  # the anomaly
    one_window = FRAMES["drift"].iloc[:2]
    assert plot_kind(one_window) == "validation"


def test_other_results_get_no_plot():
    assert plot(pd.DataFrame({"a": [1], "b": [2]})) is None
    assert plot_kind(FRAMES["importance"].iloc[:0]) is None

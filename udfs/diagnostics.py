"""The curves and tables behind ML_ROC_CURVE, ML_CONFUSION_MATRIX and ML_RESIDUAL_SUMMARY,
computed from a bounded table's labels and the model's scores (numpy only)."""

from __future__ import annotations

import numpy as np
import pandas as pd

ROC_COLUMNS = [("threshold", "DOUBLE"), ("recall", "DOUBLE"), ("false_positive_rate", "DOUBLE"),
               ("true_positives", "BIGINT"), ("false_positives", "BIGINT"),
               ("true_negatives", "BIGINT"), ("false_negatives", "BIGINT")]
RESIDUAL_COLUMNS = [("count", "BIGINT"), ("mean_residual", "DOUBLE"),
                    ("std_residual", "DOUBLE"), ("mean_absolute_error", "DOUBLE"),
                    ("root_mean_squared_error", "DOUBLE"), ("min_residual", "DOUBLE"),
                    ("p05", "DOUBLE"), ("p25", "DOUBLE"), ("median", "DOUBLE"),
                    ("p75", "DOUBLE"), ("p95", "DOUBLE"), ("max_residual", "DOUBLE")]


def roc_curve(truth: np.ndarray, score: np.ndarray) -> pd.DataFrame:
    """One row per distinct score, highest first, after a first row at an infinite threshold
    (nothing predicted positive), as scikit-learn's roc_curve(drop_intermediate=False); a row
    predicts positive where score >= threshold. `truth` is 1 for the positive class."""
    truth = np.asarray(truth, dtype=np.int64)
    score = np.asarray(score, dtype=np.float64)
    order = np.argsort(-score, kind="mergesort")
    score, truth = score[order], truth[order]
    last_of_each = np.r_[np.flatnonzero(np.diff(score)), len(score) - 1]
    tp = np.r_[0, np.cumsum(truth)[last_of_each]]
    fp = np.r_[0, last_of_each + 1 - tp[1:]]
    positives, negatives = int(truth.sum()), int(len(truth) - truth.sum())
    if positives == 0 or negatives == 0:
        raise ValueError(f"the table has {positives} positive and {negatives} negative rows; "
                         "a ROC curve needs both")
    return pd.DataFrame({
        "threshold": np.r_[np.inf, score[last_of_each]],
        "recall": tp / positives, "false_positive_rate": fp / negatives,
        "true_positives": tp, "false_positives": fp,
        "true_negatives": negatives - fp, "false_negatives": positives - tp})


def trapezoid_auc(curve: pd.DataFrame) -> float:
    x = curve["false_positive_rate"].to_numpy()
    y = curve["recall"].to_numpy()
    return float(((x[1:] - x[:-1]) * (y[1:] + y[:-1]) / 2).sum())


def confusion_matrix(truth: np.ndarray, predicted: np.ndarray, classes: int) -> np.ndarray:
    """counts[i, j]: rows of class i predicted as class j (class indices)."""
    counts = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(counts, (np.asarray(truth, dtype=np.int64), np.asarray(predicted, np.int64)), 1)
    return counts


def residual_summary(label: np.ndarray, prediction: np.ndarray) -> dict[str, float]:
    """Statistics of label - prediction; the standard deviation is the population one."""
    residual = np.asarray(label, dtype=np.float64) - np.asarray(prediction, dtype=np.float64)
    if len(residual) == 0:
        raise ValueError("the table has no rows with a label")
    p05, p25, median, p75, p95 = np.percentile(residual, [5, 25, 50, 75, 95])
    return {"count": len(residual), "mean_residual": residual.mean(),
            "std_residual": residual.std(), "mean_absolute_error": np.abs(residual).mean(),
            "root_mean_squared_error": np.sqrt((residual ** 2).mean()),
            "min_residual": residual.min(), "p05": p05, "p25": p25, "median": median,
            "p75": p75, "p95": p95, "max_residual": residual.max()}

"""Evaluation metrics, computed from the same predictor that serves ML_PREDICT (at training,
in ML_EVALUATE, and prequentially on the workers that train online models)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn import metrics

from udfs.predictors import Predictor


def evaluate(predictor: Predictor, x: np.ndarray, y: np.ndarray | None) -> dict[str, float]:
    if len(x) == 0:
        return {}
    scores = predictor.scores(x)
    if predictor.task == "regression":
        return _regression(np.asarray(y, dtype=np.float64), scores)
    if predictor.task == "clustering":
        return _clustering(x, scores)
    if predictor.task == "anomaly":
        return anomaly(scores, float(predictor.payload["threshold"]), y)
    return _classification(predictor.classes, y, scores)


def _classification(classes: list, y: np.ndarray, proba: np.ndarray) -> dict[str, float]:
    codes = class_codes(classes, y)
    known = codes >= 0
    truth = codes[known]
    proba = proba[known]
    predicted = proba.argmax(axis=1)
    binary = len(classes) == 2
    precision, recall, f1, _ = metrics.precision_recall_fscore_support(
        truth, predicted, average="binary" if binary else "macro", zero_division=0)
    result = {
        "accuracy": metrics.accuracy_score(truth, predicted),
        "precision": precision,
        "recall": recall,
        "f1_score": f1,
        "log_loss": metrics.log_loss(truth, np.clip(proba, 1e-15, 1),
                                     labels=list(range(len(classes)))),
    }
    if binary and len(np.unique(truth)) == 2:
        result["roc_auc"] = metrics.roc_auc_score(truth, proba[:, 1])
    return {k: float(v) for k, v in result.items()}


def class_codes(classes: list, y: np.ndarray) -> np.ndarray:
    """Each label's position in `classes`, -1 for a label the model does not know; labels
    match classes as a dict's keys do (1 == 1.0 == True), in one hash lookup per row."""
    index = {c: i for i, c in enumerate(classes)}
    codes = pd.Series(y, dtype=object).map(index).fillna(-1).to_numpy(dtype=np.int64)
    missed = np.flatnonzero(codes < 0)  # pandas' lookup misses True for a class 1
    codes[missed] = [index.get(v, -1) if v == v else -1 for v in np.asarray(y)[missed].tolist()]
    return codes


def _regression(y: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    mse = metrics.mean_squared_error(y, predicted)
    return {
        "r2_score": float(metrics.r2_score(y, predicted)) if len(y) > 1 else float("nan"),
        "mean_absolute_error": float(metrics.mean_absolute_error(y, predicted)),
        "mean_squared_error": float(mse),
        "root_mean_squared_error": float(np.sqrt(mse)),
    }


def _clustering(x: np.ndarray, distances: np.ndarray) -> dict[str, float]:
    assigned = distances.argmin(axis=1)
    result = {"mean_squared_distance": float((distances.min(axis=1) ** 2).mean())}
    if 1 < len(np.unique(assigned)) < len(x):
        result["davies_bouldin_index"] = float(metrics.davies_bouldin_score(x, assigned))
    return result


def anomaly(scores: np.ndarray, threshold: float, y: np.ndarray | None = None) -> dict[str, float]:
    """The share of rows flagged and the mean score; given a label (ML_EVALUATE with
    DESCRIPTOR(label)), the ROC AUC of the score against it (the label's larger value, TRUE
    or 1, is the anomaly), where both values occur."""
    scores = np.asarray(scores, dtype=np.float64)
    result = {"anomaly_fraction": float((scores >= threshold).mean()),
              "mean_anomaly_score": float(scores.mean())}
    if y is not None and len(y) == len(scores):
        truth = anomaly_truth(y)
        if truth is not None:
            result["roc_auc"] = float(metrics.roc_auc_score(truth, scores))
    return result


def anomaly_truth(y: np.ndarray) -> np.ndarray | None:
    """A two-valued label as 0/1 (its larger value 1), or None unless it has two values."""
    values = np.unique(np.asarray(y))
    if len(values) != 2:
        return None
    return (np.asarray(y) == values[1]).astype(np.int64)

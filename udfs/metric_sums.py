"""Evaluation metrics from sums that add up across workers.

A model trained on several Flink tasks is evaluated where its rows are: each task scores its
own held-out rows and returns these sums; the planner adds them and derives the same metrics
udfs/metrics.py computes from all the rows at once. Exact for every metric but ROC AUC, which
is read from a histogram of the scores' log-odds in AUC_BUCKETS buckets over
[-LOGIT_RANGE, LOGIT_RANGE] (two scores in one bucket count as a tie: off by at most the share
of pairs that close). Log-odds, not probabilities: a rare class's scores crowd near 0, where
equal-width probability buckets would tie most of them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

AUC_BUCKETS = 1 << 18
LOGIT_RANGE = 40.0
_CLIP = 1e-15


def classification_sums(truth: np.ndarray, proba: np.ndarray) -> dict[str, Any]:
    """`truth`: class codes (n); `proba`: class probabilities (n x classes)."""
    classes = proba.shape[1]
    predicted = proba.argmax(axis=1) if len(proba) else np.zeros(0, dtype=np.int64)
    confusion = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(confusion, (truth, predicted), 1)
    chosen = proba[np.arange(len(truth)), truth] if len(truth) else np.zeros(0)
    sums: dict[str, Any] = {"confusion": confusion.tolist(),
                            "log_loss": float(-np.log(np.clip(chosen, _CLIP, 1)).sum())}
    if classes == 2:
        buckets = _logit_buckets(proba[:, 1])
        sums["auc"] = [_sparse_counts(buckets[truth == label]) for label in (0, 1)]
    return sums


def regression_sums(truth: np.ndarray, predicted: np.ndarray) -> dict[str, Any]:
    """The label's count, mean and summed squared deviation (merged by Chan's formula: a
    sum of squares less the squared sum loses every digit when the label has a large
    offset), and the errors' sums."""
    error = truth - predicted
    mean = float(truth.mean()) if len(truth) else 0.0
    return {"n": len(truth), "mean": mean, "m2": float(((truth - mean) ** 2).sum()),
            "sse": float((error**2).sum()), "sae": float(np.abs(error).sum())}


def combine_classification(parts: Iterable[dict[str, Any]]) -> dict[str, float]:
    parts = list(parts)
    confusion = sum(np.asarray(p["confusion"], dtype=np.int64) for p in parts)
    n = int(confusion.sum())
    if n == 0:
        return {}
    true_positive = np.diag(confusion).astype(np.float64)
    predicted = confusion.sum(axis=0).astype(np.float64)
    actual = confusion.sum(axis=1).astype(np.float64)
    precision = _ratio(true_positive, predicted)
    recall = _ratio(true_positive, actual)
    f1 = _ratio(2 * true_positive, predicted + actual)
    # scikit-learn's 'binary' average is the second class's; 'macro' averages the classes
    # that occur as truth or as prediction.
    chosen = [1] if len(confusion) == 2 else np.flatnonzero(predicted + actual > 0).tolist()
    result = {"accuracy": float(true_positive.sum() / n),
              "precision": float(precision[chosen].mean()),
              "recall": float(recall[chosen].mean()),
              "f1_score": float(f1[chosen].mean()),
              "log_loss": float(sum(p["log_loss"] for p in parts) / n)}
    if len(confusion) == 2 and actual.min() > 0:
        result["roc_auc"] = _auc([p["auc"] for p in parts])
    return result


def combine_regression(parts: Iterable[dict[str, Any]]) -> dict[str, float]:
    n, mean, m2, sse, sae = 0, 0.0, 0.0, 0.0, 0.0
    for part in parts:
        if not part["n"]:
            continue
        total = n + part["n"]
        delta = part["mean"] - mean
        m2 += part["m2"] + delta**2 * n * part["n"] / total
        mean += delta * part["n"] / total
        n, sse, sae = total, sse + part["sse"], sae + part["sae"]
    if n == 0:
        return {}
    if n < 2:
        r2 = float("nan")
    elif m2 > 0:
        r2 = 1 - sse / m2
    else:  # a constant label: scikit-learn's force_finite
        r2 = 1.0 if sse == 0 else 0.0
    return {"r2_score": float(r2), "mean_absolute_error": sae / n,
            "mean_squared_error": sse / n, "root_mean_squared_error": float(np.sqrt(sse / n))}


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator, 0 where the denominator is 0 (zero_division=0)."""
    return np.divide(numerator, denominator, out=np.zeros_like(numerator),
                     where=denominator > 0)


def _logit_buckets(probability: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        logit = np.log(probability) - np.log1p(-probability)
    scaled = (np.clip(logit, -LOGIT_RANGE, LOGIT_RANGE) + LOGIT_RANGE) / (2 * LOGIT_RANGE)
    return np.minimum((scaled * AUC_BUCKETS).astype(np.int64), AUC_BUCKETS - 1)


def _sparse_counts(buckets: np.ndarray) -> list[list[int]]:
    values, counts = np.unique(buckets, return_counts=True)
    return [values.tolist(), counts.tolist()]


def _auc(parts: list[list[list[list[int]]]]) -> float:
    """The probability that a positive outscores a negative (ties count half)."""
    histograms = np.zeros((2, AUC_BUCKETS), dtype=np.float64)
    for part in parts:
        for label, (buckets, counts) in enumerate(part):
            np.add.at(histograms[label], np.asarray(buckets, dtype=np.int64),
                      np.asarray(counts, dtype=np.float64))
    negatives, positives = histograms
    below = np.cumsum(negatives) - negatives  # negatives in lower buckets
    pairs = negatives.sum() * positives.sum()
    return float(((below + 0.5 * negatives) * positives).sum() / pairs)

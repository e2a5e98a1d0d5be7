"""logistic_reg computed by Flink: Newton's method with the gradient and Hessian as aggregates.

Each Newton step is one Flink pass over the training rows that returns the loss, the gradient
and the Hessian of the L2-penalized log-loss (scikit-learn's objective: l2/2 |w|^2 plus the
summed loss, the intercept unpenalized); the step is solved here. A binary model has one
score row (the logit of the second class), a multi-class one a softmax over one row per class.
Newton converges in about ten passes; a step that raises the loss is halved.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from mlsql.compiler.sql import BARRIER, double, first_best, typed_literal
from mlsql.core.progress import Step
from mlsql.errors import TrainingError
from mlsql.models.history import History
from mlsql.runtime.environment import FlinkRuntime
from mlsql.runtime.flink_types import Column
from mlsql.training.algorithms import class_codes
from mlsql.training.distributed import moments
from mlsql.training.distributed.common import (
    PassCheck,
    check_size,
    encoded_features,
    feature_inputs,
    fingerprint,
    fit_spec,
    query_frame,
    query_row,
    row_source,
)
from mlsql.training.extract import extract
from mlsql.training.fit import DISTRIBUTED, Fit
from mlsql.training.label_column import label_expression, label_values
from mlsql.training.model_options import CLASSIFICATION

MAX_CLASSES = 20
MAX_NEWTON_STEPS = 100
MAX_HALVINGS = 30
AUC_BUCKETS = 100_000


@dataclass(frozen=True)
class _Problem:
    """The encoded training rows as SQL, and the parameter layout: rows x (1 + features)."""

    base: str  # SELECT f0.., y (class index), s (sample weight)
    features: int
    score_rows: int  # 1 for a binary model, else one per class
    moments_on_jvm: bool  # the sums as one JVM aggregate, else one SUM each (moments.py)

    @property
    def size(self) -> int:
        return self.score_rows * (self.features + 1)


def fit_logistic(runtime: FlinkRuntime, query_sql: str, columns: list[Column],
                 label: Column, label_type: str, options: dict[str, Any],
                 progress: Callable[[str], None]) -> Fit:
    source = row_source(query_sql, label)
    inputs = feature_inputs(columns)
    progress("distributed training: column statistics")
    spec, rows = fit_spec(runtime, source, columns, inputs)
    encoded = encoded_features(spec, inputs)

    label_sql = label_expression(label.name, CLASSIFICATION, label_type)
    counts = query_frame(runtime, f"SELECT {label_sql} AS v, COUNT(*) AS n FROM {source} "
                                  f"GROUP BY {label_sql}")
    classes, codes = class_codes(label_values(counts["v"], label_type, CLASSIFICATION))
    if len(classes) > MAX_CLASSES:
        raise TrainingError(f"distributed logistic_reg handles up to {MAX_CLASSES} classes; "
                            f"the label has {len(classes)}")
    class_counts = np.bincount(codes, weights=counts["n"].to_numpy(dtype=np.float64),
                               minlength=len(classes))
    literals = [typed_literal(c, label_type) for c in classes]
    class_index = ("CASE " + " ".join(f"WHEN {label_sql} = {lit} THEN {i}"
                                      for i, lit in enumerate(literals)) + " END")
    weight = "1E0"
    if options.get("class_weight") == "balanced":
        weights = rows / (len(classes) * class_counts)
        weight = ("CASE " + " ".join(f"WHEN {label_sql} = {lit} THEN {double(w)}"
                                     for lit, w in zip(literals, weights, strict=True))
                  + " END")
    projected = ", ".join(f"{e} AS f{i}" for i, e in enumerate(encoded))
    on_jvm = moments.jvm_available(runtime)
    problem = _Problem(f"SELECT {projected}, {class_index} AS y, {weight} AS s FROM {source}",
                       len(encoded), 1 if len(classes) == 2 else len(classes), on_jvm)
    check_size("logistic_reg", problem.size, moments.JVM_LIMIT if on_jvm else moments.SQL_LIMIT)

    history = History()
    theta = _newton(runtime, problem, options["l2_reg"],
                    min(options["max_iter"], MAX_NEWTON_STEPS), rows, progress, history)
    fitted = {"algorithm": "logistic", "classes": classes,
              "coef": theta[:, 1:].tolist(), "intercept": theta[:, 0].tolist()}
    progress("distributed training: metrics")
    metrics = _metrics(runtime, problem, theta, len(classes))
    return Fit(spec, fitted, rows, 0, DISTRIBUTED, metrics=metrics, history=history)


def _newton(runtime: FlinkRuntime, problem: _Problem, l2: float, max_steps: int, rows: int,
            progress: Callable[[str], None], history: History) -> np.ndarray:
    """Newton steps from zero. History: iteration k is the mean log-loss (class-weighted, no
    penalty) of the model after k Newton moves, 0 the all-zero start; each is measured by the
    pass that computes the next move, so the last move's own loss is the version's metric."""
    size = problem.size
    same_rows = PassCheck()
    penalty = np.full(size, l2)
    penalty[:: problem.features + 1] = 0.0  # intercepts
    theta = np.zeros(size)
    accepted: tuple[np.ndarray, float] | None = None
    halvings = moves = 0
    for step in range(1, max_steps + 1):
        data_loss, gradient, hessian = _pass(runtime, problem,
                                             theta.reshape(problem.score_rows, -1), same_rows)
        loss = data_loss + 0.5 * float(penalty @ theta**2)
        if accepted is not None and loss > accepted[1] * (1 + 1e-12) and halvings < MAX_HALVINGS:
            theta = (accepted[0] + theta) / 2  # the step overshot: go half as far
            halvings += 1
            continue
        gradient += penalty * theta
        hessian[np.diag_indices(size)] += penalty
        move = np.linalg.lstsq(hessian, gradient, rcond=None)[0]
        accepted = (theta, loss)
        history.record(moves, data_loss / rows)
        theta = theta - move
        moves += 1
        change = float(np.abs(move).max())
        progress(Step(f"distributed training: Newton step {step}, mean loss "
                      f"{loss / rows:.6f}, largest change {change:.2e}", "newton", step, None,
                      "steps"))
        if change <= 1e-6 * max(1.0, float(np.abs(theta).max())):  # quadratic from here
            break
    return theta.reshape(problem.score_rows, -1)


def _probabilities(problem: _Problem, theta: np.ndarray) -> str:
    """The base rows with the scores z<r> and probabilities p<r>, each computed once."""
    scores = []
    for r, row in enumerate(theta):
        terms = [double(row[0])] + [f"f{j} * {double(w)}"
                                    for j, w in enumerate(row[1:]) if w != 0.0]
        scores.append(f"({' + '.join(terms)}){BARRIER} AS z{r}")
    with_scores = f"SELECT *, {', '.join(scores)} FROM ({problem.base})"
    if problem.score_rows == 1:
        probabilities = [f"1E0 / (1E0 + EXP(-z0)){BARRIER} AS p0"]
    else:
        top = f"GREATEST({', '.join(f'z{r}' for r in range(problem.score_rows))})"
        total = " + ".join(f"EXP(z{r} - {top})" for r in range(problem.score_rows))
        probabilities = [f"EXP(z{r} - {top}) / ({total}){BARRIER} AS p{r}"
                         for r in range(problem.score_rows)]
    return f"SELECT *, {', '.join(probabilities)} FROM ({with_scores})"


def _indicator(problem: _Problem, r: int) -> str:
    """1 when the row's class is score row r's class."""
    label = 1 if problem.score_rows == 1 else r
    return f"CASE WHEN y = {label} THEN 1E0 ELSE 0E0 END"


def _row_loss(problem: _Problem) -> str:
    if problem.score_rows == 1:
        return f"GREATEST(z0, 0E0) + LN(1E0 + EXP(-ABS(z0))) - ({_indicator(problem, 0)}) * z0"
    rows = range(problem.score_rows)
    top = f"GREATEST({', '.join(f'z{r}' for r in rows)})"
    total = " + ".join(f"EXP(z{r} - {top})" for r in rows)
    return f"{top} + LN({total}) - CASE " + " ".join(
        f"WHEN y = {r} THEN z{r}" for r in rows) + " END"


def _pass(runtime: FlinkRuntime, problem: _Problem, theta: np.ndarray,
          same_rows: PassCheck) -> tuple[float, np.ndarray, np.ndarray]:
    """The summed loss, gradient and Hessian at theta, from one Flink aggregate query."""
    x = ["1E0"] + [f"f{j}" for j in range(problem.features)]
    rows = range(problem.score_rows)
    residuals = [f"s * (p{r} - {_indicator(problem, r)})" for r in rows]
    curvatures = [f"s * p{r} * (1E0 - p{r})" if r == q else f"s * (0E0 - p{r} * p{q})"
                  for r in rows for q in range(r, problem.score_rows)]
    sums = [f"SUM(s * ({_row_loss(problem)})) AS loss", "COUNT(*) AS n",
            fingerprint(x[1:] or ["1E0"])]
    sums += moments.select_items(x, residuals, curvatures, problem.moments_on_jvm)
    row = query_row(runtime, f"SELECT {', '.join(sums)} FROM ({_probabilities(problem, theta)})")
    same_rows.check(int(row["n"]), float(row["fingerprint"]))
    gradient, hessian = moments.read(row, problem.size, problem.moments_on_jvm)
    return float(row["loss"]), gradient, hessian


def _metrics(runtime: FlinkRuntime, problem: _Problem, theta: np.ndarray,
             classes: int) -> dict[str, float]:
    """The metrics udfs' evaluation reports, from a confusion matrix and (binary) a histogram
    of the positive class's probability."""
    if problem.score_rows == 1:
        probability = ["1E0 - p0", "p0"]
    else:
        probability = [f"p{r}" for r in range(classes)]
    predicted = first_best(probability, [str(i) for i in range(classes)], largest=True)
    truth = "CASE " + " ".join(f"WHEN y = {i} THEN {probability[i]}"
                               for i in range(classes)) + " END"
    scored = _probabilities(problem, theta)
    cells = query_frame(runtime, (
        f"SELECT y, pred, COUNT(*) AS n, SUM(-LN(GREATEST(pt, 1E-15))) AS ll FROM (SELECT y, "
        f"{predicted} AS pred, {truth} AS pt FROM ({scored})) GROUP BY y, pred"))
    confusion = np.zeros((classes, classes))
    for y, pred, n in zip(cells["y"], cells["pred"], cells["n"], strict=True):
        confusion[int(y), int(pred)] = n
    total = confusion.sum()
    result = {"accuracy": float(np.trace(confusion) / total)}
    result.update(_precision_recall_f1(confusion))
    result["log_loss"] = float(cells["ll"].sum() / total)
    if classes == 2 and confusion[0].sum() > 0 and confusion[1].sum() > 0:
        histogram = extract(
            runtime, f"SELECT y, CAST(FLOOR(p0 * {AUC_BUCKETS}) AS INT) AS bucket, "
                     f"COUNT(*) AS n FROM ({scored}) GROUP BY y, "
                     f"CAST(FLOOR(p0 * {AUC_BUCKETS}) AS INT)",
            [Column(n, "", "") for n in ("y", "bucket", "n")], ["y", "bucket", "n"],
            lambda _: None)
        result["roc_auc"] = _bucketed_auc(histogram)
    return result


def _precision_recall_f1(confusion: np.ndarray) -> dict[str, float]:
    """scikit-learn's binary (positive = second class) or macro averages, zero_division=0."""
    tp = np.diag(confusion)
    predicted = confusion.sum(axis=0)
    actual = confusion.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(predicted > 0, tp / predicted, 0.0)
        recall = np.where(actual > 0, tp / actual, 0.0)
        f1 = np.where(predicted + actual > 0, 2 * tp / (predicted + actual), 0.0)
    if len(confusion) == 2:
        return {"precision": float(precision[1]), "recall": float(recall[1]),
                "f1_score": float(f1[1])}
    present = (predicted + actual) > 0
    return {"precision": float(precision[present].mean()),
            "recall": float(recall[present].mean()), "f1_score": float(f1[present].mean())}


def _bucketed_auc(histogram) -> float:
    """ROC AUC from per-bucket counts: rows in one bucket count as ties."""
    positives = np.zeros(AUC_BUCKETS + 1)
    negatives = np.zeros(AUC_BUCKETS + 1)
    for y, bucket, n in zip(histogram["y"], histogram["bucket"], histogram["n"], strict=True):
        (positives if int(y) == 1 else negatives)[int(bucket)] += n
    below = np.cumsum(negatives) - negatives
    pairs = positives.sum() * negatives.sum()
    return float((positives * below + 0.5 * positives * negatives).sum() / pairs)


TRAINERS = {"logistic_reg": fit_logistic}

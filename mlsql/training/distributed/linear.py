"""linear_reg computed by Flink: the sufficient statistics X^T X and X^T y as aggregates.

Three queries over the training rows: column statistics (the feature encoding), the normal
equations of the encoded features with an intercept column, and the training metrics from the
fitted model compiled to SQL. Only (features + 1)^2 numbers come back to Python.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from mlsql.compiler.linear import linear_score
from mlsql.models.history import History
from mlsql.runtime.environment import FlinkRuntime
from mlsql.runtime.flink_types import Column
from mlsql.syntax.dialect import quote_identifier
from mlsql.training.distributed import moments
from mlsql.training.distributed.common import (
    check_size,
    encoded_features,
    feature_inputs,
    fit_spec,
    query_row,
    row_source,
)
from mlsql.training.fit import DISTRIBUTED, Fit


def fit_linear(runtime: FlinkRuntime, query_sql: str, columns: list[Column], label: Column,
               label_type: str | None, options: dict[str, Any],
               progress: Callable[[str], None]) -> Fit:
    label_sql = quote_identifier(label.name)
    source = row_source(query_sql, label)
    inputs = feature_inputs(columns)

    progress("distributed training: column statistics")
    spec, rows = fit_spec(runtime, source, columns, inputs)
    encoded = encoded_features(spec, inputs)
    on_jvm = moments.jvm_available(runtime)
    check_size("linear_reg", len(encoded) + 1, moments.JVM_LIMIT if on_jvm else moments.SQL_LIMIT)

    progress(f"distributed training: X^T X over {rows:,} rows, {len(encoded)} features")
    history = History()
    a, b = _normal_equations(runtime, source, encoded, label_sql, on_jvm)
    penalty = np.eye(len(b)) * options["l2_reg"]
    penalty[0, 0] = 0.0  # the intercept is not penalized
    weights = np.linalg.lstsq(a + penalty, b, rcond=None)[0]
    fitted = {"algorithm": "linear", "coef": [weights[1:].tolist()],
              "intercept": [float(weights[0])]}

    progress("distributed training: metrics")
    score = linear_score({**fitted, "features": spec}, inputs, 0)
    metrics = _metrics(runtime, source, score, label_sql)
    history.record(1, metrics["mean_squared_error"])  # one solve of the normal equations
    return Fit(spec, fitted, rows, 0, DISTRIBUTED, metrics=metrics, history=history)


def _normal_equations(runtime: FlinkRuntime, source: str, encoded: list[str],
                      label_sql: str, on_jvm: bool) -> tuple[np.ndarray, np.ndarray]:
    """X^T X and X^T y with an intercept column: moments.py's sums with the label as the one
    residual and a curvature of 1."""
    d = len(encoded)
    projected = ", ".join(f"{e} AS f{i}" for i, e in enumerate(encoded))
    rows = f"SELECT {projected}, CAST({label_sql} AS DOUBLE) AS y FROM {source}"
    items = moments.select_items(["1E0"] + [f"f{i}" for i in range(d)], ["y"], ["1E0"], on_jvm)
    row = query_row(runtime, f"SELECT {', '.join(items)} FROM ({rows})")
    b, a = moments.read(row, d + 1, on_jvm)
    return a, b


def _metrics(runtime: FlinkRuntime, source: str, score: str,
             label_sql: str) -> dict[str, float]:
    row = query_row(runtime, (
        "SELECT SUM(POWER(y - p, 2)) AS sse, SUM(ABS(y - p)) AS sae, SUM(y) AS sy, "
        f"SUM(y * y) AS syy, COUNT(*) AS n FROM (SELECT ({score}) AS p, "
        f"CAST({label_sql} AS DOUBLE) AS y FROM {source})"))
    n = float(row["n"])
    mse = row["sse"] / n
    total = row["syy"] - row["sy"] ** 2 / n
    return {
        "r2_score": float(1 - row["sse"] / total) if total > 0 else float("nan"),
        "mean_absolute_error": float(row["sae"] / n),
        "mean_squared_error": float(mse),
        "root_mean_squared_error": float(np.sqrt(mse)),
    }


TRAINERS = {"linear_reg": fit_linear}

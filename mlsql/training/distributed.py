"""Training computed inside Flink: no training row ever reaches this process.

linear_reg with 'training_mode' = 'distributed' runs three aggregate queries over the
training query: column statistics (the feature encoding), the sufficient statistics X^T X and
X^T y of the encoded features (with an intercept column), and the training metrics from the
fitted model compiled to SQL. Only the aggregates, (features + 1)^2 numbers, come back, so the
training set can be as large as the Flink cluster can scan.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from mlsql.compiler.linear import linear_score, numeric_term
from mlsql.compiler.sql import string_list
from mlsql.dialect import quote_identifier
from mlsql.errors import SchemaError, TrainingError
from mlsql.flink_errors import to_flink_error
from mlsql.flink_types import Column, extraction_expression
from mlsql.runtime import FlinkRuntime
from udfs import features
from udfs.predictors import Predictor

MAX_ENCODED_FEATURES = 100  # X^T X has (d + 1)^2 aggregates


@dataclass
class Fit:
    """What a training mode hands to publishing."""

    spec: dict[str, Any]
    fitted: dict[str, Any]
    train_rows: int
    eval_rows: int
    metrics: dict[str, float] | None = None  # known already, or computed by `evaluate`
    evaluate: Callable[[Predictor], dict[str, float]] | None = None


def fit_linear_distributed(runtime: FlinkRuntime, query_sql: str, columns: list[Column],
                           label: Column, options: dict[str, Any],
                           progress: Callable[[str], None]) -> Fit:
    label_sql = quote_identifier(label.name)
    source = (f"(SELECT * FROM ({query_sql}) AS {quote_identifier('__mlsql_rows')} "
              f"WHERE {label_sql} IS NOT NULL) AS {quote_identifier('__mlsql_labelled')}")
    inputs = [extraction_expression(quote_identifier(c.name), c) for c in columns]

    progress("distributed training: column statistics")
    spec, rows = _fit_spec(runtime, source, columns, inputs)
    encoded = _encoded_features(spec, inputs)
    if len(encoded) > MAX_ENCODED_FEATURES:
        raise TrainingError(f"distributed linear_reg handles up to {MAX_ENCODED_FEATURES} "
                            f"encoded features; this query has {len(encoded)}")

    progress(f"distributed training: X^T X over {rows:,} rows, {len(encoded)} features")
    a, b = _normal_equations(runtime, source, encoded, label_sql)
    penalty = np.eye(len(b)) * options["l2_reg"]
    penalty[0, 0] = 0.0  # the intercept is not penalized
    weights = np.linalg.lstsq(a + penalty, b, rcond=None)[0]
    fitted = {"algorithm": "linear", "coef": [weights[1:].tolist()],
              "intercept": [float(weights[0])]}

    progress("distributed training: metrics")
    score = linear_score({**fitted, "features": spec}, inputs, 0)
    metrics = _metrics(runtime, source, score, label_sql)
    return Fit(spec, fitted, rows, 0, metrics=metrics)


def _query_row(runtime: FlinkRuntime, sql: str) -> dict[str, Any]:
    try:
        frame = runtime.sql_query(sql).to_pandas()
    except Exception as error:
        raise to_flink_error(error) from None
    return frame.iloc[0].to_dict()


def _fit_spec(runtime: FlinkRuntime, source: str, columns: list[Column],
              inputs: list[str]) -> tuple[dict[str, Any], int]:
    """Means and standard deviations in one pass; each string column's top categories."""
    aggregates = ["COUNT(*) AS n"]
    for i, (column, value) in enumerate(zip(columns, inputs, strict=True)):
        if column.feature_kind == "numeric":
            aggregates += [f"AVG({value}) AS m{i}", f"STDDEV_POP({value}) AS s{i}"]
    stats = _query_row(runtime, f"SELECT {', '.join(aggregates)} FROM {source}")
    rows = int(stats["n"])
    if rows == 0:
        raise SchemaError("the training query returned no rows with a label")
    spec_columns = []
    for i, (column, value) in enumerate(zip(columns, inputs, strict=True)):
        if column.feature_kind == "numeric":
            mean, std = stats[f"m{i}"], stats[f"s{i}"]
            mean = 0.0 if mean is None or np.isnan(mean) else float(mean)
            std = 1.0 if std is None or np.isnan(std) or std <= 0 else float(std)
            if not (np.isfinite(mean) and np.isfinite(std)):
                raise TrainingError(f"column {column.name!r} overflows DOUBLE when averaged; "
                                    "scale it down in the query")
            spec_columns.append({"name": column.name, "kind": "numeric", "mean": mean,
                                 "std": std})
        else:
            top = runtime.sql_query(
                f"SELECT v FROM (SELECT {value} AS v FROM {source}) WHERE v IS NOT NULL "
                f"GROUP BY v ORDER BY COUNT(*) DESC, v LIMIT {features.MAX_CATEGORIES}"
            ).to_pandas()
            spec_columns.append({"name": column.name, "kind": "categorical",
                                 "categories": sorted(top["v"].astype(str).tolist())})
    return {"columns": spec_columns, "encoding": features.ONE_HOT, "standardize": True}, rows


def _encoded_features(spec: dict[str, Any], inputs: list[str]) -> list[str]:
    """One SQL expression per encoded feature, in udfs.features.encode's order."""
    encoded = []
    for column, value in zip(spec["columns"], inputs, strict=True):
        if column["kind"] == "numeric":
            encoded.append(numeric_term(value, column, standardize=True))
        else:
            encoded += [f"CASE WHEN {value} = {string_list([c])} THEN 1E0 ELSE 0E0 END"
                        for c in column["categories"]]
    return encoded


def _normal_equations(runtime: FlinkRuntime, source: str, encoded: list[str],
                      label_sql: str) -> tuple[np.ndarray, np.ndarray]:
    d = len(encoded)
    projected = ", ".join(f"{e} AS f{i}" for i, e in enumerate(encoded))
    sums = [f"SUM(f{i} * f{j}) AS g{i}_{j}" for i in range(d) for j in range(i, d)]
    sums += [f"SUM(f{i}) AS s{i}" for i in range(d)]
    sums += [f"SUM(f{i} * y) AS b{i}" for i in range(d)]
    sums += ["SUM(y) AS sy", "COUNT(*) AS n"]
    row = _query_row(runtime, f"SELECT {', '.join(sums)} FROM (SELECT {projected}, "
                              f"CAST({label_sql} AS DOUBLE) AS y FROM {source})")
    a = np.zeros((d + 1, d + 1))
    b = np.zeros(d + 1)
    a[0, 0], b[0] = row["n"], row["sy"]
    for i in range(d):
        a[0, i + 1] = a[i + 1, 0] = row[f"s{i}"]
        b[i + 1] = row[f"b{i}"]
        for j in range(i, d):
            a[i + 1, j + 1] = a[j + 1, i + 1] = row[f"g{i}_{j}"]
    return a, b


def _metrics(runtime: FlinkRuntime, source: str, score: str,
             label_sql: str) -> dict[str, float]:
    row = _query_row(runtime, (
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

"""Pieces every distributed trainer shares: the row source, the feature encoding fitted by
aggregates, encoded features as SQL, and running a one-row aggregate query."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from mlsql.compiler.linear import numeric_term
from mlsql.compiler.sql import string_list
from mlsql.errors import FlinkError, SchemaError, TrainingError
from mlsql.runtime.environment import FlinkRuntime
from mlsql.runtime.flink_errors import to_flink_error
from mlsql.runtime.flink_types import Column, extraction_expression
from mlsql.syntax.dialect import quote_identifier
from mlsql.training.extract import fetch
from udfs import features


def row_source(query_sql: str, label: Column | None) -> str:
    """The training rows as a FROM item (only the labelled ones when there is a label)."""
    rows = f"({query_sql}) AS {quote_identifier('__mlsql_rows')}"
    if label is None:
        return rows
    return (f"(SELECT * FROM {rows} WHERE {quote_identifier(label.name)} IS NOT NULL) "
            f"AS {quote_identifier('__mlsql_labelled')}")


def feature_inputs(columns: list[Column]) -> list[str]:
    return [extraction_expression(quote_identifier(c.name), c) for c in columns]


def query_row(runtime: FlinkRuntime, sql: str) -> dict[str, Any]:
    return query_frame(runtime, sql).iloc[0].to_dict()


def query_frame(runtime: FlinkRuntime, sql: str) -> pd.DataFrame:
    try:
        return fetch(runtime, sql)
    except FlinkError:
        raise
    except Exception as error:
        raise to_flink_error(error) from None


def fit_spec(runtime: FlinkRuntime, source: str, columns: list[Column],
             inputs: list[str]) -> tuple[dict[str, Any], int]:
    """Means and standard deviations in one pass; each string column's top categories.
    Returns the standardized one-hot encoding spec and the row count."""
    aggregates = ["COUNT(*) AS n"]
    for i, (column, value) in enumerate(zip(columns, inputs, strict=True)):
        if column.feature_kind == "numeric":
            aggregates += [f"AVG({value}) AS m{i}", f"STDDEV_POP({value}) AS s{i}"]
    stats = query_row(runtime, f"SELECT {', '.join(aggregates)} FROM {source}")
    rows = int(stats["n"])
    if rows == 0:
        raise SchemaError("the training query returned no rows (with a label, where the "
                          "model has one)")
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
            top = query_frame(runtime, (
                f"SELECT v FROM (SELECT {value} AS v FROM {source}) WHERE v IS NOT NULL "
                f"GROUP BY v ORDER BY COUNT(*) DESC, v LIMIT {features.MAX_CATEGORIES}"))
            spec_columns.append({"name": column.name, "kind": "categorical",
                                 "categories": sorted(top["v"].astype(str).tolist())})
    return {"columns": spec_columns, "encoding": features.ONE_HOT, "standardize": True}, rows


def encoded_features(spec: dict[str, Any], inputs: list[str]) -> list[str]:
    """One SQL expression per encoded feature, in udfs.features.encode's order."""
    encoded = []
    for column, value in zip(spec["columns"], inputs, strict=True):
        if column["kind"] == "numeric":
            encoded.append(numeric_term(value, column, standardize=True))
        else:
            encoded += [f"CASE WHEN {value} = {string_list([c])} THEN 1E0 ELSE 0E0 END"
                        for c in column["categories"]]
    return encoded


def check_size(algorithm: str, parameters: int, limit: int) -> None:
    if parameters > limit:
        raise TrainingError(
            f"distributed {algorithm} handles up to {limit} parameters; this query needs "
            f"{parameters}: use 'training_mode' = 'single' or select "
            "fewer columns or categories")


def fingerprint(names: list[str]) -> str:
    """An aggregate that changes when a pass sees different rows: the encoded features'
    summed squares (their plain sums are near zero after standardization)."""
    return f"SUM({' + '.join(f'{n} * {n}' for n in names)}) AS fingerprint"


class PassCheck:
    """Raises when a later pass over the training query sees other rows than the first, as a
    random source (datagen's random fields, an unbounded stream) does; iterative training would
    then chase a moving target."""

    RELATIVE_TOLERANCE = 1e-9  # summation order differs between passes at parallelism > 1

    def __init__(self) -> None:
        self._first: tuple[int, float] | None = None

    def check(self, rows: int, fingerprint_value: float) -> None:
        if self._first is None:
            self._first = (rows, fingerprint_value)
            return
        first_rows, first_value = self._first
        scale = max(abs(first_value), 1.0)
        if rows != first_rows or abs(fingerprint_value - first_value) > \
                self.RELATIVE_TOLERANCE * scale:
            raise TrainingError(
                "the training query returned different rows on a second pass "
                f"({first_rows:,} rows, then {rows:,}; or other values): distributed "
                "training reads the query once per step and needs it to return the same rows "
                "each time. Random sources such as datagen's random fields change; train from "
                "a table, or use 'training_mode' = 'single'")

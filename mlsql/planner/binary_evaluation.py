"""ML_EVALUATE_BINARY: Flink ML's BinaryClassificationEvaluator, over a bounded table's label
and score columns (no model: any scorer's output, ML_PREDICT's probability included).

    ML_EVALUATE_BINARY(TABLE t, DESCRIPTOR(label), DESCRIPTOR(score) [, DESCRIPTOR(weight)])
        One row: area_under_roc, area_under_pr, ks, area_under_lorenz (DOUBLE). A row is
        positive where its label is 1 (or TRUE); the score is its positive-class score.
        Rows are walked from the highest score down, one point per distinct score (tied
        rows are one step, a straight segment), each point's true and false positive rates,
        precision and positive rate joined by trapezoids as Flink ML's are; ks is the
        largest |false positive rate - true positive rate|. With a weight column each row
        counts its weight. Rows with a NULL label, score or weight are left out.

The weights per distinct score are one Flink job when the statement is planned (as
ML_EVALUATE's metrics are); the areas are summed from them here.
"""

from __future__ import annotations

import numpy as np

from mlsql.errors import SchemaError, Site
from mlsql.planner.bounded import require_bounded
from mlsql.planner.context import PlanContext, table_query
from mlsql.planner.rows import argument_column, fetch_rows
from mlsql.planner.values import table_subquery
from mlsql.runtime.flink_types import NUMERIC_ROOTS
from mlsql.syntax import ir
from mlsql.syntax.dialect import quote_identifier

COLUMNS = [("area_under_roc", "DOUBLE"), ("area_under_pr", "DOUBLE"), ("ks", "DOUBLE"),
           ("area_under_lorenz", "DOUBLE")]


def evaluate_binary_subquery(call: ir.AnalysisCall, context: PlanContext) -> str:
    assert call.table_sql is not None and call.label is not None and call.features
    columns = {c.name: c for c in context.table_argument_columns(
        call.table_sql, call.table_position or call.position)}
    refs = (call.label, *call.features)
    for ref in refs:
        column = argument_column(columns, ref, call)
        if column.root not in NUMERIC_ROOTS and not (ref is call.label
                                                     and column.root == "BOOLEAN"):
            raise SchemaError(f"{call.function} needs a numeric {ref.name!r}"
                              f"{' (or BOOLEAN)' if ref is call.label else ''}, which has "
                              f"type {column.type}", at=Site(call.function, ref.position))
    require_bounded(context.runtime, call.table_sql, table_query(call.table_sql), call.where)
    label, score = quote_identifier(call.label.name), quote_identifier(call.features[0].name)
    weight = (f"CAST({quote_identifier(call.features[1].name)} AS DOUBLE)"
              if len(call.features) > 1 else "1E0")
    positive = (f"{label} IS TRUE" if columns[call.label.name].root == "BOOLEAN"
                else f"CAST({label} AS DOUBLE) = 1E0")
    present = " AND ".join(f"{quote_identifier(r.name)} IS NOT NULL" for r in refs)
    sql = (f"SELECT CAST({score} AS DOUBLE) AS s, SUM(CASE WHEN {positive} THEN {weight} "
           f"ELSE 0E0 END) AS pos, SUM(CASE WHEN {positive} THEN 0E0 ELSE {weight} END) AS neg "
           f"FROM {call.table_sql} WHERE {present} GROUP BY CAST({score} AS DOUBLE)")
    frame = fetch_rows(context, sql, call.where)
    if frame.empty:
        raise SchemaError(f"{call.table_sql} has no rows to evaluate (none with a label and a "
                          "score)", at=call.where)
    frame = frame.sort_values("s", ascending=False)
    metrics = binary_metrics(frame["pos"].to_numpy(dtype=float),
                             frame["neg"].to_numpy(dtype=float))
    return table_subquery(context, "__mlsql_evaluate_binary", COLUMNS, [metrics])


def binary_metrics(positive: np.ndarray, negative: np.ndarray) -> list[float]:
    """area under ROC, area under PR, KS and area under Lorenz, from the positive and
    negative weights at each distinct score, highest score first."""
    total_positive, total_negative = positive.sum(), negative.sum()
    true_positive = np.concatenate([[0.0], np.cumsum(positive)])
    false_positive = np.concatenate([[0.0], np.cumsum(negative)])
    with np.errstate(divide="ignore", invalid="ignore"):
        tpr = (true_positive / total_positive if total_positive
               else np.ones_like(true_positive))
        fpr = (false_positive / total_negative if total_negative
               else np.ones_like(false_positive))
        predicted = true_positive + false_positive
        precision = np.where(predicted == 0, 1.0, true_positive / np.where(predicted, predicted,
                                                                            1.0))
    positive_rate = predicted / (total_positive + total_negative)

    def trapezoids(x: np.ndarray, y: np.ndarray) -> float:
        return float((np.diff(x) * (y[1:] + y[:-1]) / 2).sum())

    return [trapezoids(fpr, tpr), trapezoids(tpr, precision),
            float(np.abs(fpr - tpr).max()), trapezoids(positive_rate, tpr)]


ANALYSES = {ir.EVALUATE_BINARY: evaluate_binary_subquery}

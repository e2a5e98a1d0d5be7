"""ML_ROC_CURVE, ML_CONFUSION_MATRIX and ML_RESIDUAL_SUMMARY: a model's behaviour on a
bounded, labelled table, computed when the statement is planned (as ML_EVALUATE: one job
extracts the rows, the model's own predictor scores them) and handed back as a table
(mlsql.planner.values).

    ML_ROC_CURVE (binary classifiers): threshold, recall, false_positive_rate and the four
        counts, one row per distinct positive-class probability after a first row at an
        infinite threshold (scikit-learn's roc_curve(drop_intermediate=False));
    ML_CONFUSION_MATRIX (classifiers): expected_label, then one BIGINT column per class
        named after the class value (as Flink casts it to a string), rows in class order;
    ML_RESIDUAL_SUMMARY (regressors): one row of statistics of label - prediction.

Rows whose label is not one of the model's classes are left out, as ML_EVALUATE does.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from mlsql.errors import SchemaError
from mlsql.models.registry import ModelVersion
from mlsql.planner.context import PlanContext
from mlsql.planner.evaluate import LabelledRows, labelled_rows
from mlsql.planner.predict import resolve_model
from mlsql.planner.values import table_subquery
from mlsql.syntax import ir
from udfs import diagnostics
from udfs.predictors import PREDICTOR_FILE


def diagnostics_subquery(call: ir.AnalysisCall, context: PlanContext) -> str:
    model = resolve_model(call.model, context)
    _check_model(call, model)
    rows = labelled_rows(call.function, call.table_sql, call.table_position, model,
                         call.label, None, context)
    try:
        if call.function == ir.RESIDUAL_SUMMARY:
            summary = diagnostics.residual_summary(rows.y, rows.predictor.scores(rows.x))
            return table_subquery(context, "__mlsql_residuals", diagnostics.RESIDUAL_COLUMNS,
                                   [[summary[n] for n, _ in diagnostics.RESIDUAL_COLUMNS]])
        truth, proba = _known_classes(rows)
        if len(truth) == 0:
            raise ValueError("the table has no rows labelled with one of the model's classes")
        if call.function == ir.ROC_CURVE:
            curve = diagnostics.roc_curve(truth, proba[:, 1])
            return table_subquery(context, "__mlsql_roc", diagnostics.ROC_COLUMNS,
                                   curve.itertuples(index=False))
        return _confusion_subquery(rows, truth, proba, context)
    except ValueError as error:
        raise SchemaError(f"{error} ({call.table_sql})", at=call.where) from None


def _check_model(call: ir.AnalysisCall, model: ModelVersion) -> None:
    """Each function's model kinds, before any job starts."""
    meta = model.metadata
    task, model_type = meta["task"], meta["model_type"]
    what = f"{call.where}: model {model.name!r} is a {model_type} model"
    if task == "imported":
        raise SchemaError(f"model {model.name!r} was imported; mlsql knows no "
                          "task or classes for it", at=call.where)
    if call.function == ir.RESIDUAL_SUMMARY:
        if task != "regression":
            raise SchemaError(f"{what}; ML_RESIDUAL_SUMMARY is for regressors"
                              + ("; use ML_CONFUSION_MATRIX or ML_ROC_CURVE"
                                 if task == "classification" else ""))
        return
    if task == "regression":
        raise SchemaError(f"{what}, a regressor; {call.function} is for classifiers: use "
                          "ML_RESIDUAL_SUMMARY(TABLE t, MODEL m)")
    if task != "classification":
        raise SchemaError(f"{what}, which has no label; {call.function} is for classifiers "
                          "(ML_RESIDUAL_SUMMARY for regressors)")
    classes = _classes(model)
    if call.function == ir.ROC_CURVE and len(classes) != 2:
        raise SchemaError(f"{what} with {len(classes)} classes; ML_ROC_CURVE is for binary "
                          "classifiers: use ML_CONFUSION_MATRIX")


def _classes(model: ModelVersion) -> list[Any]:
    return json.loads((model.path / PREDICTOR_FILE).read_text())["classes"]


def _known_classes(rows: LabelledRows) -> tuple[np.ndarray, np.ndarray]:
    """Class indices of the rows whose label is a model class, and their probabilities."""
    index = {c: i for i, c in enumerate(rows.predictor.classes)}
    labels = rows.y.tolist()
    known = np.array([v in index for v in labels], dtype=bool)
    truth = np.array([index[v] for v, k in zip(labels, known, strict=True) if k],
                     dtype=np.int64)
    return truth, rows.predictor.scores(rows.x[known])


def class_name(value: Any) -> str:
    """A class value as Flink's CAST(... AS STRING) writes it."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    return str(value)


def _confusion_subquery(rows: LabelledRows, truth: np.ndarray, proba: np.ndarray,
                        context: PlanContext) -> str:
    names = [class_name(c) for c in rows.predictor.classes]
    counts = diagnostics.confusion_matrix(truth, proba.argmax(axis=1), len(names))
    columns = [("expected_label", "STRING"), *((n, "BIGINT") for n in names)]
    return table_subquery(context, "__mlsql_confusion", columns,
                          [[name, *row] for name, row in zip(names, counts.tolist(),
                                                             strict=True)])


ANALYSES = {name: diagnostics_subquery for name in ir.LABELLED_TABLE_FUNCTIONS}

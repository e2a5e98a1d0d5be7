"""ML_EVALUATE(TABLE t, MODEL m [, DESCRIPTOR(label)]): the model's metrics on a table.

The table's rows leave Flink through the training extraction path and are scored by the
same predictor and metrics code that evaluated the model at training time, so the figures
are directly comparable. The span is replaced by a one-row VALUES table, so the metrics can
be selected, filtered or joined like any table. The table must be bounded.

`labelled_rows` is that extraction, shared with the other functions computed from a labelled
table at planning time (mlsql.planner.diagnostics).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from mlsql.compiler.sql import double
from mlsql.errors import SchemaError, Site, did_you_mean
from mlsql.models.base import ANOMALY
from mlsql.models.registry import ModelVersion
from mlsql.planner.bounded import require_bounded
from mlsql.planner.context import PlanContext, table_query
from mlsql.planner.predict import bind_inputs, scoring_model, transformed_source
from mlsql.runtime.flink_types import Column, normalize_label_type
from mlsql.syntax import ir
from mlsql.syntax.dialect import quote_identifier
from mlsql.training.extract import extract
from mlsql.training.label_column import label_expression, label_values
from udfs.metrics import evaluate
from udfs.predictors import Predictor, load_predictor


@dataclass(frozen=True)
class LabelledRows:
    """A bounded table's rows with a label, encoded for the model, and the label values."""

    predictor: Predictor
    x: np.ndarray
    y: np.ndarray | None  # None for a model without a label (k-means)


def evaluate_subquery(call: ir.EvaluateCall, context: PlanContext) -> str:
    model = scoring_model(call.model, context, "ML_EVALUATE")
    if model.metadata["task"] == "imported":
        raise SchemaError(f"model {model.name!r} was imported; it has no task to compute "
                          "metrics for", at=Site("ML_EVALUATE", call.model.position))
    rows = labelled_rows("ML_EVALUATE", call.table_sql, call.table_position, model, call.label,
                         call.features, context)
    metrics = evaluate(rows.predictor, rows.x, rows.y)
    values = [f"CAST({len(rows.x)} AS BIGINT)"] + [
        double(v) if math.isfinite(v) else "CAST(NULL AS DOUBLE)" for v in metrics.values()]
    aliases = ", ".join(quote_identifier(n) for n in ["rows", *metrics])
    table = quote_identifier("__mlsql_eval")
    return f"(SELECT * FROM (VALUES ({', '.join(values)})) AS {table}({aliases}))"


def labelled_rows(function: str, table_sql: str, table_position: ir.Position,
                  model: ModelVersion, label: ir.ColumnRef | None,
                  feature_columns: tuple[ir.ColumnRef, ...] | None,
                  context: PlanContext) -> LabelledRows:
    """Check the table against the model, then run one job that extracts its rows (those
    with a label, where the model has one)."""
    meta = model.metadata
    where = Site(function, table_position)
    columns = context.table_argument_columns(table_sql, table_position)
    source, source_columns, renames = transformed_source(
        model, table_sql, columns, feature_columns, where, context,
        with_label=label is None)
    arguments = bind_inputs(source, table_position, feature_columns, model, source_columns,
                            renames, function)
    names = [i["name"] for i in meta["inputs"]]
    extracted = [Column(name, i["type"], "") for name, i in zip(names, meta["inputs"],
                                                                  strict=True)]
    label_type = None
    if meta["label"] is not None:
        label_name = label.name if label else renames.get(meta["label"]["name"],
                                                          meta["label"]["name"])
        by_name = {c.name: c for c in source_columns}
        if label_name not in by_name:
            raise SchemaError(
                f"label column {label_name!r} not found in {table_sql}"
                f"{did_you_mean(label_name, by_name)}; name it with DESCRIPTOR(column)",
                at=where)
        label_type = next(o["type"] for o in meta["outputs"]
                          if o["name"] == f"predicted_{meta['label']['name']}")
        arguments.append(label_expression(label_name, meta["task"], label_type))
        extracted.append(Column("__mlsql_label", label_type, ""))
    elif label is not None and meta["task"] == ANOMALY:  # a label the model never saw
        by_name = {c.name: c for c in source_columns}
        if label.name not in by_name:
            raise SchemaError(f"label column {label.name!r} not found in {table_sql}"
                              f"{did_you_mean(label.name, by_name)}", at=where)
        label_type = normalize_label_type(by_name[label.name])
        arguments.append(label_expression(label.name, meta["task"], label_type))
        extracted.append(Column("__mlsql_label", label_type, ""))
    require_bounded(context.runtime, table_sql, table_query(table_sql), where)
    frame = extract(context.runtime, table_query(source), extracted, arguments,
                    context.progress)
    y = None
    if label_type is not None:
        frame = frame[frame["__mlsql_label"].notna()].reset_index(drop=True)
        y = label_values(frame["__mlsql_label"], label_type, meta["task"])
    predictor = load_predictor(str(model.path))
    return LabelledRows(predictor, predictor.encode([frame[n] for n in names]), y)

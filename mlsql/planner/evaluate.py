"""ML_EVALUATE(TABLE t, MODEL m [, DESCRIPTOR(label)]): the model's metrics on a table.

The table's rows leave Flink through the training extraction path and are scored by the
same predictor and metrics code that evaluated the model at training time, so the figures
are directly comparable. The span is replaced by a one-row VALUES table, so the metrics can
be selected, filtered or joined like any table. The table must be bounded.
"""

from __future__ import annotations

import math

from mlsql import ir
from mlsql.compiler.sql import double
from mlsql.dialect import quote_identifier
from mlsql.errors import SchemaError, did_you_mean
from mlsql.flink_types import Column
from mlsql.planner.context import PlanContext, table_query
from mlsql.planner.predict import bind_inputs, resolve_model
from mlsql.training.extract import extract
from mlsql.training.labels import label_expression, label_values
from udfs.metrics import evaluate
from udfs.predictors import load_predictor


def evaluate_subquery(call: ir.EvaluateCall, context: PlanContext) -> str:
    model = resolve_model(call.model, context)
    meta = model.metadata
    if meta["task"] == "imported":
        raise SchemaError(f"ML_EVALUATE at {call.model.position}: model {model.name!r} was "
                          "imported; it has no task to compute metrics for")
    columns = context.table_argument_columns(call.table_sql, call.table_position)
    arguments = bind_inputs(call.table_sql, call.table_position, call.features, model,
                            columns)
    names = [i["name"] for i in meta["inputs"]]
    extracted = [Column(name, i["type"], "") for name, i in zip(names, meta["inputs"],
                                                                  strict=True)]
    label_type = None
    if meta["label"] is not None:
        label_name = call.label.name if call.label else meta["label"]["name"]
        by_name = {c.name: c for c in columns}
        if label_name not in by_name:
            raise SchemaError(
                f"ML_EVALUATE at {call.table_position}: label column {label_name!r} not found "
                f"in {call.table_sql}{did_you_mean(label_name, by_name)}; name it with "
                "DESCRIPTOR(column)")
        label_type = next(o["type"] for o in meta["outputs"]
                          if o["name"] == f"predicted_{meta['label']['name']}")
        arguments.append(label_expression(label_name, meta["task"], label_type))
        extracted.append(Column("__mlsql_label", label_type, ""))
    frame = extract(context.runtime, table_query(call.table_sql), extracted, arguments,
                    context.progress)
    y = None
    if meta["label"] is not None:
        frame = frame[frame["__mlsql_label"].notna()].reset_index(drop=True)
        y = label_values(frame["__mlsql_label"], label_type, meta["task"])
    predictor = load_predictor(str(model.path))
    metrics = evaluate(predictor, predictor.encode([frame[n] for n in names]), y)
    values = [f"CAST({len(frame)} AS BIGINT)"] + [
        double(v) if math.isfinite(v) else "CAST(NULL AS DOUBLE)" for v in metrics.values()]
    aliases = ", ".join(quote_identifier(n) for n in ["rows", *metrics])
    table = quote_identifier("__mlsql_eval")
    return f"(SELECT * FROM (VALUES ({', '.join(values)})) AS {table}({aliases}))"

"""Rewrite `ML_PREDICT(TABLE t, MODEL m [, DESCRIPTOR(...)])` into a plain Flink subquery.

    (SELECT <t's columns>, `__mlsql_out`.`out1` AS `out1`, ...
       FROM (SELECT *, <predict function>(CAST(a AS DOUBLE), ...) AS `__mlsql_out` FROM t))

The function is a vectorized (pandas) UDF bound to one model version's directory; Flink plans
it as a single PythonCalc, so the model runs once per row whatever outputs are selected.
Every column and type is checked here, before any job starts.
"""

from __future__ import annotations

import hashlib
import re

from pyflink.table import DataTypes
from pyflink.table.udf import udf

from mlsql import ir
from mlsql.dialect import quote_identifier
from mlsql.errors import SchemaError, did_you_mean
from mlsql.flink_types import Column, extraction_expression, to_data_type
from mlsql.planner.context import PlanContext
from mlsql.registry import ModelVersion
from udfs.predict import ModelPredictFunction

_OUT = quote_identifier("__mlsql_out")


def rewrite(statement: ir.FlinkStatement, context: PlanContext) -> str:
    """The statement's text with every ML_PREDICT span replaced; other bytes untouched."""
    text = statement.text
    for call in sorted(statement.predicts, key=lambda c: c.start, reverse=True):
        text = text[: call.start] + predict_subquery(call, context) + text[call.end :]
    return text


def predict_subquery(call: ir.PredictCall, context: PlanContext) -> str:
    model = resolve_model(call.model, context)
    columns = context.query_columns(f"SELECT * FROM {call.table_sql}", call.table_position)
    arguments = _bind_inputs(call, model, columns)
    outputs = model.metadata["outputs"]
    existing = {c.name for c in columns}
    for output in outputs:
        if output["name"] in existing:
            raise SchemaError(
                f"ML_PREDICT at {call.model.position}: the input table already has a column "
                f"named {output['name']!r}, which model {model.name!r} outputs; rename it in "
                "a view or subquery first")
    function = _register_function(model, context)
    select = [quote_identifier(c.name) for c in columns] + [
        f"{_OUT}.{quote_identifier(o['name'])} AS {quote_identifier(o['name'])}"
        for o in outputs]
    return (f"(SELECT {', '.join(select)} FROM (SELECT *, {function}({', '.join(arguments)}) "
            f"AS {_OUT} FROM {call.table_sql}))")


def resolve_model(ref: ir.ModelRef, context: PlanContext) -> ModelVersion:
    try:
        return context.registry.resolve(ref.name, ref.version)
    except Exception as error:
        raise type(error)(f"{error} (at {ref.position})") from None


def _bind_inputs(call: ir.PredictCall, model: ModelVersion, columns: list[Column]) -> list[str]:
    """One argument expression per model input, checked for existence and type."""
    inputs = model.metadata["inputs"]
    by_name = {c.name: c for c in columns}
    if call.descriptor is None:
        wanted = [(i, i["name"], call.table_position) for i in inputs]
    else:
        if len(call.descriptor) != len(inputs):
            raise SchemaError(
                f"ML_PREDICT at {call.descriptor[0].position}: model {model.name!r} takes "
                f"{len(inputs)} input columns ({', '.join(i['name'] for i in inputs)}) but "
                f"DESCRIPTOR names {len(call.descriptor)}")
        wanted = [(i, ref.name, ref.position)
                  for i, ref in zip(inputs, call.descriptor, strict=True)]
    arguments = []
    for model_input, column_name, position in wanted:
        column = by_name.get(column_name)
        if column is None:
            raise SchemaError(
                f"ML_PREDICT at {position}: column {column_name!r} not found in "
                f"{call.table_sql} (model {model.name!r} needs "
                f"{', '.join(i['name'] for i in inputs)})"
                f"{did_you_mean(column_name, by_name)}")
        if column.feature_kind != model_input["kind"]:
            raise SchemaError(
                f"ML_PREDICT at {position}: column {column_name!r} is {column.type}, but model "
                f"{model.name!r} was trained with {model_input['name']!r} as "
                f"{model_input['type']} ({model_input['kind']})")
        arguments.append(extraction_expression(quote_identifier(column_name), column))
    return arguments


def _register_function(model: ModelVersion, context: PlanContext) -> str:
    safe = re.sub(r"\W", "_", model.name)
    # A dropped and re-trained model can reuse a version number: the digest keeps them apart.
    digest = hashlib.sha1(f"{model.path}|{model.metadata['created_at']}".encode()).hexdigest()
    name = f"__mlsql_predict_{safe}_v{model.version}_{digest[:8]}"
    result_type = DataTypes.ROW([
        DataTypes.FIELD(o["name"], to_data_type(o["type"])) for o in model.metadata["outputs"]])
    context.runtime.ensure_function(name, lambda: udf(
        ModelPredictFunction(str(model.path)), result_type=result_type, func_type="pandas"))
    return name

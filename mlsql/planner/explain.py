"""ML_EXPLAIN_PREDICT(TABLE t, MODEL m [, DESCRIPTOR(features)] [, top_k]): ML_PREDICT's row
plus the prediction's attributions (udfs/explain.py), in a vectorized pandas UDF, batch or
streaming:

    (SELECT <t's columns>, `__mlsql_out`.<output> AS <output>, ...,
            `__mlsql_out`.`baseline` AS `baseline`, ..., `other_attribution`
       FROM (SELECT *, <explain function>(<inputs>) AS `__mlsql_out` FROM t))

The model version is the one resolved when the statement is planned (a streaming job does
not follow new versions, unlike ML_PREDICT).
"""

from __future__ import annotations

import json

from pyflink.table import DataTypes
from pyflink.table.udf import udf

from mlsql.errors import SchemaError
from mlsql.models.registry import ModelVersion
from mlsql.planner.context import PlanContext
from mlsql.planner.predict import (
    bind_inputs,
    check_output_names,
    function_name,
    resolve_model,
    transformed_source,
    udf_subquery,
)
from mlsql.runtime.flink_types import to_data_type
from mlsql.syntax import ir
from mlsql.syntax.dialect import quote_identifier
from udfs.explain import EXPLAINABLE, ModelExplainFunction, explanation_columns
from udfs.predictors import PREDICTOR_FILE


def explain_subquery(call: ir.AnalysisCall, context: PlanContext) -> str:
    model = resolve_model(call.model, context)
    payload = json.loads((model.path / PREDICTOR_FILE).read_text())
    if payload.get("task") == "imported" or payload["algorithm"] not in EXPLAINABLE:
        kind = "an imported" if payload.get("task") == "imported" else "a"
        raise SchemaError(f"model {model.name!r} is {kind} "
                          f"{model.metadata['model_type']} model; ML_EXPLAIN_PREDICT explains "
                          "boosted trees and linear and logistic regression", at=call.where)
    columns = context.table_argument_columns(call.table_sql, call.table_position)
    source, source_columns, renames = transformed_source(
        model, call.table_sql, columns, call.features, call.where, context)
    arguments = bind_inputs(source, call.table_position, call.features, model, source_columns,
                            renames)
    outputs = [(o["name"], o["type"]) for o in model.metadata["outputs"]]
    added = outputs + explanation_columns(call.top_k)
    names = [name for name, _ in added]
    check_output_names(call.where, model, names, columns)
    function = _register_function(model, call.top_k, added, context)
    passthrough = [quote_identifier(c.name) for c in columns]
    return udf_subquery(function, arguments, passthrough, names, names, source)


def _register_function(model: ModelVersion, top_k: int, added: list[tuple[str, str]],
                       context: PlanContext) -> str:
    name = function_name("explain", model, top_k)
    result_type = DataTypes.ROW([DataTypes.FIELD(n, to_data_type(t)) for n, t in added])
    context.runtime.ensure_function(name, lambda: udf(
        ModelExplainFunction(str(model.path), top_k), result_type=result_type,
        func_type="pandas"))
    context.explain_functions[name] = model
    return name


ANALYSES = {ir.EXPLAIN_PREDICT: explain_subquery}

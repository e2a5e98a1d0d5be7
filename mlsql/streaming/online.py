"""CREATE MODEL with an online model type: a continuous Flink job that trains the model on
the query's stream and publishes a registry version per event-time window.

    CREATE MODEL m WITH ('model_type' = 'online_logistic_reg', 'label' = 'y',
                         'update_every' = '1 minute') AS SELECT a, b, ts, y FROM s

becomes

    INSERT INTO <blackhole>
    SELECT <trainer>(window_start, window_end, rows) FROM (
      SELECT window_start, window_end, ARRAY_AGG(ROW(a, b, y)) AS rows
      FROM TABLE(TUMBLE(TABLE <view of the query>, DESCRIPTOR(ts), INTERVAL ...))
      GROUP BY window_start, window_end)

Flink windows and buffers the rows (JVM state); the trainer (udfs/online/trainer.py), a
Python aggregate over all windows, holds the model in its checkpointed accumulator.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from typing import Any

import numpy as np
from pyflink.table.udf import udaf

from mlsql.core.durations import sql_interval
from mlsql.errors import MlsqlError, OptionError, SchemaError, Site, did_you_mean
from mlsql.frontend.parser import model_ref_option
from mlsql.models.base import CLASSIFICATION, CLUSTERING, REGRESSION, ModelType
from mlsql.models.registry import ModelVersion, check_model_name
from mlsql.planner.context import PlanContext
from mlsql.planner.rewrite import rewrite
from mlsql.planner.train import ColumnPlan, model_outputs, plan_columns
from mlsql.runtime.flink_types import Column, extraction_expression
from mlsql.runtime.job_handle import JobHandle
from mlsql.syntax import ir
from mlsql.syntax.dialect import quote_identifier
from mlsql.syntax.secrets import mask_sql
from mlsql.version import __version__
from udfs import features
from udfs.online.learners import KMeansLearner, LinearLearner, RunningMoments
from udfs.online.trainer import OnlinePlan, OnlineTrainer
from udfs.predictors import PREDICTOR_FILE

UPDATES_TABLE = "__mlsql_online_updates"
# Batch-trained model types an online model can warm start from, besides itself.
_WARM_START_FROM = {"online_logistic_reg": "logistic_reg", "online_linear_reg": "linear_reg",
                    "online_kmeans": "kmeans"}
_INTEGER_LABELS = {"TINYINT", "SMALLINT", "INT", "BIGINT"}


def start_training(statement: ir.CreateModel, model_type: ModelType, options: dict[str, Any],
                   context: PlanContext) -> JobHandle | None:
    check_model_name(statement.name)
    if statement.if_not_exists and context.registry.exists(statement.name):
        context.progress(f"model {statement.name} exists: not training (IF NOT EXISTS)")
        return None
    runtime = context.runtime
    if runtime.is_batch:
        raise MlsqlError(f"{model_type.name} trains on a stream: SET 'execution.runtime-mode' "
                         "= 'streaming' (a bounded source ends the job at its end)")
    if statement.transform:
        raise OptionError(f"{model_type.name} learns from the stream as it arrives and keeps "
                          "no TRANSFORM (its statistics would need the whole stream first): "
                          "compute the features in the AS SELECT query, with explicit "
                          "feature functions (ML_STANDARD_SCALER(x, mean, std))")
    query_sql = rewrite(statement.query, context)
    columns = context.query_columns(query_sql, statement.query_position)
    time_column = _time_column(columns, options["time_column"], statement)
    plan = plan_columns([c for c in columns if c is not time_column], options["label"],
                        model_type.task, statement)
    classes = _classes(plan, model_type.task)
    stream_id = uuid.uuid4().hex
    outputs = model_outputs(model_type.task, plan)
    trainer_plan = OnlinePlan(
        registry=str(context.registry.root), model=statement.name, task=model_type.task,
        feature_kinds=tuple((c.name, c.feature_kind) for c in plan.features),
        options=options, outputs=outputs, classes=classes,
        metadata=_metadata(statement, model_type, options, plan, time_column, outputs),
        stream_id=stream_id)
    if options["initial_model"]:
        initial, predictor = _initial_model(options["initial_model"], model_type, plan,
                                            classes, statement.position, context)
        trainer_plan = _warm_started(trainer_plan, initial, predictor)

    token = stream_id[:8]
    view = quote_identifier(f"__mlsql_online_{statement.name.replace('.', '_')}_{token}")
    function = f"__mlsql_online_train_{token}"
    runtime.execute_sql(f"CREATE TEMPORARY VIEW {view} AS {query_sql}", "CREATE")
    runtime.execute_sql(f"CREATE TEMPORARY TABLE IF NOT EXISTS {quote_identifier(UPDATES_TABLE)}"
                        " (version BIGINT) WITH ('connector' = 'blackhole')", "CREATE")
    runtime.ensure_function(function, lambda: udaf(OnlineTrainer(trainer_plan)))
    row = [extraction_expression(quote_identifier(c.name), c) for c in plan.features]
    if plan.label is not None:
        row.append(_label_expression(plan.label, model_type.task))
    insert = (
        f"INSERT INTO {quote_identifier(UPDATES_TABLE)} "
        f"SELECT {function}(window_start, window_end, rows_) FROM ("
        f"SELECT window_start, window_end, ARRAY_AGG(ROW({', '.join(row)})) AS rows_ "
        f"FROM TABLE(TUMBLE(TABLE {view}, DESCRIPTOR({quote_identifier(time_column.name)}), "
        f"{sql_interval(options['update_every'])})) GROUP BY window_start, window_end)")
    context.progress(
        f"training {statement.name} ({model_type.name}) online from the query at "
        f"{statement.query_position}: a new version every "
        f"{int(options['update_every'])} s of event time ({time_column.name})")
    job = JobHandle(runtime.execute_sql(insert, "INSERT"), insert)
    context.progress(f"online training job {job.job_id} started; cancelling it stops "
                     "training, the published versions stay")
    return job


def _time_column(columns: list[Column], named: str | None,
                 statement: ir.CreateModel) -> Column:
    by_name = {c.name: c for c in columns}
    where = Site("the training query", statement.query_position)
    if named is not None:
        column = by_name.get(named)
        if column is None:
            raise SchemaError(f"time_column {named!r} is not selected"
                              f"{did_you_mean(named, by_name)}", at=where)
        if "ROWTIME" not in column.type:
            raise SchemaError(f"time_column {named!r} is {column.type}, not an event-time "
                              "attribute: give its table a WATERMARK")
        return column
    rowtimes = [c for c in columns if "ROWTIME" in c.type]
    if len(rowtimes) != 1:
        found = ", ".join(c.name for c in rowtimes) or "none"
        raise SchemaError("online training needs it to select exactly one event-time column "
                          f"(a column with a WATERMARK); found {found}: name it with "
                          "'time_column'", at=where)
    return rowtimes[0]


def _classes(plan: ColumnPlan, task: str) -> list[Any] | None:
    if task != CLASSIFICATION:
        return None
    if plan.label_type == "BOOLEAN":
        return [False, True]
    if plan.label_type in _INTEGER_LABELS:
        return [0, 1]
    raise SchemaError(f"online_logistic_reg is binary: label {plan.label.name!r} must be "
                      f"BOOLEAN or an integer 0/1, not {plan.label.type}")


def _label_expression(label: Column, task: str) -> str:
    quoted = quote_identifier(label.name)
    if task == REGRESSION:
        return f"CAST({quoted} AS DOUBLE)"
    return quoted if label.root == "BOOLEAN" else f"CAST({quoted} AS BIGINT)"




def _metadata(statement: ir.CreateModel, model_type: ModelType, options: dict[str, Any],
              plan: ColumnPlan, time_column: Column, outputs: list[dict[str, str]]
              ) -> dict[str, Any]:
    return {
        "name": statement.name, "model_type": model_type.name, "task": model_type.task,
        "label": None if plan.label is None else
        {"name": plan.label.name, "type": plan.label.type},
        "inputs": [{"name": c.name, "type": c.type, "kind": c.feature_kind}
                   for c in plan.features],
        "outputs": outputs,
        "options": {k: v for k, v in options.items() if v is not None},
        "training_mode": "online", "time_column": time_column.name,
        "query": mask_sql(statement.query.text), "mlsql_version": __version__,
    }


def _initial_model(text: str, model_type: ModelType, plan: ColumnPlan,
                   classes: list[Any] | None, position: ir.Position, context: PlanContext
                   ) -> tuple[ModelVersion, dict[str, Any]]:
    """The warm start's version and its predictor.json, checked for compatibility."""
    ref = model_ref_option(text, "initial_model", position)
    model = context.registry.resolve(ref.name, ref.version, ref.latest)
    meta = model.metadata
    predictor = json.loads((model.path / PREDICTOR_FILE).read_text())
    accepted = (model_type.name, _WARM_START_FROM[model_type.name])
    problem = None
    if meta["model_type"] not in accepted:
        problem = f"it is a {meta['model_type']} model; {model_type.name} starts from " \
                  f"{' or '.join(accepted)}"
    elif [(i["name"], i["kind"]) for i in meta["inputs"]] != [
            (c.name, c.feature_kind) for c in plan.features]:
        problem = ("its inputs are " + ", ".join(i["name"] for i in meta["inputs"])
                   + "; the query selects " + ", ".join(c.name for c in plan.features))
    elif classes is not None and predictor.get("classes") != classes:
        problem = f"its classes are {predictor.get('classes')}, not {classes}"
    elif not predictor["features"]["standardize"]:
        problem = "its features are not standardized"
    if problem:
        raise OptionError(f"initial_model {text!r} cannot warm start {model_type.name}: "
                          f"{problem}")
    return model, predictor


def _warm_started(plan: OnlinePlan, initial: ModelVersion, predictor: dict[str, Any]
                  ) -> OnlinePlan:
    """The trainer's starting state: the initial model's encoding, moments and weights."""
    spec = predictor["features"]
    numeric = [c for c in spec["columns"] if c["kind"] == features.NUMERIC]
    seen = int(initial.metadata.get("rows", {}).get("train")
               or initial.metadata.get("rows", {}).get("total") or 1)
    moments = RunningMoments({"count": [seen] * len(numeric),
                              "mean": [c["mean"] for c in numeric],
                              "m2": [c["std"] ** 2 * seen for c in numeric]})
    if plan.task == CLUSTERING:
        learner = KMeansLearner.create(plan.options | {
            "num_clusters": len(predictor["centroids"])})
        learner.state["centroids"] = predictor["centroids"]
        learner.state["weights"] = [seen / len(predictor["centroids"])] * len(
            predictor["centroids"])
    else:
        loss = "log" if plan.task == CLASSIFICATION else "squared"
        width = len(features.feature_names(spec))
        learner = LinearLearner.create(width, loss, plan.options)
        learner.warm_start(np.asarray(predictor["coef"][0], dtype=np.float64),
                           float(predictor["intercept"][0]))
    state = {"stream": plan.stream_id, "spec": spec, "moments": moments.state,
             "learner_state": learner.state, "updates": 0, "rows_total": 0, "warm": True}
    metadata = plan.metadata | {"initial_model": f"{initial.name}${initial.version}"}
    return dataclasses.replace(plan, initial_state=state, metadata=metadata)

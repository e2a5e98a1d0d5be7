"""CREATE MODEL ... AS SELECT: check, extract in bulk, fit, evaluate, publish a version."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mlsql import tuning
from mlsql.errors import SchemaError, Site, did_you_mean
from mlsql.models.base import TIME_SERIES
from mlsql.models.history import LOSS_METRIC, History
from mlsql.models.registry import METADATA_FILE, check_model_name, now_iso
from mlsql.monitoring import profile as data_profile
from mlsql.planner.context import PlanContext
from mlsql.planner.rewrite import rewrite
from mlsql.planner.series_model import train_series
from mlsql.runtime.flink_types import (
    CLASS_LABEL_TYPES,
    NUMERIC_ROOTS,
    Column,
    extraction_expression,
    normalize_label_type,
)
from mlsql.syntax import ir
from mlsql.syntax.dialect import quote_identifier
from mlsql.syntax.secrets import mask_sql
from mlsql.training import algorithms, distributed
from mlsql.training.extract import TooManyRows, extract
from mlsql.training.fit import DISTRIBUTED, SINGLE, Fit
from mlsql.training.label_column import label_expression, label_values
from mlsql.training.model_options import (
    ANOMALY,
    CLASSIFICATION,
    CLUSTERING,
    REGRESSION,
)
from mlsql.transform.fit import fit_statement
from mlsql.version import __version__
from udfs import features, model_store
from udfs.metrics import evaluate
from udfs.predictors import PREDICTOR_FILE, Predictor
from udfs.split import eval_mask


@dataclass
class TrainingSummary:
    model: str
    version: int | None
    model_type: str
    rows: int = 0
    train_rows: int = 0
    eval_rows: int = 0
    seconds: float = 0.0
    metrics: dict[str, float] = field(default_factory=dict)
    skipped: bool = False

    def to_frame(self) -> pd.DataFrame:
        row: dict[str, Any] = {
            "model": self.model, "version": self.version, "model_type": self.model_type,
            "train_rows": self.train_rows, "eval_rows": self.eval_rows,
            "seconds": round(self.seconds, 2)}
        row.update({k: round(v, 6) for k, v in self.metrics.items()})
        if self.skipped:
            row["status"] = "exists, skipped (IF NOT EXISTS)"
        return pd.DataFrame([row])


@dataclass(frozen=True)
class ColumnPlan:
    features: list[Column]
    label: Column | None
    label_type: str | None


def train(statement: ir.CreateModel, context: PlanContext,
          resolved: tuning.ModelOptions) -> TrainingSummary:
    """`resolved`: the statement's options, parsed and checked once by its caller
    (tuning.resolve_options)."""
    started = time.monotonic()
    check_model_name(statement.name)
    model_type, options, tuner = resolved.model_type, resolved.values, resolved.tuner
    registry = context.registry
    if statement.if_not_exists and registry.exists(statement.name):
        version = registry.resolve(statement.name).version
        return TrainingSummary(statement.name, version, model_type.name, skipped=True)
    if model_type.task == TIME_SERIES:
        trained = train_series(statement, context, resolved)
        return TrainingSummary(statement.name, trained["version"], model_type.name,
                               trained["rows"], trained["rows"], 0, trained["seconds"],
                               trained["metrics"])

    query_sql = rewrite(statement.query, context)
    fitted_transform = fit_statement(statement, query_sql, context, options["label"])
    if fitted_transform is not None:
        query_sql = fitted_transform.query_sql
    columns = context.query_columns(query_sql, statement.query_position)
    plan = plan_columns(columns, options["label"], model_type.task, statement)

    context.progress(f"training {statement.name} ({model_type.name}) from the query at "
                     f"{statement.query_position}")
    with registry.new_version(statement.name) as staged:
        fit = _fit(statement, model_type, options, plan, query_sql, context, staged.path,
                   tuner)
        for name, content in fit.files.items():
            (staged.path / name).write_bytes(content)
        payload = {"format": 1, "task": model_type.task, "features": fit.spec,
                   "outputs": model_outputs(model_type.task, plan), **fit.fitted}
        _write_json(staged.path / PREDICTOR_FILE, payload)
        predictor = Predictor(payload, str(staged.path))
        metrics = fit.metrics if fit.metrics is not None else fit.evaluate(predictor)
        _complete_history(fit, predictor, metrics, model_type.task)
        if fit.profile is not None:
            _write_profile(staged.path, fit.profile, predictor, context)
        _write_json(staged.path / METADATA_FILE, {
            "name": statement.name,
            "model_type": model_type.name,
            "task": model_type.task,
            "label": None if plan.label is None else
            {"name": plan.label.name, "type": plan.label.type},
            "inputs": [{"name": c.name, "type": c.type, "kind": c.feature_kind}
                       for c in plan.features],
            "outputs": payload["outputs"],
            "options": {k: v for k, v in options.items() if v is not None},
            "training_mode": fit.mode,
            "query": mask_sql(statement.query.text),
            **({"transform": fitted_transform.document} if fitted_transform else {}),
            "metrics": metrics,
            "metrics_on": "eval" if fit.eval_rows else "train",
            "rows": {"total": fit.train_rows + fit.eval_rows, "train": fit.train_rows,
                     "eval": fit.eval_rows},
            **(tuner.metadata() if tuner else {}),  # "tuning" and "trials"
            "created_at": now_iso(),
            "mlsql_version": __version__,
            "training": {"seconds": time.monotonic() - started,
                         "loss": LOSS_METRIC.get(model_type.task),
                         "history": fit.history.rows},
        })
    context.progress(f"published {statement.name} version {staged.version}")
    return TrainingSummary(statement.name, staged.version, model_type.name,
                           fit.train_rows + fit.eval_rows, fit.train_rows, fit.eval_rows,
                           time.monotonic() - started, metrics)


def _fit(statement: ir.CreateModel, model_type, options: dict[str, Any], plan: ColumnPlan,
         query_sql: str, context: PlanContext, directory,
         tuner: tuning.Tuner | None = None) -> Fit:
    """In Flink when asked, or in 'auto' mode when the query has too many rows for this
    process; otherwise in Python."""
    mode = options.get("training_mode", SINGLE)  # model types without the option: SINGLE

    def in_flink() -> Fit:
        return distributed.trainer(model_type.name)(
            context.runtime, query_sql, plan.features, plan.label, plan.label_type, options,
            context.progress)

    if mode == DISTRIBUTED:
        return in_flink()
    row_limit = options["distributed_above_rows"] if mode == "auto" else None
    try:
        return _fit_in_python(statement, model_type, options, plan, query_sql, context,
                              directory, row_limit, tuner)
    except TooManyRows as too_many:
        context.progress(f"the training query has more than {too_many.limit:,} rows "
                         "(distributed_above_rows): training inside Flink instead")
        return in_flink()


def _fit_in_python(statement: ir.CreateModel, model_type, options: dict[str, Any],
                   plan: ColumnPlan, query_sql: str, context: PlanContext, directory,
                   row_limit: int | None = None, tuner: tuning.Tuner | None = None) -> Fit:
    """Extract the rows in bulk, split, encode and fit in this process."""
    expressions = [extraction_expression(quote_identifier(c.name), c) for c in plan.features]
    if plan.label is not None:
        expressions.append(label_expression(plan.label.name, model_type.task, plan.label_type))
    extract_columns = plan.features + ([plan.label] if plan.label else [])
    frame = extract(context.runtime, query_sql, extract_columns, expressions, context.progress,
                    row_limit)
    if row_limit is not None and len(frame) > row_limit:
        raise TooManyRows(row_limit)  # finished before the extraction's progress check

    y = None
    if plan.label is not None:
        labelled = frame[plan.label.name].notna()
        if not labelled.all():
            context.progress(f"dropped {int((~labelled).sum()):,} rows with a NULL label")
            frame = frame[labelled].reset_index(drop=True)
        y = label_values(frame[plan.label.name], plan.label_type, model_type.task)
    if frame.empty:
        raise SchemaError("it returned no rows" + (" with a label" if plan.label else ""),
                          at=Site("the training query", statement.query_position))

    feature_frame = frame[[c.name for c in plan.features]]
    held_out = eval_mask(feature_frame, options["eval_fraction"], options["seed"])
    train_rows = ~held_out
    if not train_rows.any():
        train_rows, held_out = held_out, train_rows
    kinds = {c.name: c.feature_kind for c in plan.features}
    encoding, standardize = algorithms.encoding_for(model_type.name)
    with np.errstate(over="ignore", invalid="ignore"):  # _check_finite says what overflowed
        spec = features.fit_spec(feature_frame[train_rows], kinds, encoding, standardize)
    _check_finite(spec, feature_frame[train_rows], statement)
    x = features.encode(spec, [feature_frame[name] for name in kinds])
    context.progress(f"fitting {model_type.name} on {int(train_rows.sum()):,} rows, "
                     f"{x.shape[1]} encoded features")
    history = History()

    def rows(mask):
        return x[mask], None if y is None else y[mask]

    if tuner is not None:  # trials on the held-out rows; the best one's files and options
        fitted = tuner.fit(model_type, rows(train_rows), rows(held_out), options, spec,
                           directory, context.progress, history)
    else:
        fitted = algorithms.fit(model_type.name, *rows(train_rows), options, spec,
                                directory, context.progress, history,
                                rows(held_out) if held_out.any() else None)
    scored = held_out if held_out.any() else train_rows

    def evaluate_on_rows(predictor: Predictor) -> dict[str, float]:
        return evaluate(predictor, *rows(scored))

    def evaluate_training_rows(predictor: Predictor) -> dict[str, float]:
        return evaluate(predictor, *rows(train_rows))

    def profile_training_rows(predictor: Predictor) -> dict[str, Any]:
        positions = np.flatnonzero(train_rows)
        if len(positions) > data_profile.OUTPUT_SAMPLE_ROWS:
            positions = np.sort(np.random.default_rng(options["seed"]).choice(
                positions, data_profile.OUTPUT_SAMPLE_ROWS, replace=False))
        outputs = predictor.output_frame(predictor.scores(x[positions]))
        return data_profile.profile(
            feature_frame[train_rows], kinds, outputs,
            data_profile.output_kinds(model_type.task, predictor.outputs))

    return Fit(spec, fitted, int(train_rows.sum()), int(held_out.sum()),
               evaluate=evaluate_on_rows, history=history,
               train_metrics=evaluate_training_rows, profile=profile_training_rows)


def _check_finite(spec: dict[str, Any], frame: pd.DataFrame, statement: ir.CreateModel) -> None:
    """A numeric column with infinities, or values whose mean or spread overflows a double
    (a datagen DOUBLE without 'min'/'max' spans the whole range), is named before any
    library meets the NaNs it would cause."""
    where = Site("the training query", statement.query_position)
    for column in spec["columns"]:
        if column["kind"] != "numeric":
            continue
        values = frame[column["name"]].to_numpy(dtype=np.float64, na_value=np.nan)
        infinite = int(np.isinf(values).sum())
        if infinite:
            raise SchemaError(f"column {column['name']!r} holds {infinite:,} infinite "
                              "value(s); filter them out or replace them in the query",
                              at=where)
        if not (np.isfinite(column["mean"]) and np.isfinite(column["std"])):
            largest = float(np.nanmax(np.abs(values)))
            raise SchemaError(f"column {column['name']!r} has values too large to average in "
                              f"double precision (largest magnitude {largest:.3g}); scale it "
                              "in the query (a datagen DOUBLE without 'fields.<name>.min' and "
                              "'.max' spans the whole double range)", at=where)


def _complete_history(fit: Fit, predictor: Predictor, metrics: dict[str, float],
                      task: str) -> None:
    """A one-row history without losses (a scikit-learn solver reports only its iteration
    count) gets the fitted model's loss on the training rows, and on the held-out rows."""
    rows = fit.history.rows
    if len(rows) != 1 or rows[0]["loss"] is not None or fit.train_metrics is None:
        return
    loss = LOSS_METRIC.get(task)
    if loss is None:
        return
    rows[0]["loss"] = fit.train_metrics(predictor).get(loss)
    if fit.eval_rows:
        rows[0]["eval_loss"] = metrics.get(loss)


def plan_columns(columns: list[Column], label_name: str | None, task: str,
                 statement: ir.CreateModel) -> ColumnPlan:
    by_name = {c.name: c for c in columns}
    where = Site("the training query", statement.query_position)
    label = None
    label_type = None
    if label_name is not None:
        label = by_name.get(label_name)
        if label is None:
            raise SchemaError(f"label column {label_name!r} is not selected (columns: "
                              f"{', '.join(by_name)}){did_you_mean(label_name, by_name)}",
                              at=where)
        if task == CLASSIFICATION:
            label_type = normalize_label_type(label)
            if label_type not in CLASS_LABEL_TYPES:
                raise SchemaError(f"label {label.name!r} has type {label.type}; a classifier's "
                                  "label must be BOOLEAN, an integer type or a string")
        elif label.root not in NUMERIC_ROOTS - {"BOOLEAN"}:
            raise SchemaError(f"label {label.name!r} has type {label.type}; a regressor's "
                              "label must be numeric")
    feature_columns = [c for c in columns if c is not label]
    for column in feature_columns:
        if column.feature_kind is None:
            hint = ("a sparse vector (the MAP of HashingTF, FeatureHasher, CountVectorizer) is "
                    "not read as it is: make it a dense ARRAY, whose elements are features: "
                    f"ML_VECTOR_ASSEMBLER(ARRAY[{column.name}], ARRAY[<its size>]) "
                    "(VectorAssembler in a pipeline), or hash into an ARRAY "
                    "(HashingTF(sparse=False), ML_HASHING_TF(tokens, n))"
                    if column.root == "MAP" else
                    "select a number or a string derived from it (e.g. HOUR(ts))")
            raise SchemaError(f"column {column.name!r} has type {column.type}, which cannot "
                              f"be a feature: {hint}", at=where)
    if not feature_columns:
        raise SchemaError("it selects no feature columns besides the label", at=where)
    return ColumnPlan(feature_columns, label, label_type)


def model_outputs(task: str, plan: ColumnPlan) -> list[dict[str, str]]:
    if task == CLUSTERING:
        return [{"name": "cluster_id", "type": "INT"}, {"name": "distance", "type": "DOUBLE"}]
    if task == ANOMALY:
        return [{"name": "anomaly_score", "type": "DOUBLE"},
                {"name": "is_anomaly", "type": "BOOLEAN"}]
    predicted = f"predicted_{plan.label.name}"
    if task == REGRESSION:
        return [{"name": predicted, "type": "DOUBLE"}]
    return [{"name": predicted, "type": plan.label_type},
            {"name": "probability", "type": "DOUBLE"}]


def _write_profile(directory, make: Callable[[Predictor], dict[str, Any]],
                   predictor: Predictor, context: PlanContext) -> None:
    """The training rows' distributions for ML_VALIDATE_DATA_SKEW; a model without them
    still serves, so a failure here is reported and does not fail the training."""
    try:
        _write_json(directory / data_profile.PROFILE_FILE, make(predictor))
    except Exception as error:
        context.progress(f"no training profile stored (ML_VALIDATE_DATA_SKEW will refuse "
                         f"this version): {type(error).__name__}: {error}")


def _write_json(path, payload: dict[str, Any]) -> None:
    path.write_text(json.dumps(payload, indent=2, default=model_store.json_default))


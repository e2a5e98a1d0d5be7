"""`Pipeline([...stages, estimator]).fit(table, name="m")` and the PipelineModel it makes.

A pipeline is written as one CREATE MODEL ... TRANSFORM statement over the Table: each
stage's output column is a TRANSFORM item, the estimator is the model type with its options.
Training fits it as it fits the statement, so the registry model is the same. A fitted stage
that reads another fitted stage's output (an Imputer, then a scaler on its column) is one
thing a TRANSFORM item cannot hold (`ML_STANDARD_SCALER(ML_IMPUTER(x, 'mean') OVER ())
OVER ()`): the inner stage is fitted first, by the same TRANSFORM fitting code, and the outer
one reads its explicit form.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pyflink.table import DataTypes, Table

from mlsql.errors import (
    MlsqlError,
    ModelNotFoundError,
    OptionError,
    SchemaError,
    did_you_mean,
)
from mlsql.feature_functions.calls import parse_expression
from mlsql.frontend.parser import model_ref_option
from mlsql.models.registry import ModelVersion, Registry, default_registry_path
from mlsql.pipeline import persistence
from mlsql.pipeline.estimators import ESTIMATORS, Estimator
from mlsql.pipeline.stages import FITTED_CALL, TRANSFORMERS, SQLTransformer, Stage
from mlsql.runtime.flink_types import table_columns
from mlsql.runtime.job_handle import JobHandle
from mlsql.syntax import ir
from mlsql.syntax.dialect import quote_identifier
from mlsql.syntax.lexer import Kind, tokenize
from mlsql.table_api.binding import planned_query, session_of, table_views
from mlsql.table_api.functions import ml_predict
from mlsql.table_api.training import create_model_sql
from mlsql.transform.document import output_columns
from mlsql.transform.fit import fit_transform

if TYPE_CHECKING:
    from mlsql.planner.context import PlanContext
    from mlsql.session import Session

_START = ir.Position(1, 1)


class Pipeline:
    """Transformers, optionally ending with an estimator (one of mlsql.pipeline's model
    classes)."""

    def __init__(self, stages: Sequence[Stage | Estimator]) -> None:
        stages = list(stages)
        for index, stage in enumerate(stages):
            if isinstance(stage, Estimator) and index != len(stages) - 1:
                raise OptionError(f"Pipeline: the estimator {stage!r} must be the last stage")
            if not isinstance(stage, Estimator) and not hasattr(stage, "outputs"):
                raise OptionError(f"Pipeline: {stage!r} is not a pipeline stage")
        if not stages:
            raise OptionError("Pipeline: no stages")
        self.stages = stages

    @property
    def estimator(self) -> Estimator | None:
        last = self.stages[-1]
        return last if isinstance(last, Estimator) else None

    def save(self, path: str | Path) -> None:
        """The stages and their parameters, as JSON in directory `path` (Flink ML's
        `save`); `Pipeline.load(path)` makes the same pipeline."""
        persistence.write(path, {"kind": "pipeline", "stages": [
            persistence.stage_document(stage) for stage in self.stages]})

    @classmethod
    def load(cls, path: str | Path) -> Pipeline:
        document = persistence.read(path, "pipeline")
        classes = {c.__name__: c for c in TRANSFORMERS} | ESTIMATORS
        return cls([persistence.stage_from(stage, classes) for stage in document["stages"]])

    def __repr__(self) -> str:
        return f"Pipeline({self.stages!r})"

    def fit(self, table: Table, name: str | None = None) -> PipelineModel | JobHandle:
        """Fit every stage on `table`'s rows. With an estimator, trains model `name` (a new
        version holding the whole pipeline) and returns it; without one, returns the fitted
        transformers (kept in memory: the registry holds models). An online estimator on a
        stream returns its training job's handle, as its CREATE MODEL does."""
        session = session_of(table, "Pipeline.fit")
        estimator = self.estimator
        if estimator is not None and not name:
            raise OptionError("Pipeline.fit: name=... is the registry model the pipeline "
                              "is saved as")
        if estimator is None and name:
            raise OptionError("Pipeline.fit: a pipeline without an estimator is not saved "
                              "(the registry holds models); fit it without a name")
        transformers = self.stages[:-1] if estimator is not None else self.stages
        with table_views(session, {"training": table}, "Pipeline.fit") as views:
            query = f"SELECT * FROM {views['training']}"
            plan = _compose(transformers, list(table.get_schema().get_field_names()),
                            session.context, query)
            if estimator is None:
                items = [_item(column, plan.expressions[column])
                         for column in plan.expressions if column in plan.made]
                document = fit_transform(items, query, _START, session.context).document
                if plan.skips_invalid:
                    document = {**document, "skip_invalid": plan.skips_invalid}
                return PipelineModel(document)
            if plan.skips_invalid:
                raise OptionError(
                    "Pipeline.fit: handle_invalid='skip' drops rows in transform(); a model "
                    f"is trained on every row, and {plan.skips_invalid[0]!r} would be NULL in "
                    "the invalid ones: use 'keep' or 'error' before an estimator")
            statement = _statement(name, estimator, plan, views["training"], table)
            summary = session.sql(statement)
        if estimator.online:
            return summary  # the streaming training job's handle
        return PipelineModel.load(name, version=int(summary["version"].iloc[0]),
                                  session=session)


def _statement(name: str, estimator: Estimator, plan: _Plan, view: str, table: Table) -> str:
    """The CREATE MODEL statement of a pipeline ending with `estimator`."""
    label = [estimator.label] if estimator.label else []
    features = estimator.features or [c for c in plan.default_features if c not in label]
    columns = [*features, *label]
    for column in columns:
        if column not in plan.expressions:
            raise SchemaError(f"Pipeline.fit: no column {column!r} in the table or the "
                              f"stages' outputs{did_you_mean(column, plan.expressions)}")
    unread = [c for c in plan.made if c in plan.default_features and c not in columns]
    if unread:
        raise OptionError(f"Pipeline.fit: the model reads no {unread[0]!r}, which a stage "
                          f"makes: add it to {type(estimator).__name__}'s features or drop "
                          "the stage")
    query = f"SELECT * FROM {view}"
    transform = None
    if any(c in plan.made for c in columns):
        transform = [f"{plan.expressions[c]} AS {quote_identifier(c)}" if c in plan.made
                     else quote_identifier(c) for c in columns]
    elif estimator.features is not None:  # no stage: a plain CREATE MODEL over the columns
        kept = [*columns, *_time_columns(estimator, table)]
        query = f"SELECT {', '.join(quote_identifier(c) for c in kept)} FROM {view}"
    return create_model_sql(name, query, estimator.model_type, estimator.label, transform,
                            estimator.options)


@dataclass(frozen=True)
class FittedStage:
    """One fitted column: the explicit feature call (fitted constants inlined)."""

    column: str
    expression: str
    reads: tuple[str, ...]


class PipelineModel:
    """A fitted pipeline: `transform(table)`, `predict(table)` (with an estimator), read back
    from the registry with `PipelineModel.load("m")`."""

    def __init__(self, document: dict[str, Any] | None, model: ModelVersion | None = None,
                 registry_root: Path | None = None) -> None:
        self.document = document or {"items": []}
        self.model = model
        self.registry_root = registry_root

    @classmethod
    def load(cls, name: str | Path, version: int | None = None, *,
             session: Session | None = None,
             registry: str | Path | None = None) -> PipelineModel:
        """Model `name` ('m', 'm$3', 'm$latest'; its default version, or `version`) from
        the session's registry, or `registry` (a directory; default $MLSQL_REGISTRY or
        ~/.mlsql/registry); or, where `name` is a Path or has a '/', what `save(path)` wrote
        there. Nothing is unpickled: the stages are SQL text in the version's metadata.json,
        the model numpy arrays and JSON."""
        if session is not None and registry is not None:
            raise MlsqlError("PipelineModel.load: give session= or registry=, not both")
        if isinstance(name, Path) or "/" in name:
            return cls._load_saved(Path(name), session)
        ref = model_ref_option(name, "PipelineModel.load", _START)
        if session is not None:
            store = session.registry
        else:
            root = Path(registry) if registry is not None else default_registry_path()
            if not root.is_dir():
                raise ModelNotFoundError(f"PipelineModel.load: no registry at {root}")
            store = Registry(root)
        model = store.resolve(ref.name, version if version is not None else ref.version,
                              ref.latest)
        return cls(model.metadata.get("transform"), model, store.root.resolve())

    def save(self, path: str | Path) -> None:
        """Into directory `path` (Flink ML's `save`): the fitted stages' SQL when there is no
        estimator; else the registry model and version that hold them, and the registry."""
        if self.model is None:
            persistence.write(path, {"kind": "pipeline_model", "transform": self.document})
        else:
            persistence.write(path, {"kind": "pipeline_model", "model": self.model.name,
                                     "version": self.model.version,
                                     "registry": str(self.registry_root)})

    @classmethod
    def _load_saved(cls, path: Path, session: Session | None) -> PipelineModel:
        document = persistence.read(path, "pipeline_model")
        if "transform" in document:
            return cls(document["transform"])
        if session is not None:
            return cls.load(document["model"], document["version"], session=session)
        return cls.load(document["model"], document["version"], registry=document["registry"])

    @property
    def name(self) -> str | None:
        return self.model and self.model.name

    @property
    def version(self) -> int | None:
        return self.model and self.model.version

    @property
    def stages(self) -> list[FittedStage]:
        return [FittedStage(i["name"], i["expression"], tuple(i["reads"]))
                for i in self.document["items"] if i["expression"] != i["name"]
                and i["expression"] != quote_identifier(i["name"])]

    def transform(self, table: Table) -> Table:
        """`table` with each stage's columns, then the model's outputs (as Flink ML's and
        Spark ML's fitted pipelines give them): an output named as its input replaces it,
        array-valued outputs become one column per element (as the model reads them). A
        stage whose input columns the table lacks is left out if it makes the label."""
        session = self._session_of(table, "PipelineModel.transform")
        names = list(table.get_schema().get_field_names())
        predictions: list[str] = []
        if self.model is not None:  # ML_PREDICT reads the raw columns and keeps them
            table = self.predict(table)
            predictions = [c for c in table.get_schema().get_field_names() if c not in names]
        label = (self.model.metadata.get("label") or {}).get("name") if self.model else None
        made: dict[str, list[tuple[str, str]]] = {}
        for stage in self.stages:
            missing = [c for c in stage.reads if c not in names]
            if missing and stage.column == label:
                continue
            if missing:
                raise SchemaError(f"PipelineModel.transform: column {missing[0]!r} not in the "
                                  f"table; stage {stage.column!r} reads it "
                                  f"({stage.expression}){did_you_mean(missing[0], names)}")
            made[stage.column] = output_columns(stage.expression, stage.column,
                                                session.runtime)
        # A skipped row's output is NULL, and so is each element of an array output
        first_parts = {column: parts[0][0] for column, parts in made.items() if parts}
        select = []
        for column in names:
            parts = made.pop(column, None)
            select += ([quote_identifier(column)] if parts is None else
                       [f"{sql} AS {quote_identifier(out)}" for out, sql in parts])
        select += [f"{sql} AS {quote_identifier(out)}" for parts in made.values()
                   for out, sql in parts]
        select += [quote_identifier(column) for column in predictions]
        with table_views(session, {"input": table}, "PipelineModel.transform") as views:
            query = f"SELECT {', '.join(select)} FROM {views['input']}"
            skipped = self.document.get("skip_invalid", [])
            if skipped:  # a stage's handle_invalid='skip': its NULL marks a row to drop
                kept = " AND ".join(f"{quote_identifier(first_parts.get(c, c))} IS NOT NULL"
                                    for c in skipped)
                query = f"SELECT * FROM ({query}) WHERE {kept}"
            return planned_query(session, query)

    def predict(self, table: Table, execution: str | None = None) -> Table:
        """ML_PREDICT with this version (pinned) over the raw columns."""
        if self.model is None:
            raise MlsqlError("PipelineModel.predict: this pipeline has no estimator; "
                             "transform(table) applies it")
        self._session_of(table, "PipelineModel.predict")
        return ml_predict(table, f"{self.model.name}${self.model.version}",
                          execution=execution)

    def _session_of(self, table: Table, function: str) -> Session:
        session = session_of(table, function)
        root = session.registry.root.resolve()
        if self.registry_root is not None and root != self.registry_root:
            raise MlsqlError(f"{function}: model {self.name!r} was loaded from registry "
                             f"{self.registry_root}, the Table's session uses {root}")
        session.runtime.t_env  # noqa: B018  (on the planner's connection from here)
        return session

    def get_model_data(self, session: Session) -> list[Table]:
        """Flink ML's getModelData: the fitted stages as one Table of `session`, one row per
        stored item in order: position, column, expression (the explicit feature call, fitted
        constants inlined), skips_invalid (handle_invalid='skip') and item (the stored item,
        JSON). `PipelineModel().set_model_data(table)` makes the same model from it, wherever
        the Table went (a file, a topic). A pipeline with an estimator is its registry
        version: load that by name instead."""
        if self.model is not None:
            raise MlsqlError(f"PipelineModel.get_model_data: this pipeline is registry model "
                             f"{self.name}${self.version}; PipelineModel.load("
                             f"'{self.name}${self.version}') reads it anywhere the registry is")
        skipped = set(self.document.get("skip_invalid", []))
        rows = [(position, item["name"], item["expression"], item["name"] in skipped,
                 json.dumps(item))
                for position, item in enumerate(self.document["items"])]
        return [session.table_env.from_elements(rows, DataTypes.ROW([
            DataTypes.FIELD("position", DataTypes.INT()),
            DataTypes.FIELD("column", DataTypes.STRING()),
            DataTypes.FIELD("expression", DataTypes.STRING()),
            DataTypes.FIELD("skips_invalid", DataTypes.BOOLEAN()),
            DataTypes.FIELD("item", DataTypes.STRING())]))]

    def set_model_data(self, *tables: Table) -> PipelineModel:
        """Flink ML's setModelData: this model becomes the fitted stages `get_model_data`
        wrote (one Table; its rows are read now); returns itself."""
        if len(tables) != 1:
            raise MlsqlError(f"PipelineModel.set_model_data takes the one Table "
                             f"get_model_data gives, not {len(tables)}")
        session_of(tables[0], "PipelineModel.set_model_data")
        frame = tables[0].to_pandas()
        missing = [c for c in ("position", "item", "skips_invalid") if c not in frame.columns]
        if missing:
            raise SchemaError(f"PipelineModel.set_model_data: the Table has no {missing[0]!r} "
                              "column; it takes what get_model_data gives")
        items = []
        for text in frame.sort_values("position")["item"]:
            try:
                item = json.loads(text)
                parse_expression(item["expression"])
            except (ValueError, TypeError, KeyError) as error:
                raise SchemaError(f"PipelineModel.set_model_data: a row's item is not a "
                                  f"stored stage ({error})") from None
            items.append(item)
        skipped = [item["name"] for item, skip in zip(
            items, frame.sort_values("position")["skips_invalid"], strict=True) if skip]
        self.document = {"items": items, **({"skip_invalid": skipped} if skipped else {})}
        self.model, self.registry_root = None, None
        return self

    def __repr__(self) -> str:
        model = f"{self.name}${self.version}" if self.model else "no estimator"
        return f"PipelineModel({model}, stages={[s.column for s in self.stages]})"


@dataclass
class _Plan:
    expressions: dict[str, str]  # column -> SQL over the training rows (in column order)
    made: set[str]  # the columns a stage writes
    skips_invalid: list[str]  # the columns whose NULL drops the row (handle_invalid='skip')
    default_features: list[str]  # every column no later stage read into another name


def _compose(stages: Sequence[Stage], columns: list[str], context: PlanContext,
             query: str) -> _Plan:
    expressions = {c: quote_identifier(c) for c in columns}
    explicit: dict[str, str] = {}  # a fitted expression -> its explicit form, fitted once

    def fit_now(sql: str) -> str:
        """`sql` without fitted calls (a fitted call cannot hold one)."""
        if not FITTED_CALL.search(sql):
            return sql
        if sql not in explicit:
            explicit[sql] = _fit_now(sql, query, context)
        return explicit[sql]

    made: set[str] = set()
    consumed: set[str] = set()
    skips_invalid: list[str] = []
    for stage in stages:
        for output in stage.outputs():
            if output.inputs and output.column in expressions \
                    and output.column not in output.inputs:  # Flink ML refuses it too
                raise SchemaError(f"{stage!r}: output column {output.column!r} is already a "
                                  "column of the table or an earlier stage's output; name "
                                  "another (an output replaces only its own input)")
            arguments = []
            for column in output.inputs:
                if column not in expressions:
                    raise SchemaError(f"{stage!r}: no column {column!r} in the table or an "
                                      f"earlier stage's outputs"
                                      f"{did_you_mean(column, expressions)}")
                sql = expressions[column]
                arguments.append(fit_now(sql) if output.fitted else sql)
            if isinstance(stage, SQLTransformer):
                expression = _substitute(output.template, expressions,
                                         fit_now if output.fitted else None)
            else:
                expression = output.template.format(*arguments)
            expressions[output.column] = expression
            made.add(output.column)
            if output.skips_invalid:
                skips_invalid.append(output.column)
            consumed.update(c for c in output.inputs if c != output.column)
    return _Plan(expressions, made, skips_invalid,
                 [c for c in expressions if c not in consumed])


def _substitute(text: str, expressions: dict[str, str],
                fit_now: Callable[[str], str] | None) -> str:
    """A SQLTransformer's expression with each column an earlier stage made replaced by its
    SQL, passed through `fit_now` when the expression fits its own statistics."""
    tokens = tokenize(text)
    pieces, last = [], 0
    for index, token in enumerate(tokens):
        name = token.value if token.kind in (Kind.WORD, Kind.QUOTED) else None
        if name not in expressions or expressions[name] == quote_identifier(name):
            continue
        if token.kind is Kind.WORD and tokens[index + 1].is_punct("("):
            continue  # a function of the same name
        if index > 0 and tokens[index - 1].is_punct("."):
            continue  # a qualified name: t.amount
        sql = fit_now(expressions[name]) if fit_now else expressions[name]
        pieces += [text[last : token.start], f"({sql})"]
        last = token.end
    return "".join(pieces) + text[last:]


def _time_columns(estimator: Estimator, table: Table) -> list[str]:
    """An online model's event-time column(s), which it reads besides its features."""
    if not estimator.online:
        return []
    named = estimator.options.get("time_column")
    if isinstance(named, str) and named:
        return [named]
    return [c.name for c in table_columns(table) if "ROWTIME" in c.type]


def _item(column: str, expression: str) -> ir.TransformItem:
    return ir.TransformItem(expression, column, _START,
                            parse_expression(expression, fitted_allowed=True))


def _fit_now(expression: str, query: str, context: PlanContext) -> str:
    """The explicit form of an expression's fitted calls, fitted on the query's rows."""
    fitted = fit_transform((_item("__mlsql_stage", expression),), query, _START, context)
    return fitted.document["items"][0]["expression"]

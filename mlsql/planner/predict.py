"""Rewrite `ML_PREDICT(TABLE t, MODEL m [, DESCRIPTOR(...)])` into a plain Flink subquery.

Compiled SQL, where the model has a SQL form (mlsql/compiler): no Python at all,

    (SELECT <t's columns>, <expression> AS out1, ... FROM t)

otherwise a vectorized UDF:

    (SELECT <t's columns>, `__mlsql_out`.`out1` AS `out1`, ...
       FROM (SELECT *, <predict function>(CAST(a AS DOUBLE), ...) AS `__mlsql_out` FROM t))

The function is a vectorized (pandas) UDF bound to one model version's directory; Flink plans
it as a single PythonCalc, so the model runs once per row whatever outputs are selected.
Every column and type is checked here, before any job starts.

Which path an unpinned model (`m`, `m$latest`) takes in a streaming job: the UDF, which
follows the model's serving version while the job runs (udfs/predict.py). Compiled SQL has
the version's coefficients in the plan and cannot change without a restart, so it serves
pinned versions, batch jobs, and streaming jobs that ask for it (MAP['execution', 'sql']),
with a note saying which version they keep.

MAP['challenger', 'm2'] scores the same rows with a second model in the same job and adds its
outputs as `challenger_<output>`; it takes the DESCRIPTOR's columns when it has as many inputs,
else its own input columns by name.
"""

from __future__ import annotations

import hashlib
import re

from pyflink.table import DataTypes
from pyflink.table.types import DataType
from pyflink.table.udf import udf

from mlsql.compiler.sql import BARRIER, CompiledModel
from mlsql.core.durations import parse_duration
from mlsql.errors import MlsqlError, OptionError, SchemaError, Site, did_you_mean
from mlsql.frontend.parser import model_ref_option
from mlsql.jvm.build import JvmUnavailable
from mlsql.jvm.plan import TREE_MODEL_TYPES, NotJvmScorable, jvm_subquery
from mlsql.models.compile import DEFAULT_MAX_TREE_NODES, NotCompilable, compile_model
from mlsql.models.registry import ModelVersion
from mlsql.planner.context import PlanContext
from mlsql.runtime.flink_types import Column, extraction_expression, to_data_type
from mlsql.syntax import ir
from mlsql.syntax.dialect import quote_identifier
from mlsql.transform.apply import apply_transform, has_transform
from udfs.predict import VERSION_FIELD, FollowVersions, ModelPredictFunction

_OUT = quote_identifier("__mlsql_out")
EXECUTION = "mlsql.predict.execution"
EXECUTION_CHOICES = ("auto", "sql", "jvm", "udf")
MAX_TREE_NODES = "mlsql.predict.max-tree-nodes"
VERSION_COLUMN = "mlsql.predict.version-column"
REFRESH_INTERVAL = "mlsql.predict.refresh-interval"
DEFAULT_REFRESH = "1 s"
CONFIG_KEYS = ("execution", "version_column", "challenger", "refresh_interval")
CHALLENGER_PREFIX = "challenger_"
STAGE_TREES = 10


def predict_subquery(call: ir.PredictCall, context: PlanContext) -> str:
    config = _config(call)
    columns = context.table_argument_columns(call.table_sql, call.table_position)
    version_column = config.get("version_column") or context.runtime.options.get(
        VERSION_COLUMN) or None
    scored = _score(call, call.model, columns, call.table_sql, "", version_column, config,
                    context)
    if "challenger" not in config:
        return scored
    challenger = model_ref_option(config["challenger"], "challenger", call.model.position,
                                  "ML_PREDICT")
    columns = context.query_columns(f"SELECT * FROM {scored}", call.table_position)
    return _score(call, challenger, columns, scored, CHALLENGER_PREFIX,
                  version_column and CHALLENGER_PREFIX + version_column, config, context)


def _score(call: ir.PredictCall, ref: ir.ModelRef, columns: list[Column], table_sql: str,
           prefix: str, version_column: str | None, config: dict[str, str],
           context: PlanContext) -> str:
    """`table_sql`'s columns plus the outputs of model `ref` (named with `prefix`)."""
    model = scoring_model(ref, context, "ML_PREDICT")
    descriptor = call.descriptor
    if prefix and descriptor is not None and len(descriptor) != len(model.metadata["inputs"]):
        descriptor = None  # a challenger with other inputs finds them by name
    where = Site("ML_PREDICT", ref.position)
    source, source_columns, renames = transformed_source(model, table_sql, columns, descriptor,
                                                         where, context)
    arguments = bind_inputs(source, call.table_position, descriptor, model, source_columns,
                            renames)
    outputs = model.metadata["outputs"]
    names = [prefix + o["name"] for o in outputs]
    check_output_names(Site("ML_PREDICT", call.model.position), model,
                       names + ([version_column] if version_column else []), columns)
    passthrough = [quote_identifier(c.name) for c in columns]
    follows = not context.runtime.is_batch and not ref.pinned
    if follows and renames:
        context.progress(f"{where}: {model.name!r} has a TRANSFORM, whose fitted constants are "
                         f"in the plan: this job scores version {model.version} until it "
                         "restarts")
        follows = False
    execution = _execution(config, call, context)
    if follows and execution == "auto":
        context.progress(
            f"{where}: {model.name!r} is not pinned, so this streaming job scores it with the "
            "Python UDF, which picks up new versions while it runs; pin a version "
            f"(`{model.name}${model.version}`) for compiled SQL or the JVM scorer")
        execution = "udf"
    version = ([f"CAST({model.version} AS INT) AS {quote_identifier(version_column)}"]
               if version_column else [])
    for path in _paths(execution, model):
        try:
            if path == "sql":
                scored = _compiled_subquery(compile_model(model, arguments, int(
                    context.runtime.options.get(MAX_TREE_NODES, DEFAULT_MAX_TREE_NODES))),
                    passthrough, names, source, version)
            elif path == "jvm":
                scored = jvm_subquery(model, context.runtime, arguments, passthrough, names,
                                      source, version)
                context.jvm_models[str(model.path)] = model
            else:
                break
        except (NotCompilable, NotJvmScorable, JvmUnavailable) as reason:
            if execution == path:
                what = "compiled SQL" if path == "sql" else "on the JVM"
                raise MlsqlError(f"model {model.name!r} cannot run {what}: "
                                 f"{reason}", at=where) from None
            if isinstance(reason, JvmUnavailable):
                context.notice_once(f"{reason}; ML_PREDICT scores without them (compiled SQL or "
                                    "the Python UDF)")
            continue
        if follows:
            context.progress(f"{where}: {'compiled SQL' if path == 'sql' else 'the JVM'} "
                             f"scores {model.name!r} version {model.version} until the job "
                             "restarts")
        return scored
    follow = _follow(ref, model, config, context) if follows else None
    function = _register_function(model, follow, context)
    fields = [o["name"] for o in outputs]
    if version_column:
        fields.append(VERSION_FIELD)
        names = [*names, version_column]
    return udf_subquery(function, arguments, passthrough, fields, names, source)


def transformed_source(model: ModelVersion, table_sql: str, columns: list[Column],
                       descriptor: tuple[ir.ColumnRef, ...] | None, where: Site,
                       context: PlanContext, with_label: bool = False,
                       ) -> tuple[str, list[Column], dict[str, str]]:
    """The table the model's inputs are read from: `table_sql` itself, or, for a model with a
    TRANSFORM, `table_sql` with the transform's columns added (mlsql.transform.apply)."""
    if not has_transform(model):
        return table_sql, columns, {}
    if descriptor is not None:
        raise SchemaError(f"model {model.name!r} has a TRANSFORM, which reads the raw "
                          "columns by name; drop the DESCRIPTOR (or rename the columns in a "
                          "subquery)", at=where)
    transformed = apply_transform(model, table_sql, columns, where, context.runtime,
                                  with_label)
    return transformed.table_sql, transformed.columns, transformed.renames


def udf_subquery(function: str, arguments: list[str], passthrough: list[str],
                 fields: list[str], names: list[str], table_sql: str) -> str:
    """`table_sql`'s columns plus the `fields` of a row-valued UDF's result, as `names`;
    Flink plans the UDF as one PythonCalc, so it runs once per row."""
    select = passthrough + [f"{_OUT}.{quote_identifier(f)} AS {quote_identifier(n)}"
                            for f, n in zip(fields, names, strict=True)]
    return (f"(SELECT {', '.join(select)} FROM (SELECT *, {function}({', '.join(arguments)}) "
            f"AS {_OUT} FROM {table_sql}))")


def check_output_names(where: Site, model: ModelVersion, names: list[str],
                       columns: list[Column]) -> None:
    """No added column may clash with an input column."""
    existing = {c.name for c in columns}
    for name in names:
        if name in existing:
            raise SchemaError(
                f"the input table already has a column named {name!r}, which model "
                f"{model.name!r} outputs; rename it in a view or subquery first", at=where)


def _follow(ref: ir.ModelRef, model: ModelVersion, config: dict[str, str],
            context: PlanContext) -> FollowVersions:
    text = config.get("refresh_interval") or context.runtime.options.get(
        REFRESH_INTERVAL, DEFAULT_REFRESH)
    try:
        seconds = parse_duration(text)
    except ValueError as error:
        raise OptionError(f"refresh_interval: {error}",
                          at=Site("ML_PREDICT", ref.position)) from None
    return FollowVersions(
        str(model.path.parent), ref.latest, seconds,
        tuple((i["name"], i["kind"]) for i in model.metadata["inputs"]),
        tuple((o["name"], o["type"]) for o in model.metadata["outputs"]))


def _compiled_subquery(compiled: CompiledModel, passthrough: list[str], names: list[str],
                       table_sql: str, extra: list[str]) -> str:
    """The SELECT that computes a compiled model's outputs over `table_sql`.

    Scores used once are inlined. Flink 2.2's code generator does not share common
    sub-expressions, and merges adjacent projections unless that would repeat a
    non-deterministic expression; so a score used several times (a label and a probability
    from one logit, an argmax over classes) is computed once in an inner projection and
    carries a `+ 0E0 * RAND()` (exactly zero) that keeps the projections apart. Large tree
    ensembles are summed over a chain of such projections, STAGE_TREES trees each: Flink
    compiles many small generated classes far faster than one huge one.
    """
    names = [quote_identifier(n) for n in names]
    terms = compiled.score_terms
    if terms and max(len(t) for t in terms) > STAGE_TREES:
        source, score_columns = _staged_sums(terms, table_sql)
    elif compiled.reuses_scores and not compiled.inline_scores:
        score_columns = [quote_identifier(f"__mlsql_score_{i}")
                         for i in range(len(compiled.scores))]
        inner = ", ".join(f"({score}){BARRIER} AS {column}"
                          for score, column in zip(compiled.scores, score_columns, strict=True))
        source = f"(SELECT *, {inner} FROM {table_sql})"
    else:
        source, score_columns = table_sql, [f"({score})" for score in compiled.scores]
    expressions = compiled.substitute(score_columns)
    select = passthrough + [f"{e} AS {n}" for e, n in zip(expressions, names, strict=True)]
    return f"(SELECT {', '.join(select + extra)} FROM {source})"


def _staged_sums(score_terms: list[list[str]], table_sql: str) -> tuple[str, list[str]]:
    """Nested projections adding STAGE_TREES trees per score at a time; each running sum is
    read twice by the next stage (GREATEST(s, s) is s), which keeps Flink from merging the
    stages back into one projection."""
    source = table_sql
    previous: list[str | None] = [None] * len(score_terms)
    longest = max(len(t) for t in score_terms)
    for stage, start in enumerate(range(0, longest, STAGE_TREES)):
        columns = []
        for k, terms in enumerate(score_terms):
            parts = [f"GREATEST({previous[k]}, {previous[k]})"] if previous[k] else []
            parts += [f"({t})" for t in terms[start : start + STAGE_TREES]]
            name = quote_identifier(f"__mlsql_score_{k}_{stage}")
            columns.append(f"{' + '.join(parts) or '0E0'}{BARRIER} AS {name}")
            previous[k] = name
        source = f"(SELECT *, {', '.join(columns)} FROM {source})"
    return source, [name for name in previous if name is not None]


def _config(call: ir.PredictCall) -> dict[str, str]:
    config = dict(call.config)
    unknown = sorted(set(config) - set(CONFIG_KEYS))
    if unknown:
        raise OptionError(f"unknown option {unknown[0]!r}"
                          f"{did_you_mean(unknown[0], CONFIG_KEYS)}; options: "
                          f"{', '.join(CONFIG_KEYS)}", at=Site("ML_PREDICT", call.model.position))
    return config


JVM_FIRST_MODEL_TYPES = TREE_MODEL_TYPES | {"kmeans"}


def _paths(execution: str, model: ModelVersion) -> tuple[str, ...]:
    """The paths to try, in order: the one asked for, or for `auto` the fastest measured
    (tests/benchmarks/inference.py): tree ensembles and k-means on the JVM, which beats their
    compiled SQL (10 trees of 8 leaves 330k against 318k rows/s, 30 of 31 leaves 229k against
    57k; k-means with 8 centroids 1,011k against 661k: its SQL form needs a projection of its
    own per distance), linear models as compiled SQL (no call at all); then the others; last
    the pandas UDF, which scores every model."""
    if execution != "auto":
        return (execution,)
    if model.metadata["model_type"] in JVM_FIRST_MODEL_TYPES:
        return ("jvm", "sql", "udf")
    return ("sql", "jvm", "udf")


def _execution(config: dict[str, str], call: ir.PredictCall, context: PlanContext) -> str:
    """'sql', 'udf' or 'auto': the query's MAP['execution', ...], else the session's option."""
    value = config.get("execution") or context.runtime.options.get(EXECUTION, "auto")
    if value not in EXECUTION_CHOICES:
        raise OptionError(f"execution must be one of {', '.join(EXECUTION_CHOICES)}, not "
                          f"{value!r}", at=Site("ML_PREDICT", call.model.position))
    return value


def resolve_model(ref: ir.ModelRef, context: PlanContext) -> ModelVersion:
    try:
        return context.registry.resolve(ref.name, ref.version, ref.latest)
    except MlsqlError as error:
        raise error.located(ref.position) from None
    except (OSError, ValueError) as error:  # a registry file unreadable or not JSON
        raise MlsqlError(f"model {ref.name!r} cannot be read from the registry: {error}",
                         position=ref.position) from None


def scoring_model(ref: ir.ModelRef, context: PlanContext, function: str) -> ModelVersion:
    """The model a row-scoring function (ML_PREDICT, ML_EVALUATE) applies; a time-series
    model (arima_plus) has functions of its own."""
    model = resolve_model(ref, context)
    if model.metadata.get("task") == "time_series":
        raise MlsqlError(f"model {model.name!r} is an arima_plus time-series model: it "
                         "forecasts with ML_FORECAST(MODEL m) and judges new rows with "
                         "ML_DETECT_ANOMALIES(TABLE t, MODEL m)", subject=function,
                         position=ref.position)
    return model


def bind_inputs(table_sql: str, table_position: ir.Position,
                descriptor: tuple[ir.ColumnRef, ...] | None, model: ModelVersion,
                columns: list[Column], renames: dict[str, str] | None = None,
                function: str = "ML_PREDICT") -> list[str]:
    """One argument expression per model input, checked for existence and type; `renames`
    maps an input to the column holding it (a TRANSFORM's output); errors name `function`."""
    inputs = model.metadata["inputs"]
    by_name = {c.name: c for c in columns}
    if descriptor is None:
        renames = renames or {}
        wanted = [(i, renames.get(i["name"], i["name"]), table_position) for i in inputs]
    else:
        if len(descriptor) != len(inputs):
            raise SchemaError(
                f"model {model.name!r} takes {len(inputs)} input columns "
                f"({', '.join(i['name'] for i in inputs)}) but DESCRIPTOR names "
                f"{len(descriptor)}", at=Site(function, descriptor[0].position))
        wanted = [(i, ref.name, ref.position) for i, ref in zip(inputs, descriptor, strict=True)]
    arguments = []
    for model_input, column_name, position in wanted:
        column = by_name.get(column_name)
        if column is None:
            raise SchemaError(
                f"column {column_name!r} not found in {table_sql} (model {model.name!r} "
                f"needs {', '.join(i['name'] for i in inputs)})"
                f"{did_you_mean(column_name, by_name)}", at=Site(function, position))
        if column.feature_kind != model_input["kind"]:
            raise SchemaError(
                f"column {column_name!r} is {column.type}, but model {model.name!r} was "
                f"trained with {model_input['name']!r} as {model_input['type']} "
                f"({model_input['kind']})", at=Site(function, position))
        arguments.append(extraction_expression(quote_identifier(column_name), column))
    return arguments


def output_row_type(model: ModelVersion) -> DataType:
    """The UDF's result: the model's outputs and the version that scored the row."""
    return DataTypes.ROW([DataTypes.FIELD(o["name"], to_data_type(o["type"]))
                          for o in model.metadata["outputs"]]
                         + [DataTypes.FIELD(VERSION_FIELD, DataTypes.INT())])


def function_name(kind: str, model: ModelVersion, extra: object) -> str:
    """A temporary function's name for one model version and `extra` settings."""
    safe = re.sub(r"\W", "_", model.name)
    # A dropped and re-trained model can reuse a version number: the digest keeps them apart.
    digest = hashlib.sha1(f"{model.path}|{model.metadata['created_at']}|{extra}".encode())
    return f"__mlsql_{kind}_{safe}_v{model.version}_{digest.hexdigest()[:8]}"


def _register_function(model: ModelVersion, follow: FollowVersions | None,
                       context: PlanContext) -> str:
    name = function_name("predict", model, follow)
    result_type = output_row_type(model)
    context.runtime.ensure_function(name, lambda: udf(
        ModelPredictFunction(str(model.path), model.version, follow),
        result_type=result_type, func_type="pandas"))
    context.predict_functions[name] = model
    return name

"""`mlsql compile --predict flink`: ML_PREDICT as Flink's own ML_PREDICT over a model that
mlsql's model provider serves (mlsql/jvm/src/io/mlsql/provider), with no Python in the job.

Each ML_PREDICT call becomes

    ML_PREDICT(TABLE t, MODEL `mlsql_m_v3`, DESCRIPTOR(a, b, c))

after one `CREATE TEMPORARY MODEL mlsql_m_v3 INPUT (...) OUTPUT (...) WITH ('provider' =
'mlsql', 'path' = '<out>/models/m/v3')` per model version (and INPUT types), written before
the first statement that uses it; job.sql starts with `ADD JAR` of mlsql's JVM jar, copied
into the output directory. Flink plans the call and the provider checks the version, INPUT
and OUTPUT when the job is submitted; mlsql checks the columns here first.

What the form cannot say is refused: Flink 2.2's ML_PREDICT runs only in streaming mode
(its planner has no batch operator) over an append-only table (it refuses update changes); a
model with a TRANSFORM, an algorithm the Java scorer lacks, and the `challenger` and
`version_column` settings need mlsql's own ML_PREDICT (`--predict udf`). An unpinned model
is scored at its current version for the whole job.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from mlsql.errors import MlsqlError, OptionError, Site
from mlsql.export.plan import PlannedStatement, ScriptPlanner
from mlsql.jvm.plan import NotJvmScorable, jvm_payload
from mlsql.models.registry import ModelVersion
from mlsql.planner.context import table_query
from mlsql.planner.predict import (
    CONFIG_KEYS,
    VERSION_COLUMN,
    bind_inputs,
    check_output_names,
    resolve_model,
)
from mlsql.planner.rewrite import rewrite
from mlsql.runtime.flink_errors import to_flink_error
from mlsql.session import Session
from mlsql.statements.script import Step
from mlsql.syntax import ir
from mlsql.syntax.dialect import quote_identifier, quote_literal
from mlsql.transform.apply import has_transform

PROVIDER = "mlsql"
SERVED_TASKS = ("classification", "regression", "clustering")
# MAP[...] settings the Flink form has no way to say (the rest only steer mlsql's scoring).
_UNEXPRESSIBLE = ("challenger", "version_column")
_HOW = "(mlsql compile --predict flink)"
_SAFE = re.compile(r"\W")
_CHANGELOG = re.compile(r"changelogMode=\[([^\]]*)\]")  # the plan's first (top) node's


class FlinkModels(ScriptPlanner):
    """Plans a script with ML_PREDICT in Flink's own form, collecting the models it needs: the
    CREATE MODEL statements a statement needs come first in its SQL (in an open statement
    set, before its BEGIN)."""

    def __init__(self, session: Session, out_dir: Path) -> None:
        super().__init__(session)
        self.out_dir = out_dir
        # (version path, its created_at, INPUT types) -> the temporary model's name
        self.declared: dict[tuple, str] = {}
        self.pending: list[str] = []  # CREATE MODEL statements for the next job statement

    def plan_flink(self, step: Step, planned: list[PlannedStatement]) -> PlannedStatement:
        parsed = step.parsed
        assert isinstance(parsed, ir.FlinkStatement)
        sql = self.rewrite(parsed)
        if not step.runs_job:
            # Later statements are planned against what this one declares (a view over
            # ML_PREDICT): run mlsql's own form of it in the planning session.
            before = dict(self.session.context.predict_functions)
            try:
                self.declare(step, self.session.plan(parsed) if parsed.predicts else sql)
            finally:  # its scoring functions are not part of the job
                self.session.context.predict_functions.clear()
                self.session.context.predict_functions.update(before)
        if self.pending and self.session.in_statement_set:
            begin = _last_begin(planned)
            planned[begin] = PlannedStatement(planned[begin].statement,
                                              ";\n\n".join([*self.pending,
                                                             planned[begin].sql or ""]),
                                              False)
        elif self.pending:
            sql = ";\n\n".join([*self.pending, sql])
        self.pending = []
        return PlannedStatement(step.statement, sql, step.runs_job)

    def preamble(self) -> list[str]:
        """job.sql's first statements: mlsql's jar, copied beside the job."""
        if not self.declared:
            return []
        from mlsql.jvm.build import JvmUnavailable, scorer_jar

        try:
            jar = scorer_jar()
        except JvmUnavailable as error:
            raise MlsqlError(f"{error}; {_HOW} needs it for Flink's ML_PREDICT") from None
        target = self.out_dir / jar.name
        shutil.copyfile(jar, target)
        return [f"ADD JAR {quote_literal(str(target))};"]

    def rewrite(self, parsed: ir.FlinkStatement) -> str:
        """The statement with its ML_PREDICT calls in Flink's form, its other ML spans as
        mlsql plans them."""
        if not parsed.predicts:
            return self.session.plan(parsed)
        others = (*parsed.evaluates, *parsed.analyses, *parsed.features)
        text = parsed.text
        for call in sorted((*parsed.predicts, *others), key=lambda c: c.start, reverse=True):
            if isinstance(call, ir.PredictCall):
                replacement = self.predict(call)
            else:
                # A single span through mlsql's planner, as if alone in the statement.
                replacement = rewrite(_only(call), self.session.context)
            text = text[: call.start] + replacement + text[call.end :]
        return text

    def predict(self, call: ir.PredictCall) -> str:
        context = self.session.context
        where = Site(f"ML_PREDICT {_HOW}", call.model.position)
        if context.runtime.is_batch:
            raise MlsqlError("Flink 2.2's built-in ML_PREDICT runs only in streaming "
                             "mode (its planner has no batch operator); compile a batch job "
                             "with --predict udf", at=where)
        config = dict(call.config)
        for key in config:
            if key not in CONFIG_KEYS:
                raise OptionError(f"unknown option {key!r}; options: "
                                  f"{', '.join(CONFIG_KEYS)}", at=where)
            if key in _UNEXPRESSIBLE:
                raise MlsqlError(f"MAP['{key}', ...] has no form in Flink's "
                                 "ML_PREDICT; compile with --predict udf", at=where)
        if context.runtime.options.get(VERSION_COLUMN):
            raise MlsqlError(f"{VERSION_COLUMN} has no form in Flink's ML_PREDICT; "
                             "RESET it or compile with --predict udf", at=where)
        model = resolve_model(call.model, context)
        _check_served(model, where)
        columns = context.table_argument_columns(call.table_sql, call.table_position)
        self._check_append_only(call, where)
        bind_inputs(call.table_sql, call.table_position, call.descriptor, model, columns)
        outputs = model.metadata["outputs"]
        check_output_names(where, model, [o["name"] for o in outputs], columns)
        inputs = model.metadata["inputs"]
        names = ([ref.name for ref in call.descriptor] if call.descriptor is not None
                 else [i["name"] for i in inputs])
        by_name = {c.name: c for c in columns}
        types = tuple(by_name[n].type for n in names)
        if not call.model.pinned:
            context.progress(f"{where}: this job scores {model.name!r} version "
                             f"{model.version} (Flink's ML_PREDICT does not follow new "
                             "versions)")
        identifier = self._declare(model, [i["name"] for i in inputs], types)
        descriptor = ", ".join(quote_identifier(n) for n in names)
        return (f"ML_PREDICT(TABLE {call.table_sql}, MODEL {quote_identifier(identifier)}, "
                f"DESCRIPTOR({descriptor}))")

    def _check_append_only(self, call: ir.PredictCall, where: Site) -> None:
        """Flink's ML_PREDICT reads only inserts: refuse an updating TABLE argument (an
        aggregate's view, an upsert source), which Flink would refuse at submission."""
        from pyflink.table.explain_detail import ExplainDetail

        try:
            plan = self.session.table_env.explain_sql(table_query(call.table_sql),
                                                      ExplainDetail.CHANGELOG_MODE)
        except Exception as error:
            raise to_flink_error(error) from None
        physical = plan.split("== Optimized Physical Plan ==")[-1]
        found = _CHANGELOG.search(physical)
        if found and found.group(1) != "I":
            raise MlsqlError(f"table {call.table_sql} is updating (changelog mode "
                             f"[{found.group(1)}]), and Flink 2.2's ML_PREDICT reads only "
                             "append-only tables; compile with --predict udf", at=where)

    def _declare(self, model: ModelVersion, input_names: list[str],
                 types: tuple[str, ...]) -> str:
        """The temporary model for `model` read with INPUT `types`, declared on first use
        (its version copied into out_dir/models, as the UDF path does)."""
        key = (str(model.path), model.metadata.get("created_at"), types)
        if key in self.declared:
            return self.declared[key]
        base = f"mlsql_{_SAFE.sub('_', model.name)}_v{model.version}"
        taken = set(self.declared.values())
        identifier = base
        suffix = 2
        while identifier in taken:
            identifier = f"{base}_{suffix}"
            suffix += 1
        target = self.out_dir / "models" / model.name / f"v{model.version}"
        if not any(k[0] == key[0] for k in self.declared):
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(model.path, target)
        self.declared[key] = identifier
        inputs = ", ".join(f"{quote_identifier(n)} {t}"
                           for n, t in zip(input_names, types, strict=True))
        outputs = ", ".join(f"{quote_identifier(o['name'])} {o['type']}"
                            for o in model.metadata["outputs"])
        self.pending.append(
            f"CREATE TEMPORARY MODEL {quote_identifier(identifier)}\n"
            f"  INPUT ({inputs})\n  OUTPUT ({outputs})\n"
            f"  WITH ('provider' = '{PROVIDER}', 'path' = {quote_literal(str(target))})")
        return identifier


def _check_served(model: ModelVersion, where: Site) -> None:
    if has_transform(model):
        raise MlsqlError(f"model {model.name!r} has a TRANSFORM, which Flink's "
                         "ML_PREDICT cannot apply; compile with --predict udf", at=where)
    try:
        payload = jvm_payload(model)
    except NotJvmScorable as reason:
        raise MlsqlError(f"mlsql's model provider cannot serve model "
                         f"{model.name!r}: {reason}; compile with --predict udf",
                         at=where) from None
    if payload.get("task") not in SERVED_TASKS:
        raise MlsqlError(f"mlsql's model provider has no {payload.get('task')} "
                         f"outputs (model {model.name!r}); compile with --predict udf", at=where)


def _only(call) -> ir.FlinkStatement:
    """A statement holding just `call`'s span, for mlsql's planner."""
    field = {ir.EvaluateCall: "evaluates", ir.AnalysisCall: "analyses",
             ir.FeatureCall: "features"}[type(call)]
    return ir.FlinkStatement(text="", **{field: (call,)})


def _last_begin(planned: list[PlannedStatement]) -> int:
    """The index of the open statement set's BEGIN STATEMENT SET."""
    for index in range(len(planned) - 1, -1, -1):
        if planned[index].statement.first_words[:3] == ["BEGIN", "STATEMENT", "SET"]:
            return index
    raise AssertionError("no BEGIN STATEMENT SET before a statement inside a set")

"""`mlsql explain` and `mlsql compile`: a script planned without running any job.

Catalog statements and SET run (later statements need the tables); queries and INSERTs are
only rewritten; CREATE MODEL and the other registry statements have no plain-Flink form.
"""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from mlsql import ir
from mlsql.dialect import quote_literal
from mlsql.errors import MlsqlError
from mlsql.feature_functions.text import PYTHON_UDF_FUNCTIONS, UDF_PREFIX
from mlsql.flink_errors import to_flink_error
from mlsql.flink_types import to_data_type
from mlsql.jvm.build import scorer_jar
from mlsql.jvm.plan import SCORES_CLASS, SCORES_FUNCTION
from mlsql.parser import parse_script
from mlsql.planner.values import MAX_VALUES_ROWS
from mlsql.registry import ModelVersion
from mlsql.session import Session, is_job, is_query, leading_word
from mlsql.splitter import Statement
from udfs.predict import VERSION_FIELD

FUNCTIONS_MODULE = "mlsql_job_functions"
_PASSED_VERBATIM = (ir.SetOption, ir.ResetOption, ir.BeginStatementSet, ir.EndStatementSet)


@dataclass(frozen=True)
class PlannedStatement:
    statement: Statement
    sql: str | None  # what Flink runs; None for mlsql's own statements
    runs_job: bool


def plan_script(session: Session, script: str) -> list[PlannedStatement]:
    planned = []
    for statement, parsed in parse_script(script):
        if isinstance(parsed, ir.FlinkStatement):
            sql = session.plan(parsed)
            lead = leading_word(statement, parsed)
            runs_job = is_query(lead) or is_job(lead)
            if not runs_job:
                try:
                    session.runtime.execute_sql(sql, lead)
                except Exception as error:
                    raise to_flink_error(error) from None
            planned.append(PlannedStatement(statement, sql, runs_job))
        elif isinstance(parsed, _PASSED_VERBATIM):
            session.execute(statement, parsed)
            planned.append(PlannedStatement(statement, statement.text, False))
        else:
            planned.append(PlannedStatement(statement, None, False))
    return planned


def explain(session: Session, script: str) -> str:
    parts = []
    for item in plan_script(session, script):
        header = f"-- line {item.statement.line}"
        if item.sql is None:
            parts.append(f"{header}: run by mlsql, no Flink SQL form\n"
                         f"-- {item.statement.text.splitlines()[0]}")
            continue
        parts.append(f"{header}\n{item.sql};")
        if item.runs_job:
            try:
                plan = session.table_env.explain_sql(item.sql)
            except Exception as error:
                raise to_flink_error(error) from None
            parts.append("\n".join(f"-- {line}" for line in plan.splitlines()))
    return "\n\n".join(parts) + "\n"


def compile_job(session: Session, script: str, out_dir: Path, predict: str = "udf") -> Path:
    """Write out_dir/job.sql, runnable by a plain Flink SQL client with PyFlink installed,
    plus the model artifacts and the udfs package any pandas-UDF scoring needs. With
    predict="flink", ML_PREDICT is Flink's own over mlsql's model provider (no Python;
    mlsql.export_flink_models)."""
    udf_features = _python_feature_functions(script)
    if udf_features:
        raise MlsqlError(f"mlsql compile cannot write {', '.join(udf_features)} (pandas UDFs) "
                         "into a job yet; run the script with mlsql run")
    # The functions this script plans, not those of the session's earlier statements.
    session.context.predict_functions.clear()
    session.context.explain_functions.clear()
    session.context.jvm_models.clear()
    session.runtime.requested_functions.clear()
    out_dir = out_dir.resolve()
    flink_models = None
    if predict not in ("udf", "flink"):
        raise MlsqlError(f"predict must be 'udf' or 'flink', not {predict!r}")
    if predict == "flink":
        from mlsql.export_flink_models import FlinkModels

        flink_models = FlinkModels(session, out_dir)
        planned = flink_models.plan_script(script)
    else:
        planned = plan_script(session, script)
    if any(name.startswith(UDF_PREFIX) for name in session.runtime.requested_functions):
        raise MlsqlError("mlsql compile cannot write ML_NGRAMS or ML_HASHING_TF (pandas UDFs, "
                         "here in a model's stored TRANSFORM) into a job yet; run the script "
                         "with mlsql run")
    if session.context.plan_views:
        raise MlsqlError("mlsql compile cannot write a plan-time table of more than "
                         f"{MAX_VALUES_ROWS} rows (a long ROC curve or training history) into "
                         "job.sql; run the script with mlsql run")
    if session.context.explain_functions:
        raise MlsqlError("mlsql compile cannot write ML_EXPLAIN_PREDICT into a job yet; "
                         "run the script with mlsql run (or through mlsql gateway)")
    out_dir = out_dir.resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    functions = session.context.predict_functions
    lines = [f"-- Generated by mlsql compile; models copied into {out_dir / 'models'}.",
             # Flink's SQL client runs a script (-f) only in tableau mode.
             "SET 'sql-client.execution.result-mode' = 'tableau';"]
    if flink_models is not None:
        lines += flink_models.preamble()
    if functions:
        lines.append(f"SET 'python.files' = '{out_dir}';")
        # The interpreter that has the udfs' libraries, for the workers and for the client
        # that instantiates the functions; a cluster with its own can SET them.
        lines.append(f"SET 'python.executable' = '{sys.executable}';")
        lines.append(f"SET 'python.client.executable' = '{sys.executable}';")
        _write_functions(out_dir, functions)
        for name in functions:
            lines.append(f"CREATE TEMPORARY SYSTEM FUNCTION IF NOT EXISTS `{name}` AS "
                         f"'{FUNCTIONS_MODULE}.{name}' LANGUAGE PYTHON;")
    if session.context.jvm_models:
        lines += _jvm_functions(out_dir, session.context.jvm_models)
    for item in planned:
        if item.sql is None:
            text = item.statement.text.replace("\n", "\n-- ")
            lines.append(f"-- run by mlsql, not part of the job:\n-- {text}")
        else:
            lines.append(f"{_with_copied_models(item.sql, session.context.jvm_models, out_dir)};")
    job = out_dir / "job.sql"
    job.write_text("\n\n".join(lines) + "\n")
    return job


def _jvm_functions(out_dir: Path, models: dict[str, ModelVersion]) -> list[str]:
    """job.sql's lines for the JVM scorer: its jar and function; the versions it reads are
    copied beside the job (_with_copied_models points the calls at them)."""
    jar = scorer_jar()
    shutil.copyfile(jar, out_dir / jar.name)
    for model in models.values():
        _copy_model(out_dir, model)
    return [f"ADD JAR {quote_literal(str(out_dir / jar.name))};",
            f"CREATE TEMPORARY SYSTEM FUNCTION IF NOT EXISTS `{SCORES_FUNCTION}` AS "
            f"{quote_literal(SCORES_CLASS)} LANGUAGE JAVA;"]


def _with_copied_models(sql: str, models: dict[str, ModelVersion], out_dir: Path) -> str:
    for path, model in models.items():
        sql = sql.replace(quote_literal(path), quote_literal(str(_model_copy(out_dir, model))))
    return sql


def _model_copy(out_dir: Path, model: ModelVersion) -> Path:
    return out_dir / "models" / model.name / f"v{model.version}"


def _copy_model(out_dir: Path, model: ModelVersion) -> Path:
    target = _model_copy(out_dir, model)
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(model.path, target)
    return target


def _write_functions(out_dir: Path, functions: dict) -> None:
    import udfs

    shutil.copytree(Path(udfs.__file__).parent, out_dir / "udfs", dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__"))
    source = [
        '"""Scoring functions for job.sql, generated by mlsql compile."""',
        "import os",
        "",
        "from pyflink.table import DataTypes",
        "from pyflink.table.udf import udf",
        "",
        "from udfs.predict import ModelPredictFunction",
        "",
        "_HERE = os.path.dirname(os.path.abspath(__file__))",
    ]
    for name, model in functions.items():
        _copy_model(out_dir, model)
        fields = ", ".join(
            f"DataTypes.FIELD({o['name']!r}, DataTypes.{_type_call(o['type'])}())"
            for o in model.metadata["outputs"])
        fields += f", DataTypes.FIELD({VERSION_FIELD!r}, DataTypes.INT())"
        source += ["", f"{name} = udf(",
                   f"    ModelPredictFunction(os.path.join(_HERE, 'models', {model.name!r}, "
                   f"'v{model.version}'), {model.version}),",
                   f"    result_type=DataTypes.ROW([{fields}]), func_type='pandas')"]
    (out_dir / f"{FUNCTIONS_MODULE}.py").write_text("\n".join(source) + "\n")


def _type_call(flink_type: str) -> str:
    """The DataTypes factory for an output type: named like the type itself."""
    try:
        to_data_type(flink_type)
    except ValueError:
        raise MlsqlError(f"cannot export an output of type {flink_type}") from None
    return flink_type


def _python_feature_functions(script: str) -> list[str]:
    """The UDF-backed feature functions the script calls (found by the lexer, so never in a
    string or comment)."""
    found = {token.upper for statement, _ in parse_script(script) for token in statement.tokens
             if token.upper in PYTHON_UDF_FUNCTIONS}
    return sorted(found)

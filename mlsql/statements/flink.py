"""Flink's own statements (DDL, queries, INSERT, EXPLAIN ...), their ML spans rewritten."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
from pyflink.table import ResultKind, Table, TableResult
from pyflink.table.types import ArrayType, DataType, RowType

from mlsql.errors import FlinkError, MlsqlError
from mlsql.runtime.bad_data import explain_bad_data
from mlsql.runtime.collect import collect_rows
from mlsql.runtime.flink_errors import to_flink_error
from mlsql.runtime.job_handle import JobHandle
from mlsql.services.cluster import remote
from mlsql.statements.dispatch import Export, handles
from mlsql.statements.host import Host
from mlsql.syntax import ir
from mlsql.syntax.secrets import mask_message, mask_sql, secret_values
from mlsql.syntax.splitter import Statement
from mlsql.syntax.words import is_job, is_query, leading_word, statement_words


@handles(ir.FlinkStatement, export=Export.FLINK)
def run_flink(host: Host, statement: Statement, parsed: ir.FlinkStatement,
              collect: bool) -> pd.DataFrame | JobHandle | TableResult | None:
    """`collect=False` (the gateway, notebook previews) returns Flink's own TableResult for a
    query or a plain statement instead of collecting it into a DataFrame. A job that fails
    on a malformed record names the table, file and row (mlsql.runtime.bad_data)."""
    try:
        return _run(host, statement, parsed, collect)
    except FlinkError as error:
        raise explain_bad_data(error, statement.tokens, host.runtime.t_env) from None


def _run(host: Host, statement: Statement, parsed: ir.FlinkStatement,
         collect: bool) -> pd.DataFrame | JobHandle | TableResult | None:
    host.context.policy.check_statement(statement_words(statement))
    text = host.plan(parsed)
    # Flink's positions match the user's only when the text reached it unchanged.
    line, col = (statement.line, statement.col) if not parsed.has_ml else (None, None)
    lead = leading_word(statement, parsed)
    if lead == "CREATE":
        host.kafka.on_ddl(statement.tokens)
    elif is_query(lead) or is_job(lead):
        host.kafka.check_brokers(statement.tokens)
    if host.statement_set is not None and lead == "INSERT":
        host.statement_set.append(text)  # its plan-time views live until the set runs
        return None
    try:
        if is_query(lead) and collect:
            return _frame(host.runtime.sql_query(text))
        result = host.runtime.execute_sql(text, lead)
    except MlsqlError:
        raise
    except Exception as error:
        _check_jobmanager(host)
        raise to_flink_error(error, line, col) from None
    finally:
        if host.statement_set is None:
            host.context.drop_plan_views()
    if is_job(lead):
        return host.track(JobHandle(result, text))
    words = statement_words(statement)
    if words[:2] == ["SHOW", "CREATE"]:  # Flink prints the options verbatim
        return _masked(_content(result), mask_sql)
    if words[:1] == ["EXPLAIN"]:  # a plan shows hints' options as {key=value}
        values = secret_values(text)  # a value with spaces or commas outruns key=value
        return _masked(_content(result), lambda shown: mask_message(mask_sql(shown), values))
    return _content(result) if collect else result


def _check_jobmanager(host: Host) -> None:
    """A plain error when a failure is the cluster having gone away."""
    address = remote.address_from_options(host.runtime.options)
    reason = address and remote.unreachable(address)
    if reason:
        raise MlsqlError(f"the Flink JobManager at {address} stopped answering: "
                         f"{reason}") from None


def _frame(table: Table) -> pd.DataFrame:
    """A query's rows through Arrow, or row by row where a column holds an ARRAY of ROWs
    (ML_FORECAST's result), which PyFlink's Arrow conversion refuses."""
    if any(_array_of_rows(kind) for kind in table.get_schema().get_field_data_types()):
        return _content(table.execute())
    return table.to_pandas()


def _array_of_rows(kind: DataType) -> bool:
    if isinstance(kind, ArrayType):
        return isinstance(kind.element_type, RowType) or _array_of_rows(kind.element_type)
    if isinstance(kind, RowType):
        return any(_array_of_rows(field.data_type) for field in kind.fields)
    return False


def _masked(frame: pd.DataFrame | None, mask: Callable[[str], str]) -> pd.DataFrame | None:
    """A result whose text `mask` cleans of sensitive option values; collected always."""
    if frame is None:
        return None
    return frame.map(lambda value: mask(value) if isinstance(value, str) else value)


def _content(result: TableResult) -> pd.DataFrame | None:
    if result.get_result_kind() != ResultKind.SUCCESS_WITH_CONTENT:
        return None
    names = result.get_table_schema().get_field_names()
    data: list[list[Any]] = [list(row) for row in collect_rows(result)]
    return pd.DataFrame(data, columns=names)

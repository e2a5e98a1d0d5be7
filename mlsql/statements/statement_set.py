"""BEGIN STATEMENT SET ... END: the INSERTs between them run as one job."""

from __future__ import annotations

from mlsql.runtime.flink_errors import to_flink_error
from mlsql.runtime.job_handle import JobHandle
from mlsql.statements.dispatch import Export, handles
from mlsql.statements.host import Host
from mlsql.syntax import ir
from mlsql.syntax.splitter import Statement


@handles(ir.BeginStatementSet, export=Export.VERBATIM)
def begin(host: Host, statement: Statement, parsed: ir.BeginStatementSet,
          collect: bool) -> None:
    host.statement_set = []  # mlsql.statements.flink adds the INSERTs that follow


@handles(ir.EndStatementSet, export=Export.VERBATIM)
def end(host: Host, statement: Statement, parsed: ir.EndStatementSet,
        collect: bool) -> JobHandle | None:
    inserts, host.statement_set = host.statement_set or [], None
    if not inserts:
        return None
    statement_set = host.runtime.t_env.create_statement_set()
    try:
        for insert in inserts:
            statement_set.add_insert_sql(insert)
        result = statement_set.execute()
    except Exception as error:
        raise to_flink_error(error) from None
    finally:
        host.context.drop_plan_views()
    return host.track(JobHandle(result, "\n".join(inserts)))

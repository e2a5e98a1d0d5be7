"""A script planned for export: each statement's Flink SQL, or None where mlsql runs it.

Catalog statements and SET run in the planning session (later statements need the tables);
queries and INSERTs are only rewritten; CREATE MODEL and the other registry statements have
no plain-Flink form.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlsql.frontend.parser import parse_script
from mlsql.runtime.flink_errors import to_flink_error
from mlsql.session import Session
from mlsql.syntax import ir
from mlsql.syntax.splitter import Statement
from mlsql.syntax.words import is_job, is_query, leading_word

PASSED_VERBATIM = (ir.SetOption, ir.ResetOption, ir.BeginStatementSet, ir.EndStatementSet)


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
        elif isinstance(parsed, PASSED_VERBATIM):
            session.execute(statement, parsed)
            planned.append(PlannedStatement(statement, statement.text, False))
        else:
            planned.append(PlannedStatement(statement, None, False))
    return planned

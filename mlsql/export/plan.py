"""A script planned for export: each statement's Flink SQL, or None where mlsql runs it.

Each statement is exported as its handler says (mlsql.statements.dispatch.Export): catalog
statements and SET run in the planning session too (later statements need the tables); queries
and INSERTs are only rewritten; CREATE MODEL and the other registry statements have no
plain-Flink form.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlsql.errors import MlsqlError
from mlsql.runtime.flink_errors import to_flink_error
from mlsql.session import Session
from mlsql.statements.dispatch import Export
from mlsql.statements.script import Step, steps
from mlsql.syntax import ir
from mlsql.syntax.splitter import Statement


@dataclass(frozen=True)
class PlannedStatement:
    statement: Statement
    sql: str | None  # what Flink runs; None for mlsql's own statements
    runs_job: bool


class ScriptPlanner:
    """Plans a script statement by statement; subclasses change how a Flink statement's ML
    spans are written (mlsql.export.flink_models)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def plan_script(self, script: str) -> list[PlannedStatement]:
        planned: list[PlannedStatement] = []
        for step in steps(script):
            if step.export is Export.FLINK:
                planned.append(self.plan_flink(step, planned))
            elif step.export is Export.VERBATIM:
                self.session.execute(step.statement, step.parsed)
                planned.append(PlannedStatement(step.statement, step.statement.text, False))
            else:
                planned.append(PlannedStatement(step.statement, None, False))
        return planned

    def plan_flink(self, step: Step, planned: list[PlannedStatement]) -> PlannedStatement:
        assert isinstance(step.parsed, ir.FlinkStatement)
        sql = self.session.plan(step.parsed)
        if not step.runs_job:
            self.declare(step, sql)
        return PlannedStatement(step.statement, sql, step.runs_job)

    def declare(self, step: Step, sql: str) -> None:
        """Run a catalog statement in the planning session: later statements are planned
        against what it declares."""
        try:
            self.session.runtime.execute_sql(sql, step.leading_word or "")
        except MlsqlError:
            raise
        except Exception as error:
            raise to_flink_error(error) from None


def plan_script(session: Session, script: str) -> list[PlannedStatement]:
    return ScriptPlanner(session).plan_script(script)

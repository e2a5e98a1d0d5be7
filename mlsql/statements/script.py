"""The one statement loop: a script parsed whole (nothing runs before every statement
parses), then its steps, each run by its handler."""

from __future__ import annotations

from dataclasses import dataclass

from mlsql.errors import MlsqlError
from mlsql.frontend.parser import parse_script
from mlsql.statements.dispatch import Export, handler_for
from mlsql.syntax import ir
from mlsql.syntax.secrets import conceal
from mlsql.syntax.splitter import Statement
from mlsql.syntax.words import is_job, is_query, leading_word


def steps(script: str) -> list[Step]:
    """Every statement of `script`, parsed; SqlSyntaxError (line, column) before any runs,
    sensitive option values masked in it."""
    try:
        return [Step(statement, parsed) for statement, parsed in parse_script(script)]
    except MlsqlError as error:
        conceal(error, script)
        raise


@dataclass(frozen=True)
class Step:
    """One statement of a script, parsed."""
    statement: Statement
    parsed: ir.MlsqlStatement

    @property
    def leading_word(self) -> str | None:
        """The Flink statement's first word (SELECT, INSERT, CREATE ...); None for mlsql's."""
        if not isinstance(self.parsed, ir.FlinkStatement):
            return None
        return leading_word(self.statement, self.parsed)

    @property
    def is_query(self) -> bool:
        return self.leading_word is not None and is_query(self.leading_word)

    @property
    def runs_job(self) -> bool:
        """A query or an INSERT/EXECUTE: Flink runs a job for it."""
        word = self.leading_word
        return word is not None and (is_query(word) or is_job(word))

    @property
    def export(self) -> Export:
        return handler_for(self.parsed).export

"""What every planner module needs: the Flink runtime, the registry, a progress sink."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from mlsql.core.policy import TRUSTED, SessionPolicy
from mlsql.models.registry import ModelVersion, Registry
from mlsql.runtime.environment import FlinkRuntime
from mlsql.runtime.flink_errors import to_flink_error
from mlsql.runtime.flink_types import Column, table_columns
from mlsql.syntax.ir import Position


@dataclass
class PlanContext:
    runtime: FlinkRuntime
    registry: Registry
    progress: Callable[[str], None]
    policy: SessionPolicy = TRUSTED
    # The pandas UDFs planned so far (function name -> model version), for `mlsql compile`.
    predict_functions: dict[str, ModelVersion] = field(default_factory=dict)
    # The versions scored on the JVM so far (their directory -> version), for `mlsql compile`.
    jvm_models: dict[str, ModelVersion] = field(default_factory=dict)
    # The ML_EXPLAIN_PREDICT UDFs planned so far (mlsql compile cannot write them yet).
    explain_functions: dict[str, ModelVersion] = field(default_factory=dict)
    # Temporary views holding large plan-time tables of the statement being planned.
    plan_views: list[str] = field(default_factory=list)
    # One-line notices already given in this session (each is given once).
    notices: set[str] = field(default_factory=set)

    def notice_once(self, message: str) -> None:
        if message not in self.notices:
            self.notices.add(message)
            self.progress(message)

    def drop_plan_views(self) -> None:
        """Drop the plan-time tables' views once their statement's job has been built."""
        while self.plan_views:
            self.runtime.t_env.drop_temporary_view(self.plan_views.pop())

    def query_columns(self, query_sql: str, position: Position | None = None,
                      prefix: int = 0) -> list[Column]:
        """Resolve a query's columns with Flink's validator; no job runs. Flink's errors
        point into the script, where `query_sql[prefix:]` stands at `position`."""
        try:
            return table_columns(self.runtime.sql_query(query_sql))
        except Exception as error:
            line, col = (position.line, position.col) if position else (None, None)
            raise to_flink_error(error, line, col, prefix) from None

    def table_argument_columns(self, table_sql: str, position: Position) -> list[Column]:
        """The columns of an ML function's TABLE argument, written at `position`."""
        return self.query_columns(table_query(table_sql), position, len(_READ_TABLE))


_READ_TABLE = "SELECT * FROM "


def table_query(table_sql: str) -> str:
    """The query that reads an ML function's TABLE argument."""
    return _READ_TABLE + table_sql

"""What every planner module needs: the Flink runtime, the registry, a progress sink."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from mlsql.flink_errors import to_flink_error
from mlsql.flink_types import Column, table_columns
from mlsql.ir import Position
from mlsql.registry import ModelVersion, Registry
from mlsql.runtime import FlinkRuntime


@dataclass
class PlanContext:
    runtime: FlinkRuntime
    registry: Registry
    progress: Callable[[str], None]
    # The pandas UDFs planned so far (function name -> model version), for `mlsql compile`.
    predict_functions: dict[str, ModelVersion] = field(default_factory=dict)

    def query_columns(self, query_sql: str, position: Position | None = None) -> list[Column]:
        """Resolve a query's columns with Flink's validator; no job runs."""
        try:
            return table_columns(self.runtime.sql_query(query_sql))
        except Exception as error:
            line, col = (position.line, position.col) if position else (None, None)
            raise to_flink_error(error, line, col) from None

"""What a handler may use of the session that runs it (mlsql.session.Session is one)."""

from __future__ import annotations

from typing import Protocol

from mlsql.models.registry import Registry
from mlsql.planner.context import PlanContext
from mlsql.runtime.environment import FlinkRuntime
from mlsql.runtime.job_handle import JobHandle
from mlsql.services.cluster.rest import Address
from mlsql.services.kafka.tables import KafkaTables
from mlsql.syntax import ir


class Host(Protocol):
    runtime: FlinkRuntime
    registry: Registry
    context: PlanContext
    kafka: KafkaTables
    jobmanager: Address | None
    statement_set: list[str] | None  # the INSERTs between BEGIN STATEMENT SET and END

    def plan(self, parsed: ir.FlinkStatement) -> str: ...

    def track(self, job: JobHandle) -> JobHandle: ...

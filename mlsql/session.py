"""The Python entry point: `Session.sql(text)` runs plain Flink SQL and model statements."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd
from pyflink.table import Table, TableResult

from mlsql.core.policy import TRUSTED, SessionPolicy
from mlsql.errors import MlsqlError
from mlsql.models.registry import Registry, default_registry_path
from mlsql.planner.context import PlanContext
from mlsql.planner.rewrite import rewrite
from mlsql.runtime.environment import RUNTIME_MODE, FlinkRuntime
from mlsql.runtime.job_handle import JobHandle
from mlsql.services.cluster import remote
from mlsql.services.cluster.rest import Address
from mlsql.services.kafka.tables import KafkaTables
from mlsql.statements.dispatch import handler_for
from mlsql.statements.script import steps
from mlsql.syntax import ir
from mlsql.syntax.secrets import conceal
from mlsql.syntax.splitter import Statement
from mlsql.table_api import training

Result = pd.DataFrame | JobHandle | None


class Session:
    """One Flink TableEnvironment (the embedded mini-cluster by default) plus a registry.

    `registry`: the model registry directory (default: $MLSQL_REGISTRY or ~/.mlsql/registry).
    `mode`: 'streaming' (Flink's default) or 'batch'; `SET 'execution.runtime-mode'` changes it.
    `progress`: called with a line of text at each step of long work (training).
    `jobmanager`: 'HOST:PORT' of a Flink cluster's REST API: every job is submitted there
    instead of to the embedded mini-cluster (checked at once; see mlsql.services.cluster.remote).
    `policy`: what the session may import (default: everything; gateway sessions less).
    """

    def __init__(self, registry: str | os.PathLike[str] | None = None, *,
                 mode: str | None = None, options: dict[str, str] | None = None,
                 progress: Callable[[str], None] | None = None,
                 policy: SessionPolicy = TRUSTED, jobmanager: str | None = None) -> None:
        options = dict(options or {})
        if mode is not None:
            options[RUNTIME_MODE] = mode
        fixed: dict[str, str] = {}
        self.jobmanager: Address | None = None
        if jobmanager is not None:
            # The TaskManagers open model files by this path: never relative to our cwd.
            registry = Path(registry if registry is not None
                            else default_registry_path()).absolute()
            self.jobmanager, fixed = remote.connect(jobmanager, registry,
                                                    progress or (lambda _: None))
        self.registry = Registry(registry)
        self.runtime = FlinkRuntime(options, fixed=fixed)
        self.context = PlanContext(self.runtime, self.registry, progress or (lambda _: None),
                                   policy=policy)
        self.kafka = KafkaTables(self.runtime.set, self.runtime.options.get,
                                 self.context.progress)
        self.jobs: list[JobHandle] = []
        self.statement_set: list[str] | None = None  # between BEGIN STATEMENT SET and END
        self.runtime.adopt(self)  # so mlsql.ml_predict(table, ...) finds it from a Table

    @property
    def table_env(self):
        """Flink's TableEnvironment, for anything the SQL surface does not cover."""
        return self.runtime.t_env

    @property
    def in_statement_set(self) -> bool:
        """Between BEGIN STATEMENT SET and END."""
        return self.statement_set is not None

    def create_model(self, name: str, table: Table, *, model_type: str,
                     label: str | None = None, transform: Sequence[str] | None = None,
                     **options: object) -> Result:
        """CREATE MODEL `name` ... AS SELECT * FROM `table` (mlsql.table_api.training)."""
        return training.create_model(self, name, table, model_type=model_type, label=label,
                                     transform=transform, **options)

    def sql(self, text: str) -> Result:
        """Run one or more ';'-separated statements; returns the last statement's result."""
        result: Result = None
        for step in steps(text):
            result = self.execute(step.statement, step.parsed)
        return result

    def execute(self, statement: Statement, parsed: ir.MlsqlStatement, *,
                collect: bool = True) -> Result | TableResult:
        """Run one parsed statement by its handler (mlsql.statements). `collect=False` (the
        gateway) returns Flink's own TableResult for plain Flink statements and queries
        instead of collecting it into a DataFrame, so an unbounded query can be paged while
        it runs. Its errors never show the statement's sensitive option values."""
        try:
            return handler_for(parsed).run(self, statement, parsed, collect)
        except MlsqlError as error:
            conceal(error, statement.text)
            raise

    def wait_all(self) -> None:
        for job in self.jobs:
            job.wait()

    def plan(self, parsed: ir.FlinkStatement) -> str:
        """The statement as Flink will run it: ML spans rewritten, other bytes untouched."""
        return rewrite(parsed, self.context) if parsed.has_ml else parsed.text

    def track(self, job: JobHandle) -> JobHandle:
        """Keep a submitted job; wait for it in batch mode or with table.dml-sync."""
        self.jobs.append(job)
        sync = self.runtime.options.get("table.dml-sync", "false").lower() == "true"
        if self.runtime.is_batch or sync:
            job.wait()
        return job

"""The Python entry point: `Session.sql(text)` runs plain Flink SQL and model statements."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from pyflink.table import ResultKind, Table, TableResult

from mlsql import tuning
from mlsql.core.policy import TRUSTED, SessionPolicy
from mlsql.errors import MlsqlError
from mlsql.frontend.parser import parse_script
from mlsql.models.registry import Registry, default_registry_path
from mlsql.planner import manage, train
from mlsql.planner.context import PlanContext
from mlsql.planner.import_model import import_model
from mlsql.planner.rewrite import rewrite
from mlsql.runtime.environment import RUNTIME_MODE, FlinkRuntime, minicluster
from mlsql.runtime.flink_errors import to_flink_error
from mlsql.runtime.job_handle import JobHandle
from mlsql.services.cluster import jobs as cluster_jobs
from mlsql.services.cluster import remote
from mlsql.services.cluster.jobs import ShowJobs, StopJob, job_statement
from mlsql.services.cluster.local import default_savepoint_dir
from mlsql.services.cluster.rest import Address
from mlsql.services.kafka.tables import KafkaTables
from mlsql.streaming import online
from mlsql.syntax import ir
from mlsql.syntax.splitter import Statement
from mlsql.syntax.words import is_job, is_query, leading_word, statement_words
from mlsql.table_api import training
from mlsql.training.model_options import parse_options

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
        self._statement_set: list[str] | None = None
        self.runtime.adopt(self)  # so mlsql.ml_predict(table, ...) finds it from a Table

    @property
    def table_env(self):
        """Flink's TableEnvironment, for anything the SQL surface does not cover."""
        return self.runtime.t_env

    @property
    def in_statement_set(self) -> bool:
        """Between BEGIN STATEMENT SET and END."""
        return self._statement_set is not None

    def create_model(self, name: str, table: Table, *, model_type: str,
                     label: str | None = None, transform: Sequence[str] | None = None,
                     **options: object) -> Result:
        """CREATE MODEL `name` ... AS SELECT * FROM `table` (mlsql.table_api.training)."""
        return training.create_model(self, name, table, model_type=model_type, label=label,
                                     transform=transform, **options)

    def sql(self, text: str) -> Result:
        """Run one or more ';'-separated statements; returns the last statement's result."""
        result: Result = None
        for statement, parsed in parse_script(text):
            result = self.execute(statement, parsed)
        return result

    def execute(self, statement: Statement, parsed: ir.MlsqlStatement, *,
                collect: bool = True) -> Result | TableResult:
        """Run one parsed statement. `collect=False` (the gateway) returns Flink's own
        TableResult for plain Flink statements and queries instead of collecting it into a
        DataFrame, so an unbounded query can be paged while it runs."""
        match parsed:
            case ir.CreateModel():
                self.kafka.check_brokers(statement.tokens)
                split = tuning.split_options(parsed.option_map)
                model_type, options = parse_options(split.rest)
                if model_type.online:
                    tuning.tuner(split, model_type, options)  # refuses tuning options
                    job = online.start_training(parsed, model_type, options, self.context)
                    return job and self._track(job)
                return train.train(parsed, self.context).to_frame()
            case ir.ImportModel():
                return import_model(parsed, self.context)
            case ir.ShowModels():
                return manage.show_models(parsed, self.registry)
            case ir.DescribeModel():
                return manage.describe_model(parsed, self.context)
            case ir.ShowCreateModel():
                return manage.show_create_model(parsed, self.context)
            case ir.AlterModel():
                return manage.alter_model(parsed, self.registry)
            case ir.DropModel():
                return manage.drop_model(parsed, self.registry)
            case ir.SetOption(key=None):
                return pd.DataFrame(sorted(self.runtime.options.items()),
                                    columns=["key", "value"])
            case ir.SetOption():
                self.context.policy.check_option(parsed.key)
                self.runtime.set(parsed.key, parsed.value)
                return None
            case ir.ResetOption():
                self.runtime.reset(parsed.key)
                return None
            case ir.BeginStatementSet():
                self._statement_set = []
                return None
            case ir.EndStatementSet():
                return self._run_statement_set()
            case ir.FlinkStatement():
                return self._run_flink(statement, parsed, collect)
        raise MlsqlError(f"unsupported statement: {statement.text[:60]}")

    def wait_all(self) -> None:
        for job in self.jobs:
            job.wait()

    def plan(self, parsed: ir.FlinkStatement) -> str:
        """The statement as Flink will run it: ML spans rewritten, other bytes untouched."""
        return rewrite(parsed, self.context) if parsed.has_ml else parsed.text

    def _run_flink(self, statement: Statement, parsed: ir.FlinkStatement,
                   collect: bool = True) -> Result | TableResult:
        command = job_statement(statement)
        if command is not None:
            return self._run_job_command(command)
        self.context.policy.check_statement(statement_words(statement))
        text = self.plan(parsed)
        # Flink's positions match the user's only when the text reached it unchanged.
        line, col = (statement.line, statement.col) if not parsed.has_ml else (None, None)
        lead = leading_word(statement, parsed)
        if lead == "CREATE":
            self.kafka.on_ddl(statement.tokens)
        elif is_query(lead) or is_job(lead):
            self.kafka.check_brokers(statement.tokens)
        if self._statement_set is not None and lead == "INSERT":
            self._statement_set.append(text)  # its plan-time views live until the set runs
            return None
        try:
            if is_query(lead) and collect:
                return self.runtime.sql_query(text).to_pandas()
            result = self.runtime.execute_sql(text, lead)
        except MlsqlError:
            raise
        except Exception as error:
            self._check_jobmanager()
            raise to_flink_error(error, line, col) from None
        finally:
            if self._statement_set is None:
                self.context.drop_plan_views()
        if is_job(lead):
            return self._track(JobHandle(result, text))
        return _content(result) if collect else result

    def _run_job_command(self, command: ShowJobs | StopJob) -> pd.DataFrame | None:
        """SHOW JOBS / STOP JOB, which Flink runs only in its SQL gateway: mlsql asks the
        cluster's REST API, as the gateway asks its cluster client."""
        address = remote.address_from_options(self.runtime.options)
        local_port = minicluster.started_port()
        if address is None and local_port is not None:  # the process's shared mini-cluster
            address = Address(minicluster.HOST, local_port)
        if address is None:
            what = "SHOW JOBS" if isinstance(command, ShowJobs) else "STOP JOB"
            raise MlsqlError(f"{what} needs a cluster that outlives a job: with "
                             f"{minicluster.MODE_VARIABLE}={minicluster.PER_JOB} each local "
                             "job has a mini-cluster of its own; unset it, or submit to a "
                             "cluster with --jobmanager HOST:PORT")
        if isinstance(command, ShowJobs):
            return cluster_jobs.show_jobs(address)
        savepoints = self.runtime.options.get(cluster_jobs.SAVEPOINT_DIR)
        if savepoints is None and local_port is not None:
            savepoints = default_savepoint_dir().as_uri()
        return cluster_jobs.stop_job(address, command, savepoints)

    def _check_jobmanager(self) -> None:
        """A plain error when a failure is the cluster having gone away."""
        address = remote.address_from_options(self.runtime.options)
        reason = address and remote.unreachable(address)
        if reason:
            raise MlsqlError(f"the Flink JobManager at {address} stopped answering: "
                             f"{reason}") from None

    def _run_statement_set(self) -> Result:
        inserts, self._statement_set = self._statement_set or [], None
        if not inserts:
            return None
        statement_set = self.runtime.t_env.create_statement_set()
        try:
            for insert in inserts:
                statement_set.add_insert_sql(insert)
            result = statement_set.execute()
        except Exception as error:
            raise to_flink_error(error) from None
        finally:
            self.context.drop_plan_views()
        return self._track(JobHandle(result, "\n".join(inserts)))

    def _track(self, job: JobHandle) -> JobHandle:
        self.jobs.append(job)
        sync = self.runtime.options.get("table.dml-sync", "false").lower() == "true"
        if self.runtime.is_batch or sync:
            job.wait()
        return job


def _content(result: TableResult) -> pd.DataFrame | None:
    if result.get_result_kind() != ResultKind.SUCCESS_WITH_CONTENT:
        return None
    names = result.get_table_schema().get_field_names()
    with result.collect() as rows:
        data: list[list[Any]] = [list(row) for row in rows]
    return pd.DataFrame(data, columns=names)

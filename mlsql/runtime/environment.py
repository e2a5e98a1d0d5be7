"""The Flink TableEnvironment behind a session, with SQL-client-style SET/RESET.

Flink fixes a TableEnvironment's runtime mode when it is created, while the SQL client lets
`SET 'execution.runtime-mode'` change it mid-session. We do the same by building a new
environment and replaying the session's catalog statements (CREATE/ALTER/DROP/USE ...) and
mlsql's function registrations into it. Without a mode change nothing is replayed.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from pyflink.common import Configuration
from pyflink.table import EnvironmentSettings, Table, TableEnvironment, TableResult
from pyflink.table.udf import UserDefinedFunctionWrapper, udf

from mlsql.core.paths import default_checkpoint_dir
from mlsql.errors import MlsqlError
from mlsql.runtime import class_archive, minicluster
from mlsql.runtime.flink_types import to_data_type
from mlsql.runtime.planner_thread import pin_current_thread, pinned_connection
from mlsql.runtime.worker_noise import quiet_cancelled_workers
from mlsql.services.flink_dist.home import PYFLINK_PROCESS_VARIABLES
from mlsql.syntax.dialect import quote_identifier, quote_literal
from mlsql.syntax.lexer import tokenize

RUNTIME_MODE = "execution.runtime-mode"
_REPLAYED_WORDS = {"CREATE", "DROP", "ALTER", "USE", "LOAD", "UNLOAD"}


# Streaming: Flink's Python runner waits up to 1 s (or 100k rows) before it ships a bundle
# to the worker, which shows up as latency (DESIGN.md: p99 71 ms at 1,000 events/s, 12 ms
# with 5 ms bundles). Batch mode keeps Flink's throughput-oriented defaults.
STREAMING_PYTHON_OPTIONS = {
    "python.fn-execution.bundle.time": "5",
    "python.fn-execution.bundle.size": "1000",
}
# Streaming: a network buffer waits up to 100 ms (Flink's default) to fill before it is sent;
# a pipeline with four keyed exchanges (the fraud feature view) paid that on each:
# p50 157 ms / p99 356 ms at 1,000 events/s, against 1 ms / 43 ms with buffers flushed at
# once (tests/benchmarks/streaming.py).
STREAMING_NETWORK_OPTIONS = {"execution.buffer-timeout.interval": "5 ms"}


def default_options() -> dict[str, str]:
    return {
        RUNTIME_MODE: "streaming",
        "execution.checkpointing.dir": default_checkpoint_dir().as_uri(),
        # Flink's workers must run the interpreter that has mlsql's udfs installed.
        "python.executable": sys.executable,
        "python.client.executable": sys.executable,
        # Pandas UDFs pay per batch: measured with an Arrow-writing UDF, 1k-row batches
        # (Flink's default) ran at 100k rows/s, 10k-row batches at 250k rows/s.
        "python.fn-execution.arrow.batch.size": "10000",
    }


# Where jobs run: given to Flink when a TableEnvironment is created, not by a later config.set.
DEPLOYMENT_KEYS = ("execution.target", "rest.address", "rest.port")
_LOCAL_TARGETS = ("local", "minicluster")


class FlinkRuntime:
    """`fixed`: options the session keeps through RESET (the JobManager it submits to)."""

    def __init__(self, options: dict[str, str] | None = None, *,
                 fixed: dict[str, str] | None = None, worker_processes: bool = False) -> None:
        """`worker_processes`: Python UDFs run in processes the TaskManager starts, also on
        the local mini-cluster (where they otherwise run in this process)."""
        _clean_environment()
        quiet_cancelled_workers()
        self._fixed = dict(fixed or {})
        self._worker_processes = worker_processes
        self.options = self._defaults() | (options or {})
        self._validate_mode(self.options[RUNTIME_MODE])
        self._catalog_statements: list[str] = []
        self._functions: dict[str, UserDefinedFunctionWrapper] = {}
        self._java_functions: dict[str, tuple[str, Path]] = {}  # name -> (class, jar)
        # Every function a plan asked for since the caller last cleared it (mlsql compile).
        self.requested_functions: set[str] = set()
        self.owner: object | None = None  # the Session, kept alive by its environments
        self._t_env = self._create_env()

    @property
    def t_env(self) -> TableEnvironment:
        """The session's TableEnvironment. py4j closes the creating thread's connection when a
        call is interrupted (Ctrl-C, a notebook's interrupt); its JVM thread, the only one the
        planner can plan on, is gone with it, so the environment is built again
        (mlsql.runtime.planner_thread)."""
        own = self._planner_connection
        if own is not None and not own.is_connected and pinned_connection() is not None:
            self._rebuild()
        return self._t_env

    def owns(self, t_env: TableEnvironment) -> bool:
        """Whether `t_env` is this runtime's current TableEnvironment."""
        return t_env is self._t_env

    def adopt(self, owner: object) -> None:
        """Every environment of this runtime refers to `owner` (a Table holds its
        environment, so a Table keeps its Session alive)."""
        self.owner = owner
        self._t_env._mlsql_owner = owner

    @property
    def mode(self) -> str:
        return self.options[RUNTIME_MODE].lower()

    @property
    def is_batch(self) -> bool:
        return self.mode == "batch"

    def set(self, key: str, value: str) -> None:
        if key == RUNTIME_MODE:
            self._validate_mode(value)
            changed = value.lower() != self.mode
            self.options[key] = value.lower()
            if changed:
                self._rebuild()
            return
        self.options[key] = value
        self.t_env.get_config().set(key, value)

    def reset(self, key: str | None) -> None:
        defaults = self._defaults()
        if key is None:
            self.options = defaults
        elif key in defaults:
            self.options[key] = defaults[key]
        else:
            self.options.pop(key, None)
        self._rebuild()

    def execute_sql(self, statement: str, leading_word: str = "") -> TableResult:
        result = self.t_env.execute_sql(statement)
        if leading_word.upper() in _REPLAYED_WORDS and not creates_table_from_query(statement):
            self._catalog_statements.append(statement)
        return result

    def sql_query(self, query: str) -> Table:
        return self.t_env.sql_query(query)

    def batch_twin(self, options: dict[str, str]) -> FlinkRuntime:
        """A new runtime in batch mode with this session's catalog and functions, `options`
        on top, whose Python UDFs run in worker processes of their own: for a job whose
        Python tasks must each be a process (a training collective), holding no rows here."""
        twin = FlinkRuntime(self.options | options | {RUNTIME_MODE: "batch"},
                            fixed=self._fixed, worker_processes=True)
        twin._functions = dict(self._functions)
        twin._java_functions = dict(self._java_functions)
        twin._catalog_statements = list(self._catalog_statements)
        twin._replay()
        return twin

    def ensure_function(self, name: str,
                        build: Callable[[], UserDefinedFunctionWrapper]) -> None:
        self.requested_functions.add(name)
        if name not in self._functions:
            function = build()
            self.t_env.create_temporary_function(name, function)
            self._functions[name] = function

    def ensure_pandas_function(self, name: str, function: Callable[..., Any],
                               result_type: str) -> None:
        """A vectorized (pandas) Python UDF returning `result_type` (SQL text, such as
        'ARRAY<STRING>'), registered once under `name`."""
        self.ensure_function(name, lambda: udf(function, result_type=to_data_type(result_type),
                                               func_type="pandas"))

    def ensure_java_function(self, name: str, class_name: str, jar: Path) -> None:
        """A temporary system function implemented by `class_name` in `jar`, which is added
        to the session (and shipped with its jobs) first."""
        self.requested_functions.add(name)
        if name not in self._java_functions:
            self._register_java_function(name, class_name, jar)
            self._java_functions[name] = (class_name, jar)

    def _register_java_function(self, name: str, class_name: str, jar: Path) -> None:
        if jar not in {j for _, j in self._java_functions.values()}:
            self.t_env.execute_sql(f"ADD JAR {quote_literal(str(jar))}")
        self.t_env.execute_sql(f"CREATE TEMPORARY SYSTEM FUNCTION {quote_identifier(name)} "
                               f"AS {quote_literal(class_name)} LANGUAGE JAVA")

    def _defaults(self) -> dict[str, str]:
        return default_options() | self._fixed

    def _create_env(self) -> TableEnvironment:
        pin_current_thread()  # this thread plans on the JVM thread that creates it
        self._planner_connection = None
        builder = EnvironmentSettings.new_instance()
        builder = builder.in_batch_mode() if self.is_batch else builder.in_streaming_mode()
        deployment = {k: self.options[k] for k in DEPLOYMENT_KEYS if k in self.options}
        local = deployment.get("execution.target", "local").lower() in _LOCAL_TARGETS
        if local:
            deployment = minicluster.deployment_options(self.options)
        if deployment:
            configuration = Configuration()
            for key, value in deployment.items():
                configuration.set_string(key, value)
            builder = builder.with_configuration(configuration)
        if local and not self._worker_processes:  # Python UDFs run in this process
            t_env = TableEnvironment.create(builder.build())  # (PyFlink's loopback workers)
        else:
            with _python_workers_on_taskmanagers():
                t_env = TableEnvironment.create(builder.build())
        config = t_env.get_config()
        mode_defaults = ({} if self.is_batch
                         else STREAMING_PYTHON_OPTIONS | STREAMING_NETWORK_OPTIONS)
        for key, value in (mode_defaults | self.options).items():
            if key != RUNTIME_MODE:
                config.set(key, value)
        self._planner_connection = pinned_connection()
        t_env._mlsql_owner = self.owner
        return t_env

    def _rebuild(self) -> None:
        self._t_env = self._create_env()
        self._replay()

    def _replay(self) -> None:
        """Register the session's functions and run its catalog statements again."""
        for name, function in self._functions.items():
            self.t_env.create_temporary_function(name, function)
        java_functions, self._java_functions = self._java_functions, {}
        for name, (class_name, jar) in java_functions.items():
            self._register_java_function(name, class_name, jar)
            self._java_functions[name] = (class_name, jar)
        for statement in self._catalog_statements:
            try:
                self.t_env.execute_sql(statement)
            except Exception as error:  # an external catalog may hold it already
                if "already exist" not in str(error):
                    raise

    @staticmethod
    def _validate_mode(value: str) -> None:
        if value.lower() not in ("streaming", "batch"):
            raise MlsqlError(f"{RUNTIME_MODE} must be 'streaming' or 'batch', not {value!r}")


def _clean_environment() -> None:
    """Before this process starts its JVM: forget a parent's PyFlink variables, map mlsql's
    class archive if `mlsql install` built one, and treat an empty JAVA_HOME as unset (PyFlink
    would run '$JAVA_HOME/bin/java', i.e. 'bin/java')."""
    from pyflink import java_gateway

    if java_gateway._gateway is None:  # no JVM of ours yet: these are a parent's
        for variable in PYFLINK_PROCESS_VARIABLES:
            os.environ.pop(variable, None)
        class_archive.use_if_built()
    if os.environ.get("JAVA_HOME", None) == "":
        del os.environ["JAVA_HOME"]


@contextlib.contextmanager
def _python_workers_on_taskmanagers() -> Iterator[None]:
    """PyFlink decides when it creates a TableEnvironment whether Python UDFs run in this
    process: its execution environment says 'local' whatever the target (the job reaches
    the cluster all the same), so it starts a "loopback" worker server here and every Python
    UDF of the job calls back into this process, failing once it exits. PyFlink's own switch
    for workers started by the TaskManagers is this environment variable, read at creation."""
    previous = os.environ.get(_WORKER_MODE)
    os.environ[_WORKER_MODE] = "process"
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(_WORKER_MODE, None)
        else:
            os.environ[_WORKER_MODE] = previous


_WORKER_MODE = "_python_worker_execution_mode"


def creates_table_from_query(statement: str) -> bool:
    """CREATE [OR REPLACE] [TEMPORARY] TABLE ... AS <query> runs a job, and replaying it would
    run the job again. Its AS is the one outside parentheses (computed columns and watermarks
    have theirs inside), whatever the query starts with: SELECT, WITH, VALUES or '('."""
    tokens = tokenize(statement)
    if not any(token.is_word("TABLE") for token in tokens[:5]):
        return False
    depth = 0
    for token in tokens:
        if token.is_punct("("):
            depth += 1
        elif token.is_punct(")"):
            depth -= 1
        elif depth == 0 and token.is_word("AS"):
            return True
    return False

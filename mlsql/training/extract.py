"""Move a bounded query's rows out of Flink in bulk, with progress while the job runs."""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable

import pandas as pd
from pyflink.table import DataTypes
from pyflink.table.udf import udf

from mlsql.dialect import quote_identifier
from mlsql.flink_errors import to_flink_error
from mlsql.flink_types import Column
from mlsql.runtime import FlinkRuntime
from udfs.extract import ArrowBatchWriter, read_batches, rows_written

_SINK = "__mlsql_extract_sink"
_POLL_SECONDS = 1.0


def extract(runtime: FlinkRuntime, query_sql: str, columns: list[Column],
            expressions: list[str], progress: Callable[[str], None]) -> pd.DataFrame:
    """Run `SELECT expressions FROM (query_sql)` and return its rows as a DataFrame.

    The rows leave Flink through ArrowBatchWriter, a vectorized UDF that writes Arrow files
    from inside the workers (measured 250k rows/s here, against 471 rows/s for collect()).
    """
    directory = tempfile.mkdtemp(prefix="mlsql-extract-")
    names = [c.name for c in columns]
    function = f"__mlsql_extract_{uuid.uuid4().hex[:8]}"
    writer = udf(ArrowBatchWriter(directory, names), result_type=DataTypes.INT(),
                 func_type="pandas")
    t_env = runtime.t_env
    t_env.create_temporary_function(function, writer)
    try:
        t_env.execute_sql(f"CREATE TEMPORARY TABLE IF NOT EXISTS {_SINK} (n INT) "
                          "WITH ('connector' = 'blackhole')")
        started = time.monotonic()
        result = t_env.execute_sql(
            f"INSERT INTO {_SINK} SELECT {function}({', '.join(expressions)}) "
            f"FROM ({query_sql}) AS {quote_identifier('__mlsql_training_rows')}")
        _wait_with_progress(result, directory, started, progress)
        table = read_batches(directory, names)
        seconds = time.monotonic() - started
        progress(f"extracted {table.num_rows:,} rows in {seconds:.1f} s "
                 f"({table.num_rows / max(seconds, 1e-9):,.0f} rows/s)")
        return table.to_pandas()
    finally:
        t_env.drop_temporary_function(function)
        shutil.rmtree(directory, ignore_errors=True)


def _wait_with_progress(result, directory: str, started: float,
                        progress: Callable[[str], None]) -> None:
    """Wait for the job in a thread (a local job's mini-cluster is gone once it ends, so
    its status cannot be polled) and report the rows written meanwhile."""
    failure: list[BaseException] = []

    def wait() -> None:
        try:
            result.wait()
        except BaseException as error:
            failure.append(error)

    waiter = threading.Thread(target=wait, name="mlsql-extract-wait", daemon=True)
    waiter.start()
    reported = -1
    while waiter.is_alive():
        waiter.join(_POLL_SECONDS)
        rows = rows_written(directory)
        if waiter.is_alive() and rows != reported:
            progress(f"extracting training rows: {rows:,} "
                     f"({time.monotonic() - started:.0f} s)")
            reported = rows
    if failure:
        raise to_flink_error(failure[0]) from None

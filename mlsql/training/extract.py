"""Move a bounded query's rows out of Flink in bulk, with progress while the job runs."""

from __future__ import annotations

import shutil
import tempfile
import time
import uuid
from collections.abc import Callable

import pandas as pd
from pyflink.table import DataTypes
from pyflink.table.udf import udf

from mlsql.dialect import quote_identifier
from mlsql.flink_types import Column
from mlsql.jobs import JobHandle
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
        insert = (f"INSERT INTO {_SINK} SELECT {function}({', '.join(expressions)}) "
                  f"FROM ({query_sql}) AS {quote_identifier('__mlsql_training_rows')}")
        _wait_with_progress(JobHandle(t_env.execute_sql(insert), insert), directory, started,
                            progress)
        table = read_batches(directory, names)
        seconds = time.monotonic() - started
        progress(f"extracted {table.num_rows:,} rows in {seconds:.1f} s "
                 f"({table.num_rows / max(seconds, 1e-9):,.0f} rows/s)")
        return table.to_pandas()
    finally:
        t_env.drop_temporary_function(function)
        shutil.rmtree(directory, ignore_errors=True)


def _wait_with_progress(job: JobHandle, directory: str, started: float,
                        progress: Callable[[str], None]) -> None:
    """Report the rows written while the job runs; raises Flink's error if it failed."""
    reported = -1
    while not job.done():
        job.wait(_POLL_SECONDS)
        rows = rows_written(directory)
        if not job.done() and rows != reported:
            progress(f"extracting training rows: {rows:,} "
                     f"({time.monotonic() - started:.0f} s)")
            reported = rows
    job.wait()

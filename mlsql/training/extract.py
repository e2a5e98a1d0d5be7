"""Move a bounded query's rows out of Flink in bulk, with progress while the job runs.

The rows leave through Flink's own filesystem sink as CSV (flink-csv ships with PyFlink) and
are read back by pyarrow's multithreaded CSV reader. Measured on 1M rows x 9 columns: 430k
rows/s end to end, against 109k rows/s for an Arrow-writing pandas UDF (the Python worker was
the bottleneck) and 471 rows/s for collect().
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv

from mlsql.core.progress import Step
from mlsql.errors import SchemaError
from mlsql.runtime.environment import FlinkRuntime
from mlsql.runtime.flink_types import Column, table_columns
from mlsql.runtime.job_handle import JobHandle
from mlsql.syntax.dialect import quote_identifier, quote_literal

_POLL_SECONDS = 1.0
_TASK = "extract"
# Written for SQL NULL, so that an empty string stays an empty string.
_NULL = "__mlsql_null__"
_ARROW_TYPES = {
    "BOOLEAN": pa.bool_(), "TINYINT": pa.int64(), "SMALLINT": pa.int64(),
    "INTEGER": pa.int64(), "BIGINT": pa.int64(), "FLOAT": pa.float64(),
    "DOUBLE": pa.float64(), "VARCHAR": pa.string(), "CHAR": pa.string(),
}


class TooManyRows(Exception):
    """The query has more rows than the caller asked to hold in memory."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"more than {limit:,} rows")
        self.limit = limit


def extract(runtime: FlinkRuntime, query_sql: str, columns: list[Column],
            expressions: list[str], progress: Callable[[str], None],
            row_limit: int | None = None,
            poll: Callable[[], None] | None = None) -> pd.DataFrame:
    """Run `SELECT expressions FROM (query_sql)` and return its rows as a DataFrame whose
    columns are named after `columns`.

    With `row_limit`, the job is cancelled and TooManyRows raised as soon as more rows than
    that have been written. `poll` is called about once a second while the job runs;
    what it raises cancels the job.
    """
    names = [c.name for c in columns]
    aliases = [f"c{i}" for i in range(len(expressions))]
    projected = ", ".join(f"{e} AS {a}" for e, a in zip(expressions, aliases, strict=True))
    rows_alias = quote_identifier("__mlsql_training_rows")
    select = f"SELECT {projected} FROM ({query_sql}) AS {rows_alias}"
    types = table_columns(runtime.sql_query(select))
    for name, column in zip(names, types, strict=True):
        if column.root not in _ARROW_TYPES:
            raise SchemaError(f"column {name!r} has type {column.type}, which training cannot "
                              "read; cast it to a number or a string")

    directory = tempfile.mkdtemp(prefix="mlsql-extract-")
    sink = f"__mlsql_extract_{uuid.uuid4().hex[:8]}"
    schema = ", ".join(f"{a} {c.type}" for a, c in zip(aliases, types, strict=True))
    t_env = runtime.t_env
    t_env.execute_sql(
        f"CREATE TEMPORARY TABLE {sink} ({schema}) WITH ('connector' = 'filesystem', "
        f"'path' = {quote_literal(directory)}, 'format' = 'csv', "
        f"'csv.null-literal' = {quote_literal(_NULL)})")
    try:
        started = time.monotonic()
        insert = f"INSERT INTO {sink} {select}"
        counter = _LineCounter(directory)
        _wait_with_progress(JobHandle(t_env.execute_sql(insert), insert), counter, started,
                            progress, row_limit, poll)
        table = _read_csv(directory, aliases, types)
        seconds = time.monotonic() - started
        progress(Step(f"extracted {table.num_rows:,} rows in {seconds:.1f} s "
                      f"({table.num_rows / max(seconds, 1e-9):,.0f} rows/s)", _TASK,
                      table.num_rows, table.num_rows, "rows"))
        frame = table.to_pandas()
        frame.columns = names
        return frame
    finally:
        t_env.execute_sql(f"DROP TEMPORARY TABLE IF EXISTS {sink}")
        shutil.rmtree(directory, ignore_errors=True)


def fetch(runtime: FlinkRuntime, select_sql: str,
          poll: Callable[[], None] | None = None) -> pd.DataFrame:
    """A small query's result, e.g. a row of aggregates. Through the CSV sink: measured 5.1 s
    for a row of 200 SUMs, against 16.7 s for Table.to_pandas() (per-column work in PyFlink).
    `poll`: as for extract."""
    columns = table_columns(runtime.sql_query(select_sql))
    return extract(runtime, select_sql, columns,
                   [quote_identifier(c.name) for c in columns], lambda _: None, poll=poll)


class _LineCounter:
    """Counts the lines written so far under a directory, reading only the new bytes."""

    def __init__(self, directory: str) -> None:
        self.directory = Path(directory)
        self._seen: dict[Path, tuple[int, int]] = {}  # path -> (bytes read, lines)

    def lines(self) -> int:
        counted: dict[Path, tuple[int, int]] = {}
        # os.walk skips directories that vanish while it walks (Flink moves its staging
        # directory into place when the job commits).
        for root, _, names in os.walk(self.directory):
            for name in names:
                path = Path(root, name)
                try:
                    size = path.stat().st_size
                    offset, lines = self._seen.get(path, (0, 0))
                    if size > offset:
                        with path.open("rb") as handle:
                            handle.seek(offset)
                            lines += handle.read(size - offset).count(b"\n")
                    counted[path] = (max(size, offset), lines)
                except FileNotFoundError:  # moved between listing and reading
                    continue
        self._seen = counted
        return sum(lines for _, lines in counted.values())


def _wait_with_progress(job: JobHandle, counter: _LineCounter, started: float,
                        progress: Callable[[str], None], row_limit: int | None,
                        poll: Callable[[], None] | None = None) -> None:
    """Report the rows written while the job runs; raises Flink's error if it failed."""
    reported = -1
    while not job.done():
        job.wait(_POLL_SECONDS)
        if job.done():
            break
        if poll is not None:
            try:
                poll()
            except BaseException:
                job.cancel()
                raise
        rows = counter.lines()
        if row_limit is not None and rows > row_limit:
            job.cancel()
            raise TooManyRows(row_limit)
        if rows != reported:
            try:
                progress(Step(f"extracting training rows: {rows:,} "
                              f"({time.monotonic() - started:.0f} s)", _TASK, rows, None,
                              "rows"))
            except BaseException:  # the training was stopped (a cancel): so is its job
                job.cancel()
                raise
            reported = rows
    job.wait()


def _read_csv(directory: str, aliases: list[str], types: list[Column]) -> pa.Table:
    files = sorted(p for p in Path(directory).rglob("*")
                   if p.is_file() and not any(part.startswith(".") for part in
                                              p.relative_to(directory).parts))
    arrow_types = {a: _ARROW_TYPES[c.root] for a, c in zip(aliases, types, strict=True)}
    has_strings = any(t == pa.string() for t in arrow_types.values())
    read_options = pa_csv.ReadOptions(column_names=aliases)
    parse_options = pa_csv.ParseOptions(newlines_in_values=has_strings)
    convert_options = pa_csv.ConvertOptions(
        column_types=arrow_types, null_values=[_NULL], strings_can_be_null=True,
        true_values=["true"], false_values=["false"])
    tables = [pa_csv.read_csv(path, read_options, parse_options, convert_options)
              for path in files if os.path.getsize(path) > 0]
    if not tables:
        return pa.table({a: pa.array([], type=t) for a, t in arrow_types.items()})
    return pa.concat_tables(tables)

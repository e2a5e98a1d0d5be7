"""When a job fails on a malformed record, name the table, the file and the row.

Flink's CSV and JSON formats say only which field failed ("Fail to deserialize at field: x1.:
For input string: "abc"", "Row length mismatch. 4 fields expected but was 3."). After such a
failure mlsql reads the files of the filesystem tables the statement names, with the tables'
schemas, and finds the first row Flink could not have read; for a Kafka table it names the
topic. The error keeps Flink's words and gains the table's place in the statement.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from mlsql.errors import FlinkError, Position, Site
from mlsql.syntax.lexer import Kind, Token

_BAD_RECORD = re.compile(r"deserializ|Row length mismatch|For input string|JsonParseException"
                         r"|Unexpected character|Cannot parse", re.IGNORECASE)
_MAX_LINES = 20_000_000  # a scan stops here: the error then says so
_INTEGERS = {"TinyIntType", "SmallIntType", "IntType", "BigIntType"}
_FLOATS = {"FloatType", "DoubleType"}
_TIMESTAMPS = {"TimestampType", "LocalZonedTimestampType"}


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # the PyFlink DataType's class name (DoubleType, IntType ...)
    sql: str  # its SQL spelling, for the message


@dataclass(frozen=True)
class BadRow:
    file: Path
    line: int
    problem: str


def explain_bad_data(error: FlinkError, tokens: Sequence[Token], t_env: Any) -> FlinkError:
    """`error`, or, when it is a record Flink could not read and a table the statement names
    holds it, an error naming the table, its file and row (or topic), at the table's place."""
    if not _BAD_RECORD.search(error.message):
        return error
    for name, token in _named_tables(tokens, t_env):
        options = _options(t_env, name)
        connector = options.get("connector", "")
        where = Site(f"table {name}", Position(token.line, token.col))
        if connector == "filesystem":
            path = Path(options.get("path", "").removeprefix("file://"))
            bad = first_bad_row(path, options, _columns(t_env, name))
            if bad is not None:
                return FlinkError(f"{bad.file}, line {bad.line}: {bad.problem} (Flink: "
                                  f"{error.message})", at=where)
        elif connector in ("kafka", "upsert-kafka"):
            topic = options.get("topic") or options.get("topic-pattern") or "?"
            return FlinkError(f"a record of Kafka topic {topic!r} is not valid "
                              f"{options.get('format') or options.get('value.format')}: "
                              f"{error.message}", at=where)
    return error


def first_bad_row(path: Path, options: dict[str, str],
                  columns: Sequence[Column]) -> BadRow | None:
    """The first row of the table's files that its format cannot read as `columns`."""
    fmt = options.get("format", "")
    for file in _files(path):
        if fmt == "csv":
            bad = _first_bad_csv_row(file, options, columns)
        elif fmt == "json":
            bad = _first_bad_json_row(file, columns)
        else:
            return None
        if bad is not None:
            return bad
    return None


def _first_bad_csv_row(file: Path, options: dict[str, str],
                       columns: Sequence[Column]) -> BadRow | None:
    delimiter = options.get("csv.field-delimiter", ",")
    quote = options.get("csv.quote-character", '"')
    null = options.get("csv.null-literal")
    with file.open(newline="", encoding="utf-8", errors="replace") as handle:
        reader = csv.reader(handle, delimiter=delimiter, quotechar=quote)
        for number, row in enumerate(reader, start=1):
            if number > _MAX_LINES:
                return None
            if not row or (options.get("csv.allow-comments") == "true"
                           and row[0].startswith("#")):
                continue
            if len(row) != len(columns):
                return BadRow(file, reader.line_num, f"{len(row)} fields, the table has "
                                                     f"{len(columns)} ({_names(columns)})")
            for column, value in zip(columns, row, strict=True):
                if value == null or value == "":
                    continue
                problem = _unreadable(column, value)
                if problem:
                    return BadRow(file, reader.line_num, problem)
    return None


def _first_bad_json_row(file: Path, columns: Sequence[Column]) -> BadRow | None:
    with file.open(encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            if number > _MAX_LINES:
                return None
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                return BadRow(file, number, f"not JSON ({error.msg} at character "
                                            f"{error.colno})")
            if not isinstance(record, dict):
                return BadRow(file, number, "not a JSON object")
            for column in columns:
                value = record.get(column.name)
                if isinstance(value, str) and value:
                    problem = _unreadable(column, value)
                    if problem:
                        return BadRow(file, number, problem)
    return None


def _unreadable(column: Column, value: str) -> str | None:
    """Why `value` is not a `column` value, or None when it reads."""
    text = value.strip()
    try:
        if column.kind in _INTEGERS:
            int(text)
        elif column.kind in _FLOATS:
            float(text)
        elif column.kind == "DecimalType":
            Decimal(text)
        elif column.kind == "DateType":
            dt.date.fromisoformat(text)
        elif column.kind in _TIMESTAMPS:
            dt.datetime.fromisoformat(text)
        else:
            return None
    except (ValueError, InvalidOperation):
        return f"field {column.name} is {value!r}, which is not {column.sql}"
    return None


def _named_tables(tokens: Sequence[Token], t_env: Any) -> Iterator[tuple[str, Token]]:
    """The session's tables (and views' tables are not followed) that the statement names,
    with the first token naming each."""
    tables = {name.lower(): name for name in t_env.list_tables()}
    seen: set[str] = set()
    for token in tokens:
        if token.kind not in (Kind.WORD, Kind.QUOTED):
            continue
        name = tables.get(token.value.lower())
        if name is not None and name not in seen:
            seen.add(name)
            yield name, token


def _options(t_env: Any, name: str) -> dict[str, str]:
    from pyflink.table.catalog import ObjectPath

    try:
        catalog = t_env.get_catalog(t_env.get_current_catalog())
        table = catalog.get_table(ObjectPath(t_env.get_current_database(), name))
        return dict(table.get_options())
    except Exception:  # a view, or a catalog that keeps no options
        return {}


def _columns(t_env: Any, name: str) -> list[Column]:
    schema = t_env.from_path(name).get_schema()
    return [Column(field, type(data_type).__name__, str(data_type))
            for field, data_type in zip(schema.get_field_names(),
                                        schema.get_field_data_types(), strict=True)]


def _files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file()
                      and not p.name.startswith((".", "_")))
    return []


def _names(columns: Sequence[Column]) -> str:
    return ", ".join(c.name for c in columns)

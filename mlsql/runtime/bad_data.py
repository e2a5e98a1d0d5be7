"""When a job fails on a malformed record, name the table, the file and the row.

Flink's CSV and JSON formats say only which field failed ("Fail to deserialize at field: x1.:
For input string: "abc"", "Row length mismatch. 4 fields expected but was 3."). After such a
failure mlsql reads the files of the filesystem tables the statement names, with the tables'
schemas, and finds the first row Flink could not have read; for a Kafka table it reads the
topic (mlsql.services.kafka.records) and names the partition and offset of the first record
Flink could not have read. The error keeps Flink's words and gains the table's place in the
statement.
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
from mlsql.services.kafka.records import records
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
            return FlinkError(_kafka_message(options, _columns(t_env, name), error.message),
                              at=where)
    return error


def _kafka_message(options: dict[str, str], columns: Sequence[Column], flink: str) -> str:
    topic = options.get("topic") or options.get("topic-pattern") or "?"
    fmt = options.get("format") or options.get("value.format") or "?"
    bootstrap = options.get("properties.bootstrap.servers")
    if bootstrap and "topic" in options and fmt in ("json", "csv"):
        for record in records(bootstrap, topic, limit=_MAX_LINES):
            problem = _record_problem(record.value, fmt, options, columns)
            if problem:
                # The job may have started later in the topic (scan.startup.mode).
                return (f"Kafka topic {topic!r}, partition {record.partition}, offset "
                        f"{record.offset}: {problem} (the topic's first record that does not "
                        f"read; Flink: {flink})")
    return f"a record of Kafka topic {topic!r} is not valid {fmt}: {flink}"


def _record_problem(value: bytes | None, fmt: str, options: dict[str, str],
                    columns: Sequence[Column]) -> str | None:
    """Why one Kafka record's value is not a row of the table, or None when it reads."""
    if value is None:
        return None  # a tombstone: Flink's formats read it as no row
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError:
        return "not UTF-8 text"
    if fmt == "json":
        return _json_problem(text, columns)
    rows = list(csv.reader([text], delimiter=options.get("csv.field-delimiter", ","),
                           quotechar=options.get("csv.quote-character", '"')))
    return _csv_problem(rows[0] if rows else [], options, columns)


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
    with file.open(newline="", encoding="utf-8", errors="replace") as handle:
        reader = csv.reader(handle, delimiter=delimiter, quotechar=quote)
        for number, row in enumerate(reader, start=1):
            if number > _MAX_LINES:
                return None
            if not row or (options.get("csv.allow-comments") == "true"
                           and row[0].startswith("#")):
                continue
            problem = _csv_problem(row, options, columns)
            if problem:
                return BadRow(file, reader.line_num, problem)
    return None


def _csv_problem(row: list[str], options: dict[str, str],
                 columns: Sequence[Column]) -> str | None:
    if len(row) != len(columns):
        return f"{len(row)} fields, the table has {len(columns)} ({_names(columns)})"
    null = options.get("csv.null-literal")
    for column, value in zip(columns, row, strict=True):
        if value == null:
            continue
        if value == "" and _reads_text(column):
            continue
        problem = (f"field {column.name} is empty, which is not {column.sql} (set "
                   "'csv.null-literal' = '' to read empty fields as NULL)" if value == ""
                   else _unreadable(column, value))
        if problem:
            return problem
    return None


def _reads_text(column: Column) -> bool:
    """Whether Flink's CSV format reads an empty field of this column (as '')."""
    return column.kind in ("VarCharType", "CharType", "BinaryType", "VarBinaryType")


def _first_bad_json_row(file: Path, columns: Sequence[Column]) -> BadRow | None:
    with file.open(encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            if number > _MAX_LINES:
                return None
            problem = _json_problem(line, columns) if line.strip() else None
            if problem:
                return BadRow(file, number, problem)
    return None


def _json_problem(text: str, columns: Sequence[Column]) -> str | None:
    try:
        record = json.loads(text)
    except json.JSONDecodeError as error:
        return f"not JSON ({error.msg} at character {error.colno})"
    if not isinstance(record, dict):
        return "not a JSON object"
    for column in columns:
        value = record.get(column.name)
        if isinstance(value, str) and value:
            problem = _unreadable(column, value)
            if problem:
                return problem
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


def _catalog_table(t_env: Any, name: str) -> Any:
    """The session's catalog entry for `name`; raises for one the catalog cannot give."""
    from pyflink.table.catalog import ObjectPath

    catalog = t_env.get_catalog(t_env.get_current_catalog())
    return catalog.get_table(ObjectPath(t_env.get_current_database(), name))


def _options(t_env: Any, name: str) -> dict[str, str]:
    try:
        return dict(_catalog_table(t_env, name).get_options())
    except Exception:  # a view, or a catalog that keeps no options
        return {}


def _columns(t_env: Any, name: str) -> list[Column]:
    """The table's physical columns: those its format reads (not computed or metadata)."""
    schema = t_env.from_path(name).get_schema()
    physical = _physical_names(t_env, name)
    return [Column(field, type(data_type).__name__, str(data_type))
            for field, data_type in zip(schema.get_field_names(),
                                        schema.get_field_data_types(), strict=True)
            if physical is None or field in physical]


def _physical_names(t_env: Any, name: str) -> set[str] | None:
    try:
        table = _catalog_table(t_env, name)
        columns = table._j_catalog_base_table.getUnresolvedSchema().getColumns()
        return {column.getName() for column in columns
                if column.getClass().getSimpleName() == "UnresolvedPhysicalColumn"}
    except Exception:  # a view, or a catalog that keeps no schema: every column counts
        return None


def _files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file()
                      and not p.name.startswith((".", "_")))
    return []


def _names(columns: Sequence[Column]) -> str:
    return ", ".join(c.name for c in columns)

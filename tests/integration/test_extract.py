"""Bulk extraction returns exactly the rows Flink produced: values, NULLs and types."""

from __future__ import annotations

import math
import time

import pytest

from mlsql.compiler.sql import double
from mlsql.runtime.flink_types import Column
from mlsql.syntax.dialect import quote_literal
from mlsql.training.extract import TooManyRows, extract

pytestmark = pytest.mark.slow

TRICKY_STRINGS = ["", "a,b", 'say "hi"', "two\nlines", "NaN", "null", " padded ", "é ü 漢"]


def test_values_round_trip(batch_session):
    doubles = [0.1 + 0.2, 1e-300, -1.7976931348623157e308, 123456789.123456789, 0.0]
    rows = [f"({i}, {double(d)}, {_string(s)}, {'TRUE' if i % 2 else 'FALSE'})"
            for i, (d, s) in enumerate(zip(doubles * 2, TRICKY_STRINGS, strict=False))]
    rows.append("(CAST(NULL AS INT), CAST(NULL AS DOUBLE), CAST(NULL AS STRING), "
                "CAST(NULL AS BOOLEAN))")
    query = f"SELECT * FROM (VALUES {', '.join(rows)}) AS t(i, d, s, b)"
    columns = [Column(n, "", "") for n in ("i", "d", "s", "b")]
    frame = extract(batch_session.runtime, query, columns, ["i", "d", "s", "b"],
                    lambda _: None).sort_values("i", na_position="last")
    assert len(frame) == len(TRICKY_STRINGS) + 1
    assert frame["s"].tolist()[:-1] == TRICKY_STRINGS
    expected = (doubles * 2)[: len(TRICKY_STRINGS)]
    assert frame["d"].tolist()[:-1] == expected  # bit for bit
    assert frame["b"].tolist()[:-1] == [bool(i % 2) for i in range(len(TRICKY_STRINGS))]
    last = frame.iloc[-1]
    assert last.isna().all() or all(v is None or (isinstance(v, float) and math.isnan(v))
                                    for v in last)


def test_row_limit_cancels_the_job(batch_session):
    batch_session.sql("CREATE TEMPORARY TABLE endless (x DOUBLE, y BIGINT) WITH ("
                      "'connector' = 'datagen', 'number-of-rows' = '1000000000')")
    started = time.monotonic()
    with pytest.raises(TooManyRows) as raised:
        extract(batch_session.runtime, "SELECT * FROM endless",
                [Column("x", "", ""), Column("y", "", "")], ["x", "y"], lambda _: None,
                row_limit=10_000)
    assert raised.value.limit == 10_000
    assert time.monotonic() - started < 60  # a billion rows would take hours


def _string(value: str) -> str:
    return " || CHR(10) || ".join(quote_literal(part) for part in value.split("\n"))

"""Which catalog statements a mode change replays
(mlsql.runtime.environment): never one that runs a job."""

from __future__ import annotations

import pytest

from mlsql.runtime.environment import creates_table_from_query


@pytest.mark.parametrize("statement", [
    "CREATE TABLE t WITH ('connector' = 'blackhole') AS SELECT 1 AS x",
    "CREATE TABLE t AS WITH s AS (SELECT 1 AS x) SELECT * FROM s",
    "CREATE TABLE t AS VALUES (1), (2)",
    "CREATE TABLE t AS (SELECT 1 AS x)",
    "create or replace table t as\n  select 1 as x",
    "CREATE TEMPORARY TABLE t (x INT, y AS x + 1) WITH ('connector' = 'blackhole') "
    "AS SELECT 1 AS x",
])
def test_table_as_a_query_is_a_job(statement):
    assert creates_table_from_query(statement)


@pytest.mark.parametrize("statement", [
    "CREATE TABLE t (x INT, y AS x + 1, ts TIMESTAMP(3), "
    "WATERMARK FOR ts AS ts - INTERVAL '1' SECOND) WITH ('connector' = 'datagen')",
    "CREATE TABLE t WITH ('path' = '/data/as select') LIKE s",
    "CREATE VIEW v AS SELECT 1 AS x",
    "CREATE TEMPORARY FUNCTION f AS 'com.example.F'",
    "CREATE TABLE `as` (x INT) WITH ('connector' = 'datagen') -- AS SELECT",
])
def test_other_statements_are_not(statement):
    assert not creates_table_from_query(statement)

"""Kafka tables in a session: WITH options, view dependencies, the connector jar, brokers."""

from __future__ import annotations

import os
import socket
import time

import pytest

from mlsql.errors import FlinkError, MlsqlError
from mlsql.services.jars import bundle
from mlsql.services.kafka.tables import KafkaTables, created_object, with_options
from mlsql.streaming.checkpoints import latest_checkpoint
from mlsql.syntax.splitter import split_statements


def tokens(sql: str):
    return split_statements(sql)[0].tokens


def test_with_options_reads_quoted_pairs_only():
    ddl = ("CREATE TABLE t (a INT, s STRING) WITH ('connector' = 'kafka', -- 'x' = 'y'\n"
           "'properties.bootstrap.servers' = 'h:1', 'it''s' = 'v')")
    assert with_options(tokens(ddl)) == {"connector": "kafka",
                                         "properties.bootstrap.servers": "h:1", "it's": "v"}


@pytest.mark.parametrize(("sql", "expected"), [
    ("CREATE TABLE t (a INT)", ("TABLE", "t")),
    ("CREATE TEMPORARY TABLE IF NOT EXISTS cat.db.`Tx` (a INT)", ("TABLE", "tx")),
    ("CREATE OR REPLACE TEMPORARY VIEW v AS SELECT 1", ("VIEW", "v")),
    ("CREATE FUNCTION f AS 'x'", None),
    ("SELECT 1", None),
])
def test_created_object(sql, expected):
    assert created_object(tokens(sql)) == expected


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _tables(options: dict[str, str]) -> KafkaTables:
    return KafkaTables(options.__setitem__, options.get, lambda _: None)


def test_a_users_own_connector_jar_is_kept_and_brokers_are_checked_through_views():
    port = _closed_port()
    options = {"pipeline.jars": "file:///opt/flink-sql-connector-kafka-5.0.0-2.2.jar"}
    kafka = _tables(options)
    kafka.on_ddl(tokens(f"CREATE TABLE src (x INT) WITH ('connector' = 'upsert-kafka', "
                        f"'properties.bootstrap.servers' = '127.0.0.1:{port}')"))
    kafka.on_ddl(tokens("CREATE VIEW v1 AS SELECT x FROM src"))
    kafka.on_ddl(tokens("CREATE VIEW v2 AS SELECT * FROM v1"))
    assert options["pipeline.jars"] == "file:///opt/flink-sql-connector-kafka-5.0.0-2.2.jar"
    kafka.check_brokers(tokens("SELECT 1 FROM other"))  # does not touch src
    with pytest.raises(FlinkError, match=f"mlsql kafka start --port {port}"):
        kafka.check_brokers(tokens("INSERT INTO sink SELECT * FROM v2"))


def test_a_table_redefined_without_kafka_is_forgotten():
    options = {"pipeline.jars": "kafka.jar"}
    kafka = _tables(options)
    kafka.on_ddl(tokens(f"CREATE TABLE t (x INT) WITH ('connector' = 'kafka', "
                        f"'properties.bootstrap.servers' = '127.0.0.1:{_closed_port()}')"))
    kafka.on_ddl(tokens("CREATE TABLE t (x INT) WITH ('connector' = 'datagen')"))
    kafka.check_brokers(tokens("SELECT * FROM t"))


def test_latest_checkpoint_is_the_newest_complete_one(tmp_path):
    with pytest.raises(MlsqlError, match="no completed checkpoint"):
        latest_checkpoint(tmp_path)
    old = tmp_path / "job-a" / "chk-9"
    new = tmp_path / "job-b" / "chk-2"
    unfinished = tmp_path / "job-b" / "chk-3"
    for directory in (old, new, unfinished):
        directory.mkdir(parents=True)
    (old / "_metadata").write_text("x")
    (new / "_metadata").write_text("x")
    past = time.time() - 60
    os.utime(old / "_metadata", (past, past))
    assert latest_checkpoint(tmp_path.as_uri()) == new
    assert latest_checkpoint(new) == new  # a savepoint directory as it is


def test_bundle_versions_come_from_the_pom():
    assert bundle("kafka-broker").version.startswith("4.")
    assert bundle("kafka-connector").version.endswith("-2.2")  # PyFlink's minor

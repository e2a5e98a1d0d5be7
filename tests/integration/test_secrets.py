"""Sensitive option values (Flink's rule: keys with 'password', 'secret', 'jaas.config', ...)
never reach what mlsql shows: SHOW CREATE TABLE, SET's listing, errors, the registry's
stored training query and SHOW CREATE / DESCRIBE MODEL. What runs is unchanged."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from mlsql.errors import FlinkError, SqlSyntaxError
from tests.helpers import create_csv_table

pytestmark = pytest.mark.slow

PASSWORD = "Pw7f3a91"
JAAS = ("org.apache.kafka.common.security.plain.PlainLoginModule required "
        "username=\"u\" password=\"Jaas-55e2\";")


def test_show_create_table_masks_sensitive_options(batch_session):
    batch_session.sql(
        "CREATE TABLE sec_table (a INT) WITH ('connector' = 'filesystem', 'path' = '/tmp/x',"
        f" 'format' = 'csv', 'password' = '{PASSWORD}', "
        f"'properties.sasl.jaas.config' = '{JAAS.replace(chr(39), chr(39) * 2)}')")
    shown = batch_session.sql("SHOW CREATE TABLE sec_table").iloc[0, 0]
    assert PASSWORD not in shown and "Jaas-55e2" not in shown
    assert "'password' = '******'" in shown
    assert "'properties.sasl.jaas.config' = '******'" in shown
    assert "'path' = '/tmp/x'" in shown


def test_set_lists_sensitive_options_masked(batch_session):
    batch_session.sql(f"SET 's3.secret-key' = '{PASSWORD}'")
    try:
        listed = batch_session.sql("SET").set_index("key")["value"]
    finally:
        batch_session.sql("RESET 's3.secret-key'")
    assert listed["s3.secret-key"] == "******"
    assert listed["execution.runtime-mode"] == "batch"


@pytest.mark.parametrize(("kind", "options", "error"), [
    ("TABLE", f"'password' = {PASSWORD})", FlinkError),  # Flink quotes the word it meets
    ("TABLE", f"'password' = '{PASSWORD})", SqlSyntaxError),  # left open: the lexer's line
    ("MODEL", f"'password' = '{PASSWORD}' x)", SqlSyntaxError),  # mlsql's parser's line
])
def test_errors_never_show_the_value(batch_session, kind, options, error):
    with pytest.raises(error) as caught:
        batch_session.sql(f"CREATE {kind} sec_bad WITH ('connector' = 'datagen', {options} "
                          "AS SELECT 1 AS a" if kind == "MODEL" else
                          f"CREATE {kind} sec_bad (a INT) WITH ('connector' = 'datagen', "
                          f"{options}")
    assert PASSWORD not in str(caught.value) and PASSWORD not in repr(caught.value)
    assert "******" in str(caught.value)


def test_models_store_and_show_the_query_masked(batch_session):
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"x": rng.normal(size=60)})
    frame["y"] = (frame["x"] > 0).astype(int)
    create_csv_table(batch_session, "sec_train", frame, batch_session.data_dir)
    # A string compared with a 'token' literal stands in for an OPTIONS hint's secret
    # (a Kafka source's 'properties.sasl.jaas.config'): the same text, masked alike.
    batch_session.sql(
        "CREATE MODEL sec_model WITH ('model_type' = 'logistic_reg', 'label' = 'y') AS "
        f"SELECT x, y FROM sec_train WHERE 'token' = '{PASSWORD}' OR x IS NOT NULL")
    created = batch_session.sql("SHOW CREATE MODEL sec_model").iloc[0, 0]
    described = batch_session.sql("DESCRIBE MODEL sec_model")
    stored = batch_session.registry.resolve("sec_model").path / "metadata.json"
    for text in (created, described.to_string(), stored.read_text()):
        assert PASSWORD not in text
    assert json.loads(stored.read_text())["query"] == (
        "SELECT x, y FROM sec_train WHERE 'token' = '******' OR x IS NOT NULL")


def test_explain_shows_the_statements_masked(batch_session):
    from mlsql.export import explain

    shown = explain(batch_session, "CREATE TEMPORARY TABLE sec_explained (a INT) WITH ("
                                   f"'connector' = 'datagen', 'token' = '{PASSWORD}')")
    assert PASSWORD not in shown and "'token' = '******'" in shown


@pytest.mark.kafka  # Flink's Kafka connector jar (resolved on first use), no broker
def test_explain_and_show_create_view_mask_a_hints_options(tmp_path):
    import mlsql

    session = mlsql.Session(registry=tmp_path / "registry", mode="batch")
    session.sql("CREATE TABLE sec_kafka (a INT) WITH ('connector' = 'kafka', 'topic' = 't', "
                "'properties.bootstrap.servers' = '127.0.0.1:1', 'format' = 'json', "
                "'scan.startup.mode' = 'earliest-offset', 'scan.bounded.mode' = 'latest-offset')")
    hinted = ("SELECT * FROM sec_kafka "
              f"/*+ OPTIONS('properties.ssl.key.password' = '{PASSWORD}') */")
    plan = session.sql(f"EXPLAIN {hinted}").iloc[0, 0]
    session.sql(f"CREATE VIEW sec_view AS {hinted}")
    view = session.sql("SHOW CREATE VIEW sec_view").iloc[0, 0]
    assert PASSWORD not in plan and "{properties.ssl.key.password=******}" in plan
    assert PASSWORD not in view and "'properties.ssl.key.password' = '******'" in view

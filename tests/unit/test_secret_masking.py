"""Sensitive option values are masked as Flink masks them (mlsql.syntax.sensitive, .secrets)."""

from __future__ import annotations

import pickle

import pytest

from mlsql.errors import FlinkError, SqlSyntaxError
from mlsql.notebook.cells import _describe, _in_the_cell
from mlsql.notebook.params import bind_placeholders
from mlsql.runtime.flink_errors import to_flink_error
from mlsql.syntax.lexer import tokenize
from mlsql.syntax.secrets import conceal, mask_message, mask_sql, secret_values
from mlsql.syntax.sensitive import SENSITIVE_KEYS, is_sensitive, mask_options
from mlsql.syntax.splitter import split_statements

JAAS = ("org.apache.kafka.common.security.plain.PlainLoginModule required "
        "username=\"u\" password=\"JaasPw99\";")


@pytest.mark.parametrize("key", [
    "password", "PASSWORD", "properties.ssl.keystore.password", "properties.sasl.jaas.config",
    "s3.secret-key", "fs.azure.account.key.acct.dfs.core.windows.net", "apikey", "my.api-key",
    "auth-params", "service-key", "token", "Http-Headers", "basic-auth"])
def test_flink_sensitive_keys(key):
    assert is_sensitive(key)


@pytest.mark.parametrize("key", ["connector", "path", "properties.bootstrap.servers",
                                 "format", "user", "key.fields", "topic"])
def test_other_keys_are_not_sensitive(key):
    assert not is_sensitive(key)


def test_the_rule_is_flinks_list():
    assert SENSITIVE_KEYS == ("password", "secret", "fs.azure.account.key", "apikey", "api-key",
                              "auth-params", "service-key", "token", "basic-auth", "jaas.config",
                              "http-headers")


def test_mask_options():
    assert mask_options({"connector": "kafka", "Password": "pw", "token": 3}) == {
        "connector": "kafka", "Password": "******", "token": "******"}


def test_with_clause_values_are_masked_and_the_rest_kept():
    sql = ("CREATE TABLE t (a INT) WITH (\n  'connector' = 'kafka',\n"
           f"  'properties.sasl.jaas.config' = '{JAAS}',\n  'PASSWORD'='pw1234',\n"
           "  'topic' = 'password'\n)")
    assert mask_sql(sql) == (
        "CREATE TABLE t (a INT) WITH (\n  'connector' = 'kafka',\n"
        "  'properties.sasl.jaas.config' = '******',\n  'PASSWORD'='******',\n"
        "  'topic' = 'password'\n)")


def test_quoting_rules_are_the_lexers():
    # '' inside a value, adjacent literals (Flink joins them), a comment, a hint.
    sql = ("SELECT * FROM t /*+ OPTIONS('secret'='it''s, '' here' 'and more') */ "
           "-- 'password' = 'in a comment'\nWHERE s = 'token'")
    assert mask_sql(sql) == ("SELECT * FROM t /*+ OPTIONS('secret'='******') */ "
                             "-- 'password' = 'in a comment'\nWHERE s = 'token'")
    assert secret_values(sql) == {"it's, ' here", "and more", "it's, ' hereand more"}


def test_a_quoted_key_is_not_a_value():
    sql = "CREATE TABLE t WITH ('user' = 'password', 'path' = '/x')"
    assert mask_sql(sql) == sql


def test_an_unquoted_value_is_masked():
    sql = "WITH ('password' = pw-1234, 'token' = 12345, 'a' = b)"
    assert mask_sql(sql) == "WITH ('password' = ******, 'token' = ******, 'a' = b)"
    assert mask_sql("('secret' = x 'y', 'token' = E'z')") == \
        "('secret' = ****** 'y', 'token' = '******')"
    assert secret_values(sql) == {"pw", "-", "1234", "pw-1234", "12345"}
    assert mask_message('Encountered "pw" at line 1, column 9; 1234-',
                        secret_values(sql)) == 'Encountered "******" at line 1, column 9; ******-'



def test_set_statements():
    assert mask_sql("SET 'token' = 'abc'") == "SET 'token' = '******'"
    assert mask_sql("SET s3.secret-key = abc.def;\nSET a = b") == \
        "SET s3.secret-key = ******;\nSET a = b"
    assert mask_sql("SET 'parallelism.default' = '2'") == "SET 'parallelism.default' = '2'"


def test_an_unterminated_value_is_masked_to_the_end():
    assert mask_sql("WITH ('x' = 'y', 'password' = 'pw1234)\n more") == \
        "WITH ('x' = 'y', 'password' = '******'"


def test_a_syntax_error_never_shows_the_unterminated_secret():
    with pytest.raises(SqlSyntaxError) as caught:
        tokenize("CREATE TABLE t\nWITH ('password' = 'pw1234)\n")
    assert str(caught.value) == ("SQL syntax error at line 2, column 20: unterminated string "
                                 "literal\n  WITH ('password' = '******\n                     ^")
    with pytest.raises(SqlSyntaxError) as caught:
        tokenize("SELECT 'plain text")
    assert caught.value.source_line == "SELECT 'plain text"


def test_messages():
    message = ("Table options are:\n\n'connector'='kafka'\n'password' = 'pw1234'\n"
               f"props {{sasl.jaas.config={JAAS}, group.id=g}} token=\"x y\"")
    masked = mask_message(message)
    assert masked == ("Table options are:\n\n'connector'='kafka'\n'password' = '******'\n"
                      "props {sasl.jaas.config=****** required username=\"u\" "
                      "password=******;, group.id=g} token=******")


def test_values_from_the_statement_are_masked_anywhere():
    sql = "CREATE TABLE t WITH ('secret' = 'it''s4321', 'x' = 'abc', 'token' = 'ab')"
    assert mask_message("bad value it's4321 (it''s4321) in abc, ab",
                        secret_values(sql)) == "bad value ****** (******) in abc, ab"


def test_conceal_masks_message_args_and_source_line():
    sql = "CREATE TABLE t WITH ('password' = 'pw1234' oops)"
    error = conceal(FlinkError("could not use pw1234"), sql)
    assert str(error) == "could not use ******" and "pw1234" not in repr(error)
    assert "pw1234" not in str(pickle.loads(pickle.dumps(error)))
    syntax = conceal(SqlSyntaxError("unexpected oops", 1, 44, sql), sql)
    assert "pw1234" not in str(syntax) and "'password' = '******' oops" in str(syntax)


def test_flink_errors_are_masked():
    error = to_flink_error(Exception("org.apache.flink.table.api.ValidationException: bad "
                                     "table: 'connector'='x', 'password'='pw1234'"))
    assert str(error) == "bad table: 'connector'='x', 'password'='******'"


def test_a_notebook_cell_shows_its_line_masked():
    cell = "CREATE MODEL m WITH ('password' = 'pw1234' :oops) AS SELECT 1"
    bound = bind_placeholders(cell, {"oops": 1})
    error = SqlSyntaxError("unexpected '1'", 1, 44, bound.text)
    shown = _in_the_cell(error, bound, cell)
    assert "pw1234" not in shown and "'password' = '******' :oops" in shown


def test_a_notebook_names_a_running_statement_masked():
    statement = split_statements("SET 'token' = 'pw1234'")[0]
    assert _describe(statement) == "SET 'token' = '******'"


def test_the_gateway_masks_an_error_that_is_not_mlsqls():
    from mlsql.gateway.worker import _shown

    statement = "CREATE TABLE t (a INT) WITH ('connector' = 'x', 'password' = 'Pw7f3a91')"
    shown = _shown(RuntimeError(f"py4j: could not run {statement}"), statement)
    assert shown.startswith("builtins.RuntimeError: py4j: could not run")
    assert "Pw7f3a91" not in shown and "******" in shown


def test_a_value_with_spaces_and_commas_is_masked_whole_in_a_plan():
    sql = "SELECT * FROM t /*+ OPTIONS('password' = 'ab cd,ef') */"
    shown = mask_message("options:{password=ab cd,ef, connector=x}", secret_values(sql))
    assert shown == "options:{password=******, connector=x}"

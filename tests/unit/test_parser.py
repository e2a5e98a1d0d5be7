import re

import pytest

from mlsql.errors import SqlSyntaxError
from mlsql.frontend.parser import parse_one, parse_script
from mlsql.syntax import ir


def test_create_model_with_options_and_query_verbatim():
    sql = ("CREATE OR REPLACE MODEL fraud WITH ('model_type' = 'logistic_reg', "
           "'label' = 'is_fraud', 'max_iter' = '50')\nAS SELECT a, `b`, TIMESTAMP '2024-01-01' "
           "FROM t /* keep */ WHERE x = 'it''s'")
    statement = parse_one(sql)
    assert isinstance(statement, ir.CreateModel)
    assert statement.name == "fraud" and statement.or_replace and not statement.if_not_exists
    assert statement.option_map == {"model_type": "logistic_reg", "label": "is_fraud",
                                     "max_iter": "50"}
    assert statement.query.text == sql[sql.index("SELECT"):]
    assert statement.query_position == ir.Position(2, 4)


def test_bigquery_options_form():
    statement = parse_one("CREATE MODEL IF NOT EXISTS db.m OPTIONS (model_type = 'kmeans', "
                          "num_clusters = 3, input_label_cols = ['y']) AS SELECT 1")
    assert statement.name == "db.m" and statement.if_not_exists
    assert statement.option_map == {"model_type": "kmeans", "num_clusters": "3",
                                    "input_label_cols": "y"}


def test_flink_native_model_ddl_passes_through():
    sql = ("CREATE MODEL m INPUT (a DOUBLE) OUTPUT (s DOUBLE) "
           "WITH ('provider' = 'openai', 'endpoint' = 'x')")
    statement = parse_one(sql)
    assert isinstance(statement, ir.FlinkStatement) and statement.text == sql


def test_ml_predict_spans_and_arguments():
    sql = ("INSERT INTO alerts SELECT * FROM ML_PREDICT(TABLE cat.db.tx, MODEL `fraud$3`, "
           "DESCRIPTOR(amount, `hour`)) WHERE probability > 0.9")
    statement = parse_one(sql)
    assert isinstance(statement, ir.FlinkStatement)
    (call,) = statement.predicts
    assert sql[call.start:call.end].startswith("ML_PREDICT(") and sql[call.end - 1] == ")"
    assert call.table_sql == "cat.db.tx"
    assert call.model == ir.ModelRef("fraud", 3, ir.Position(1, sql.index("`fraud") + 1))
    assert [c.name for c in call.descriptor] == ["amount", "hour"]


def test_ml_predict_inside_strings_and_comments_is_not_a_call():
    statement = parse_one("SELECT 'ML_PREDICT(TABLE t, MODEL m)' -- ML_PREDICT(\nFROM t")
    assert statement.predicts == ()


def test_two_predicts_in_one_statement():
    statement = parse_one("SELECT * FROM ML_PREDICT(TABLE a, MODEL m) JOIN "
                          "ML_PREDICT(TABLE b, MODEL `n$latest`) ON TRUE")
    assert [c.model.name for c in statement.predicts] == ["m", "n"]
    assert statement.predicts[1].model.version is None
    assert statement.predicts[1].model.latest and not statement.predicts[0].model.latest


@pytest.mark.parametrize("sql, expected", [
    ("SHOW MODELS", ir.ShowModels()),
    ("SHOW MODELS LIKE 'fr%'", ir.ShowModels("fr%")),
    ("SET 'execution.runtime-mode' = 'batch'", ir.SetOption("execution.runtime-mode", "batch")),
    ("SET table.dml-sync = true", ir.SetOption("table.dml-sync", "true")),
    ("SET", ir.SetOption(None)),
    ("RESET 'a.b'", ir.ResetOption("a.b")),
    ("RESET", ir.ResetOption(None)),
    ("BEGIN STATEMENT SET", ir.BeginStatementSet()),
    ("END", ir.EndStatementSet()),
])
def test_management_statements(sql, expected):
    assert parse_one(sql) == expected


def test_describe_and_drop_models():
    describe = parse_one("DESCRIBE MODEL m")
    assert isinstance(describe, ir.DescribeModel) and describe.model.name == "m"
    drop = parse_one("DROP MODEL IF EXISTS `m$2`")
    assert isinstance(drop, ir.DropModel) and drop.if_exists and drop.model.version == 2


def test_plain_flink_statements_are_untouched():
    script = ("CREATE TABLE t (ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '5' SECOND) "
              "WITH ('connector' = 'datagen');\nSELECT window_start, COUNT(*) FROM TABLE("
              "TUMBLE(TABLE t, DESCRIPTOR(ts), INTERVAL '1' MINUTE)) GROUP BY window_start")
    parsed = parse_script(script)
    assert [p.text for _, p in parsed] == [s.text for s, _ in parsed]
    assert all(isinstance(p, ir.FlinkStatement) and not p.predicts for _, p in parsed)


@pytest.mark.parametrize("sql, line, col, message", [
    ("CREATE MODEL m WITH ('model_type' = 'kmeans')", 1, 46, "AS SELECT"),
    ("SELECT 1;\nSELECT * FROM ML_PREDICT(TABLE t, MODL m)", 2, 35, "expected MODEL"),
    ("CREATE MODEL m WITH ('a' = 'b', 'a' = 'c') AS SELECT 1", 1, 33, "given twice"),
    ("CREATE MODEL m WITH ('a' = ) AS SELECT 1", 1, 28, "option value"),
    ("SELECT * FROM ML_PREDICT(TABLE t, MODEL `m$x`)", 1, 41, "unknown model version"),
    ("CREATE MODEL m TRANSFORM (x + 1) WITH ('model_type'='kmeans') AS SELECT 1", 1, 27,
     "name each TRANSFORM expression"),
    ("SHOW MODELS;\n\nCREATE MODEL m WITH ('model_type' = 'kmeans')\n  AS SELEC a FROM t", 4, 6,
     "found 'SELEC' (did you mean 'SELECT'?)"),
    ("CREATE MODEL m WITH ('model_type' = 'kmeans') AS", 1, 48, "expected the training query"),
    ("ALTER MODEL IF m SET ('default_version' = '1')", 1, 16, "expected EXISTS"),
])
def test_syntax_errors_name_line_and_column(sql, line, col, message):
    with pytest.raises(SqlSyntaxError) as caught:
        parse_script(sql)
    error = caught.value
    assert (error.line, error.col) == (line, col), str(error)
    assert message in str(error)
    assert str(error).splitlines()[-1] == " " * (col + 1) + "^"


def test_ml_evaluate_spans():
    sql = "SELECT accuracy FROM ML_EVALUATE(TABLE holdout, MODEL `m$2`, DESCRIPTOR(truth))"
    statement = parse_one(sql)
    (call,) = statement.evaluates
    assert sql[call.start:call.end] == sql[sql.index("ML_EVALUATE"):]
    assert call.table_sql == "holdout" and call.model.version == 2
    assert call.label.name == "truth" and statement.has_ml and not statement.predicts
    with pytest.raises(SqlSyntaxError, match="one label column"):
        parse_one("SELECT * FROM ML_EVALUATE(TABLE t, MODEL m, DESCRIPTOR(a, b))")
    (call,) = parse_one("SELECT * FROM ML_EVALUATE(TABLE t, MODEL m, DESCRIPTOR(y), "
                        "DESCRIPTOR(f1, f2))").evaluates
    assert call.label.name == "y" and [c.name for c in call.features] == ["f1", "f2"]


def test_show_create_and_alter_model():
    assert parse_one("SHOW CREATE MODEL db.m") == ir.ShowCreateModel(
        ir.ModelRef("db.m", None, ir.Position(1, 19)))
    alter = parse_one("ALTER MODEL m SET ('default_version' = '2')")
    assert alter.set_options == (("default_version", "2"),)
    assert parse_one("ALTER MODEL m RESET ('default_version')").reset_options == (
        "default_version",)
    assert parse_one("ALTER MODEL m RENAME TO fraud_v1").rename_to == "fraud_v1"
    with pytest.raises(SqlSyntaxError, match="expected SET"):
        parse_one("ALTER MODEL m DROP x")


@pytest.mark.parametrize("if_exists", [False, True])
def test_alter_model_forms(if_exists):
    head = "ALTER MODEL IF EXISTS" if if_exists else "ALTER MODEL"
    ref = ir.ModelRef("db.m", None, ir.Position(1, len(head) + 2))
    assert parse_one(f"{head} db.m SET ('default_version' = '2')") == ir.AlterModel(
        ref, set_options=(("default_version", "2"),), if_exists=if_exists)
    assert parse_one(f"{head} db.m RESET ('default_version')") == ir.AlterModel(
        ref, reset_options=("default_version",), if_exists=if_exists)
    assert parse_one(f"{head} db.m RENAME TO m2") == ir.AlterModel(
        ref, rename_to="m2", if_exists=if_exists)


HINT = "/*+ OPTIONS('scan.startup.mode' = 'earliest-offset') */"


@pytest.mark.parametrize("sql", [
    f"SELECT * FROM ML_PREDICT(TABLE t {HINT}, MODEL m)",
    f"SELECT * FROM ML_PREDICT(INPUT => TABLE t {HINT}, MODEL => MODEL m)",
    f"SELECT * FROM ML_EVALUATE(TABLE t {HINT}, MODEL m)",
])
def test_a_hint_stays_in_the_table_argument(sql):
    statement = parse_one(sql)
    (call,) = statement.predicts or statement.evaluates
    assert call.table_sql == f"t {HINT}" and statement.text == sql


def test_a_hint_ending_a_training_query_stays_in_it():
    sql = f"CREATE MODEL m WITH ('model_type' = 'kmeans') AS SELECT a FROM t {HINT} -- note\n"
    assert parse_one(sql).query.text == f"SELECT a FROM t {HINT}"
    with pytest.raises(SqlSyntaxError, match=re.escape(f"unexpected {HINT!r}")):
        parse_one(f"DROP MODEL m {HINT}")  # no place for a hint here, and not dropped silently


def test_named_ml_predict_arguments_in_any_order():
    sql = ("SELECT * FROM ML_PREDICT(MODEL => MODEL m, INPUT => TABLE tx, "
           "CONFIG => MAP['execution', 'udf'], ARGS => DESCRIPTOR(a, b))")
    (call,) = parse_one(sql).predicts
    assert sql[call.start:call.end] == sql[sql.index("ML_PREDICT"):]
    assert call.table_sql == "tx" and call.model.name == "m"
    assert [c.name for c in call.descriptor] == ["a", "b"]
    assert call.config == (("execution", "udf"),)
    with pytest.raises(SqlSyntaxError, match="did you mean 'INPUT'"):
        parse_one("SELECT * FROM ML_PREDICT(INPT => TABLE t, MODEL => MODEL m)")
    with pytest.raises(SqlSyntaxError, match="needs its INPUT"):
        parse_one("SELECT * FROM ML_PREDICT(MODEL => MODEL m)")


@pytest.mark.parametrize("sql, hint", [
    ("SELECT * FROM ML_PREDCT(TABLE t, MODEL m)", "unknown function ML_PREDCT (did you mean "
                                                  "'ML_PREDICT'?)"),
    ("SELECT * FROM ML_PREDICT(TABEL t, MODEL m)", "expected TABLE, found 'TABEL' (did you "
                                                   "mean 'TABLE'?)"),
    ("SELECT * FROM ML_PREDICT(TABLE t, MODLE m)", "(did you mean 'MODEL'?)"),
])
def test_misspelled_keywords_get_a_suggestion(sql, hint):
    with pytest.raises(SqlSyntaxError) as caught:
        parse_one(sql)
    assert hint in str(caught.value)


def test_a_user_function_named_ml_something_is_left_alone():
    assert parse_one("SELECT ML_SCORE(a) FROM t").predicts == ()


def test_import_ddl_for_mlsql_and_flink_providers():
    sql = ("CREATE MODEL IF NOT EXISTS scorer INPUT (amount DOUBLE, `hour` INT, "
           "d DECIMAL(10, 2)) OUTPUT (score DOUBLE) COMMENT 'x' "
           "WITH ('provider' = 'onnx', 'path' = 'file:///m.onnx')")
    imported = parse_one(sql)
    assert isinstance(imported, ir.ImportModel) and imported.if_not_exists
    assert imported.inputs == (("amount", "DOUBLE"), ("hour", "INT"), ("d", "DECIMAL(10, 2)"))
    assert imported.outputs == (("score", "DOUBLE"),) and imported.text == sql
    flinks = "CREATE TEMPORARY MODEL m INPUT (a STRING) OUTPUT (b STRING) WITH ('provider' = 'x')"
    assert parse_one(flinks) == ir.FlinkStatement(flinks, (), "CREATE")
    with pytest.raises(SqlSyntaxError, match="no session scope"):
        parse_one(flinks.replace("'x'", "'onnx'"))


@pytest.mark.parametrize("written, canonical", [
    ("HPARAM_RANGE(0.01, 0.3)", "HPARAM_RANGE(0.01, 0.3)"),
    ("hparam_range( 0.01 ,0.3 )", "HPARAM_RANGE(0.01, 0.3)"),
    ("HPARAM_RANGE(-1, 1e3)", "HPARAM_RANGE(-1, 1e3)"),
    ("HPARAM_CANDIDATES([15, 31, 63])", "HPARAM_CANDIDATES([15, 31, 63])"),
    ("HPARAM_CANDIDATES(['gbdt','dart', 'it''s'])",
     "HPARAM_CANDIDATES(['gbdt', 'dart', 'it''s'])"),
    ("HPARAM_CANDIDATES([0.1, 'x', TRUE])", "HPARAM_CANDIDATES([0.1, 'x', true])"),
])
def test_hparam_options_unquoted_and_quoted_reach_one_string(written, canonical):
    unquoted = parse_one(f"CREATE MODEL m OPTIONS (model_type = 'boosted_tree_regressor', "
                         f"num_trials = 20, learning_rate = {written}) AS SELECT 1")
    quoted = parse_one("CREATE MODEL m WITH ('model_type' = 'boosted_tree_regressor', "
                       "'learning_rate' = '" + written.replace("'", "''") + "') AS SELECT 1")
    assert unquoted.option_map["learning_rate"] == canonical
    assert quoted.option_map["learning_rate"] == canonical
    assert unquoted.option_map["num_trials"] == "20"


@pytest.mark.parametrize("sql, col, message", [
    ("CREATE MODEL m OPTIONS (lr = HPARAM_RANGE(0.3, 0.01)) AS SELECT 1", 43, "low < high"),
    ("CREATE MODEL m OPTIONS (lr = HPARAM_RANGE(0.3)) AS SELECT 1", 46, "expected ','"),
    ("CREATE MODEL m OPTIONS (lr = HPARAM_CANDIDATES([])) AS SELECT 1", 50, "at least one"),
    ("CREATE MODEL m OPTIONS (lr = HPARAM_CANDIDATES([a])) AS SELECT 1", 49,
     "expected a number"),
    ("CREATE MODEL m WITH ('lr' = 'HPARAM_RANGE(1, x)') AS SELECT 1", 29, "in 'HPARAM_RANGE"),
])
def test_hparam_errors_name_the_column(sql, col, message):
    with pytest.raises(SqlSyntaxError) as caught:
        parse_one(sql)
    assert (caught.value.line, caught.value.col) == (1, col), str(caught.value)
    assert message in str(caught.value)


@pytest.mark.parametrize(("text", "expected"), [
    ("SHOW JOBS", "ShowJobs()"),
    ("show jobs", "ShowJobs()"),
    ("STOP JOB 'abc'", "StopJob(job_id='abc', with_savepoint=False, with_drain=False)"),
    ("STOP JOB 'abc' WITH SAVEPOINT",
     "StopJob(job_id='abc', with_savepoint=True, with_drain=False)"),
    ("stop job 'abc' with savepoint with drain",
     "StopJob(job_id='abc', with_savepoint=True, with_drain=True)"),
])
def test_job_statements_are_parsed(text, expected):
    assert repr(parse_one(text)) == expected


@pytest.mark.parametrize("text", ["SHOW JOB 'abc'", "SHOW TABLES", "SHOW JOBSX"])
def test_other_show_statements_go_to_flink(text):
    assert isinstance(parse_one(text), ir.FlinkStatement)


@pytest.mark.parametrize(("text", "message", "col"), [
    ("STOP JOB abc", "STOP JOB takes the job id as a string", 10),
    ("STOP JOB 'abc' WITH CHECKPOINT", "unexpected 'WITH' in STOP JOB", 16),
    ("STOP JOB 'abc' NOW", "unexpected 'NOW' in STOP JOB", 16),
    ("SHOW JOBS NOW", "unexpected 'NOW' after the end of the statement", 11),
])
def test_malformed_job_statements_name_their_position(text, message, col):
    with pytest.raises(SqlSyntaxError, match=message) as caught:
        parse_one(text)
    assert (caught.value.line, caught.value.col) == (1, col)


@pytest.mark.parametrize(("text", "message", "col"), [
    ("CREATE MODEL m WTIH ('model_type' = 'kmeans') AS SELECT a FROM t",
     "found 'WTIH' (did you mean 'WITH'?)", 16),
    ("CREATE MODEL m OPTOINS ('model_type' = 'kmeans') AS SELECT a FROM t",
     "(did you mean 'OPTIONS'?)", 16),
    ("CREATE MODEL m WITH ('model_type' = 'kmeans') SA SELECT a FROM t",
     "after the options, found 'SA' (did you mean 'AS'?)", 47),
    ("CREATE MODLE m WITH ('model_type' = 'kmeans') AS SELECT a FROM t",
     "unknown CREATE MODLE (did you mean 'MODEL'?)", 8),
    ("CREATE OR REPLACE MDOEL m WITH ('model_type' = 'kmeans') AS SELECT a FROM t",
     "(did you mean 'MODEL'?)", 19),
    ("SELECT * FROM ML_SCORE_EVERYTHING(TABLE t, MODEL m)",
     "unknown function ML_SCORE_EVERYTHING; the functions over a model: ML_PREDICT", 15),
    ("SELECT * FROM ML_VALIDATE_DATA_SKEWS(TABLE t, MODEL m)",
     "unknown function ML_VALIDATE_DATA_SKEWS (did you mean 'ML_VALIDATE_DATA_SKEW'?)", 15),
])
def test_a_mistyped_keyword_gets_the_closest_one(text, message, col):
    with pytest.raises(SqlSyntaxError, match=re.escape(message)) as caught:
        parse_one(text)
    assert (caught.value.line, caught.value.col) == (1, col)


@pytest.mark.parametrize("text", [
    "CREATE TABLE t (a INT)", "CREATE TEMPORARY VIEW v AS SELECT 1",
    "CREATE TEMPORARY SYSTEM FUNCTION f AS 'a.B'", "CREATE CATALOG c WITH ('type' = 'x')",
    "SELECT ML_RISK_SCORE_V2(a, b) FROM t",  # a user's own ML_* function: no MODEL argument
])
def test_flinks_own_statements_and_a_users_functions_still_reach_flink(text):
    assert isinstance(parse_one(text), ir.FlinkStatement)


def test_data_validation_calls_parse_their_tables_model_and_options():
    skew = parse_one("SELECT * FROM ML_VALIDATE_DATA_SKEW(TABLE live, MODEL m$2, "
                     "MAP['numerical_default_threshold', '0.1'])").analyses[0]
    assert (skew.function, skew.table_sql, skew.model.name, skew.model.version) == \
        ("ML_VALIDATE_DATA_SKEW", "live", "m", 2)
    assert skew.config == (("numerical_default_threshold", "0.1"),)
    drift = parse_one("SELECT * FROM ML_VALIDATE_DATA_DRIFT(TABLE week1,\n"
                      "  TABLE week2)").analyses[0]
    assert (drift.model, drift.base_sql, drift.table_sql) == (None, "week1", "week2")
    assert (drift.table_position.line, drift.table_position.col) == (2, 9)
    with pytest.raises(SqlSyntaxError, match="expected TABLE"):
        parse_one("SELECT * FROM ML_VALIDATE_DATA_DRIFT(TABLE a, MODEL m)")

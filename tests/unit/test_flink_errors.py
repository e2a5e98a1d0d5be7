from mlsql.runtime.flink_errors import flink_message, shift_positions, to_flink_error


class FakeJavaError(Exception):
    pass


def test_root_cause_of_a_failed_job():
    text = """An error occurred while calling o167.await.
: java.util.concurrent.ExecutionException: org.apache.flink.table.api.TableException: \
Failed to wait job finish
\tat java.base/java.util.concurrent.CompletableFuture.reportGet(CompletableFuture.java:396)
Caused by: org.apache.flink.runtime.client.JobExecutionException: Job execution failed.
Caused by: java.lang.RuntimeException: Fail to deserialize at field: amount.
Caused by: java.lang.NumberFormatException: empty String
\t... 5 more"""
    assert flink_message(FakeJavaError(text)) == \
        "Fail to deserialize at field: amount.: empty String"


def test_validation_message_keeps_its_position():
    text = ("An error occurred while calling o8.sqlQuery.\n: org.apache.flink.table.api."
            "ValidationException: SQL validation failed. At line 1, column 8: Column 'x' not "
            "found in any table\nCaused by: org.apache.calcite.runtime.CalciteContextException:"
            " At line 1, column 8: Column 'x' not found in any table")
    assert flink_message(FakeJavaError(text)) == \
        "SQL validation failed. At line 1, column 8: Column 'x' not found in any table"


def test_python_worker_traceback_reduces_to_the_exception():
    text = ("Caused by: java.lang.RuntimeException: Error received from SDK harness\n"
            "Traceback (most recent call last):\n  File \"x.py\", line 3, in f\n"
            "ValueError: could not convert string to float: 'abc'\n")
    assert flink_message(FakeJavaError(text)) == \
        "Python worker error: ValueError: could not convert string to float: 'abc'"


def test_a_python_udf_failing_a_job_on_purpose_shows_its_message_alone():
    text = ("Caused by: java.lang.RuntimeException: Error received from SDK harness\n"
            "Traceback (most recent call last):\n  File \"x.py\", line 3, in f\n"
            "    raise InvalidInput(f\"{FAILS_JOB}...\")\n"
            "udfs.vectors.InvalidInput: mlsql: Input column value is null.\n")
    assert flink_message(FakeJavaError(text)) == "Input column value is null."


def test_positions_shift_into_script_coordinates():
    assert shift_positions("At line 1, column 8: bad", 5, 3) == "At line 5, column 10: bad"
    assert shift_positions("at line 2, column 4", 5, 3) == "at line 6, column 4"


def test_positions_skip_the_text_mlsql_put_before_the_users():
    message = "From line 1, column 15 to line 1, column 16: Object 't' not found"
    assert shift_positions(message, 3, 23, prefix=14) == \
        "From line 3, column 23 to line 3, column 24: Object 't' not found"


def test_an_error_without_a_position_names_where_the_sql_starts():
    error = FakeJavaError(
        "An error occurred while calling o8.sqlQuery.\n: org.apache.flink.table.api."
        "SqlParserException: SQL parse failed. Non-query expression encountered in illegal "
        "context\nCaused by: org.apache.calcite.sql.parser.SqlParseException: Non-query "
        "expression encountered in illegal context\n\t... 13 more")
    assert str(to_flink_error(error, 4, 6)) == ("SQL parse failed. Non-query expression "
                                                "encountered in illegal context (at line 4, "
                                                "column 6)")
    assert "line" not in str(to_flink_error(error))


def test_a_missing_kafka_connector_names_the_fix():
    error = RuntimeError(
        "org.apache.flink.table.api.ValidationException: Unable to create a source for "
        "reading table 'default_catalog.default_database.t'.\n"
        "Caused by: org.apache.flink.table.api.ValidationException: Could not find any "
        "factory for identifier 'upsert-kafka' that implements "
        "'org.apache.flink.table.factories.DynamicTableFactory' in the classpath.")
    message = str(to_flink_error(error))
    assert "'upsert-kafka'" in message and "mlsql kafka install" in message
    assert "ValidationException" not in message

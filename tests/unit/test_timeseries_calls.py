"""ML_FORECAST / ML_DETECT_ANOMALIES(_ROBUST): the calls found in a statement, their options
checked before any job, each mistake named with its line and column."""

from __future__ import annotations

import pytest

from mlsql.errors import OptionError, SqlSyntaxError
from mlsql.frontend.parser import parse_one
from mlsql.timeseries.options import robust_plan, series_plan

OVER = "OVER (PARTITION BY card, merchant ORDER BY ts RANGE BETWEEN UNBOUNDED PRECEDING " \
       "AND CURRENT ROW)"


def _call(sql: str):
    (call,) = parse_one(sql).series
    return call


def test_the_call_its_window_and_its_keys_are_found():
    sql = (f"SELECT card,\n  ML_FORECAST(amount * 2, ts, JSON_OBJECT('p' VALUE 1, 'd' VALUE 1, "
           f"'q' VALUE 1, 'horizon' VALUE 3)) {OVER} AS f FROM tx")
    call = _call(sql)
    assert (call.function, call.values, call.time) == ("ML_FORECAST", ("amount * 2",), "ts")
    assert call.partition == ("card", "merchant")
    assert call.window == OVER[len("OVER "):]
    assert sql[call.start:call.end].startswith("ML_FORECAST(") and sql[call.end - 1] == ")"
    assert (call.position.line, call.position.col) == (2, 3)
    plan = series_plan(call)
    assert (plan.spec.order, plan.horizon, plan.min_training) == ((1, 1, 1), 3, 128)


def test_defaults_and_auto_arima_without_orders():
    plan = series_plan(_call(f"SELECT ML_DETECT_ANOMALIES(v, ts) {OVER} FROM t"))
    assert plan.spec.order is None  # auto-ARIMA
    assert (plan.max_training, plan.update_interval, plan.level) == (512, 128, 99.0)
    assert plan.capacity == 512 + 128


def test_robust_takes_a_row_of_values():
    call = _call("SELECT ML_DETECT_ANOMALIES_ROBUST(ROW(a, b + 1, c), ts, JSON_OBJECT("
                 f"'window' VALUE 30, 'threshold' VALUE 2.5)) {OVER} FROM t")
    assert call.values == ("a", "b + 1", "c")
    plan = robust_plan(call)
    assert (plan.window, plan.threshold, plan.width, plan.capacity) == (30, 2.5, 3, 31)


def test_the_model_form_is_not_taken_for_the_over_aggregate():
    assert parse_one("SELECT * FROM ML_FORECAST(MODEL m)").series == ()


@pytest.mark.parametrize(("options", "message", "col"), [
    ("'minTraningSize' VALUE 16", "unknown option 'minTraningSize' (did you mean "
     "'minTrainingSize'?)", 39),
    ("'horizon' VALUE 0", "option 'horizon' at line 1, column 39: must be between 1 and 1000", 39),
    ("'p' VALUE 1.5", "expected a whole number, got 1.5", 39),
    ("'enableStl' VALUE 1", "expected TRUE or FALSE", 39),
    ("'P' VALUE 1", "need the seasonal period m", 1),
    ("'confidencePercentage' VALUE 100", "must be between 0 and 100", 39),
    ("'minTrainingSize' VALUE 600", "is larger than maxTrainingSize (512)", 39),
    ("'horizon' VALUE 2, 'horizon' VALUE 3", "given twice", 58),
])
def test_bad_options_are_named_where_written(options, message, col):
    call = _call(f"SELECT ML_FORECAST(v, ts, JSON_OBJECT({options})) {OVER} FROM t")
    with pytest.raises(OptionError) as error:
        series_plan(call)
    assert message in str(error.value)
    assert error.value.position.col in (col, call.position.col)


@pytest.mark.parametrize(("sql", "message"), [
    ("SELECT ML_FORECAST(v, ts) FROM t", "is an OVER aggregate"),
    ("SELECT ML_FORECAST(v, ts) OVER w FROM t WINDOW w AS (ORDER BY ts)", "not a named window"),
    ("SELECT ML_FORECAST(v, ts) OVER (PARTITION BY k) FROM t", "needs ORDER BY"),
    ("SELECT ML_FORECAST(ROW(a, b), ts) OVER (ORDER BY ts) FROM t", "one value per key"),
    ("SELECT ML_FORECAST(v, ts, MAP['p', '1']) OVER (ORDER BY ts) FROM t", "JSON_OBJECT"),
    ("SELECT ML_FORECAST(v, ts, JSON_OBJECT('p' VALUE x)) OVER (ORDER BY ts) FROM t",
     "must be a literal"),
    ("SELECT ML_FORECAST(v) OVER (ORDER BY ts) FROM t", "takes a value, a timestamp"),
])
def test_malformed_calls_are_syntax_errors(sql, message):
    with pytest.raises(SqlSyntaxError) as error:
        parse_one(sql)
    assert message in str(error.value)

"""The analysis functions' syntax: spans, arguments and errors with line and column."""

from __future__ import annotations

import pytest

from mlsql.errors import SqlSyntaxError
from mlsql.frontend.parser import parse_one, parse_script
from mlsql.syntax import ir


def test_model_only_functions():
    sql = ("SELECT i.feature, t.loss FROM ML_FEATURE_IMPORTANCE(MODEL `m$3`) AS i, "
           "ML_TRAINING_INFO(MODEL `m$latest`) AS t")
    statement = parse_one(sql)
    importance, info = statement.analyses
    assert statement.has_ml and not statement.predicts and not statement.evaluates
    assert importance.function == ir.FEATURE_IMPORTANCE and importance.model.version == 3
    assert sql[importance.start:importance.end] == "ML_FEATURE_IMPORTANCE(MODEL `m$3`)"
    assert info.function == ir.TRAINING_INFO and info.model.latest
    assert importance.position == ir.Position(1, 31) and importance.table_sql is None


def test_explain_predict_arguments():
    (call,) = parse_one("SELECT * FROM ml_explain_predict(TABLE tx, MODEL m)").analyses
    assert call.function == ir.EXPLAIN_PREDICT and call.top_k == ir.DEFAULT_TOP_K
    assert call.table_sql == "tx" and call.features is None
    (call,) = parse_one("SELECT * FROM ML_EXPLAIN_PREDICT(TABLE tx, MODEL m, 5)").analyses
    assert call.top_k == 5
    (call,) = parse_one("SELECT * FROM ML_EXPLAIN_PREDICT(TABLE tx, MODEL m, "
                        "DESCRIPTOR(a, b), 2)").analyses
    assert [c.name for c in call.features] == ["a", "b"] and call.top_k == 2


@pytest.mark.parametrize("function", ir.LABELLED_TABLE_FUNCTIONS)
def test_labelled_table_functions(function):
    sql = f"SELECT * FROM {function}(TABLE holdout, MODEL m, DESCRIPTOR(truth)) WHERE 1 = 1"
    (call,) = parse_one(sql).analyses
    assert call.function == function and call.label.name == "truth"
    assert sql[call.start:call.end] == f"{function}(TABLE holdout, MODEL m, DESCRIPTOR(truth))"
    (call,) = parse_one(f"SELECT * FROM {function}(TABLE holdout, MODEL m)").analyses
    assert call.label is None


def test_spans_of_several_functions_are_in_order():
    statement = parse_one("SELECT * FROM ML_ROC_CURVE(TABLE t, MODEL m) UNION ALL "
                          "SELECT * FROM ML_ROC_CURVE(TABLE u, MODEL `m$1`)")
    assert [c.table_sql for c in statement.analyses] == ["t", "u"]


@pytest.mark.parametrize("sql, line, col, message", [
    ("SELECT * FROM ML_FEATURE_IMPORTANCE(TABLE t, MODEL m)", 1, 37, "takes only MODEL m"),
    ("SELECT *\n  FROM ML_TRAINING_INFO(MODL m)", 2, 25, "expected MODEL"),
    ("SELECT * FROM ML_EXPLAIN_PREDICT(TABLE t, MODEL m, 0)", 1, 52, "from 1 to 1000"),
    ("SELECT * FROM ML_EXPLAIN_PREDICT(TABLE t, MODEL m, 99999999999)", 1, 52,
     "from 1 to 1000"),
    ("SELECT * FROM ML_EXPLAIN_PREDICT(TABLE t, MODEL m, \u00b2)", 1, 52, "expected top_k"),
    ("SELECT * FROM ML_EXPLAIN_PREDICT(TABLE t, MODEL m, 'three')", 1, 52,
     "expected top_k"),
    ("SELECT * FROM ML_EXPLAIN_PREDICT(TABLE t, MODEL m, 3, 4)", 1, 53, "expected ')'"),
    ("SELECT * FROM ML_ROC_CURVE(TABLE t, MODEL m, DESCRIPTOR(a, b))", 1, 56,
     "names the one label column"),
    ("SELECT * FROM ML_CONFUSION_MATRIX(TABLE t, MODEL m, 3)", 1, 53, "expected DESCRIPTOR"),
    ("SELECT 1;\nSELECT * FROM ML_ROC_CURV(TABLE t, MODEL m)", 2, 15,
     "did you mean 'ML_ROC_CURVE'"),
    ("SELECT * FROM ML_RESIDUAL_SUMMARY(TABLE t, MODEL `m$x`)", 1, 50,
     "unknown model version"),
])
def test_errors_name_line_and_column(sql, line, col, message):
    with pytest.raises(SqlSyntaxError) as caught:
        parse_script(sql)
    error = caught.value
    assert (error.line, error.col) == (line, col), str(error)
    assert message in str(error)

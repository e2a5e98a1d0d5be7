"""The feature functions' SQL and fitted parameters, without Flink (tests/integration/
test_transform.py runs them in Flink against numpy and scikit-learn)."""

import math
import re

import pandas as pd
import pytest

from mlsql.errors import MlsqlError, SchemaError, SqlSyntaxError
from mlsql.feature_functions.base import FitResult
from mlsql.feature_functions.catalog import FUNCTIONS
from mlsql.feature_functions.hashing import bucket_of
from mlsql.feature_functions.render import expanded, render_call
from mlsql.frontend.parser import parse_one
from mlsql.syntax import ir
from udfs.hashing import FeatureHashingFunction, FlinkMlFeatureHasherFunction, java_text
from udfs.text import flink_ml_hashing_tf, hashing_tf, java_string_hash, ngrams


def _call(expression: str) -> ir.FeatureCall:
    statement = parse_one(f"SELECT {expression} FROM t")
    assert len(statement.features) == 1
    return statement.features[0]


def _sql(expression: str) -> str:
    return render_call(_call(expression), None)


def _fitted(expression: str, aggregates=None, vocabulary=()) -> str:
    item = parse_one(f"CREATE MODEL m TRANSFORM ({expression} AS c) WITH ('model_type' = "
                     "'kmeans') AS SELECT 1").transform[0]
    call = item.calls[0]
    function = FUNCTIONS[call.function]
    options = function.fit_options(call.arguments, call)
    return function.fitted_text(call.arguments, options,
                                FitResult(aggregates or {}, list(vocabulary)))


def test_scalers_are_double_arithmetic_with_null_kept():
    x = "CAST((amount) AS DOUBLE)"
    assert _sql("ML_STANDARD_SCALER(amount, 10, 2)") == (
        f"CASE WHEN ({x} IS NULL OR ({x} * 0 <> 0 AND ABS({x}) <> CAST('Infinity' AS DOUBLE))) "
        f"THEN CAST(NULL AS DOUBLE) ELSE ({x} - 10.0E0) / 2.0E0 END")
    assert "LEAST(GREATEST((CAST((x) AS DOUBLE) - 0.0E0) / 100.0E0, 0E0), 1E0)" in _sql(
        "ML_MIN_MAX_SCALER(x, 0, 100)")
    assert "/ 4.0E0" in _sql("ML_MAX_ABS_SCALER(x, -4 + 8)".replace("-4 + 8", "4"))
    assert "- 2.0E0) / 2.0E0" in _sql("ML_ROBUST_SCALER(x, 2, 1, 3)")


def test_arguments_may_be_any_sql_and_calls_nest():
    sql = _sql("ML_MIN_MAX_SCALER(COALESCE(a, (b + 1) * 2), 0, 10)")
    assert "CAST((COALESCE(a, (b + 1) * 2)) AS DOUBLE)" in sql
    nested = _sql("ML_STANDARD_SCALER(ML_IMPUTER(x, 0), 1, 2)")
    assert "ML_IMPUTER" not in nested and "THEN 0.0E0 ELSE" in nested


def test_scaler_parameters_may_be_expressions_checked_on_each_row():
    # Issue 28: "min must be a number" refused CAST(0.0 AS DOUBLE) and columns.
    sql = _sql("ML_MIN_MAX_SCALER(x, CAST(0.0 AS DOUBLE), 10.0)")
    assert "(CAST((x) AS DOUBLE) - (CAST(0.0 AS DOUBLE))) / (10.0E0 - (CAST(0.0 AS DOUBLE)))" \
        in sql
    assert "OR NOT (10.0E0 > (CAST(0.0 AS DOUBLE))) THEN CAST(NULL AS DOUBLE)" in sql
    standard = _sql("ML_STANDARD_SCALER(x, mu, sigma)")
    assert "OR NOT ((sigma) > 0) THEN CAST(NULL AS DOUBLE)" in standard
    assert standard.endswith("ELSE (CAST((x) AS DOUBLE) - (mu)) / (sigma) END")
    assert "NOT" not in _sql("ML_STANDARD_SCALER(x, 1, 2)")  # numbers: checked before the job
    assert "/ ((q3) - 1.0E0)" in _sql("ML_ROBUST_SCALER(x, 2, 1, q3)")


def test_bucketize_follows_confluent_names():
    sql = _sql("ML_BUCKETIZE(x, ARRAY[1, 4, 7])")
    assert "THEN 'bin_NULL'" in sql and "< 1.0E0 THEN 'bin_1'" in sql
    assert "< 7.0E0 THEN 'bin_3' ELSE 'bin_4' END" in sql
    named = _sql("ML_BUCKETIZE(x, ARRAY[1, 4], ARRAY['n', 'low', 'mid', 'high'])")
    assert "THEN 'n'" in named and "ELSE 'high' END" in named
    assert "< 4.0E0 THEN 'bin_2'" in _sql("ML_BUCKETIZE(x, ARRAY[1, 4, 4])")  # dups dropped


def test_encoders():
    assert _sql("ML_LABEL_ENCODER(c, ARRAY['a', 'b'])") == (
        "COALESCE(CASE CAST((c) AS STRING) WHEN 'a' THEN CAST(1 AS BIGINT) WHEN 'b' THEN "
        "CAST(2 AS BIGINT) END, CAST(0 AS BIGINT))")
    one_hot = _sql("ML_ONE_HOT_ENCODER(c, ARRAY['a', 'b'])")
    assert one_hot.startswith("ARRAY[CASE WHEN CAST((c) AS STRING) = 'a' THEN 1E0")
    columns = expanded(_call("ML_ONE_HOT_ENCODER(c, ARRAY['a', 'b'])"), "c", None)
    assert [name for name, _ in columns] == ["c_1", "c_2", "c_other"]


def test_imputer_value_types():
    assert _sql("ML_IMPUTER(c, 'none')") == "COALESCE(CAST((c) AS STRING), 'none')"
    assert "THEN (-1.5E0) ELSE" in _sql("ML_IMPUTER(x, -1.5)")


def test_polynomial_expansion_is_scikit_learn_order():
    columns = expanded(_call("ML_POLYNOMIAL_EXPANSION(ARRAY[a, b], 2)"), "p", None)
    a, b = "CAST((a) AS DOUBLE)", "CAST((b) AS DOUBLE)"
    assert [sql for _, sql in columns] == [a, b, f"{a} * {a}", f"{a} * {b}", f"{b} * {b}"]


def test_normalizer_norms():
    assert "SQRT(CAST((a) AS DOUBLE) * CAST((a) AS DOUBLE) + " in _sql(
        "ML_NORMALIZER(ARRAY[a, b])")
    assert "ABS(CAST((a) AS DOUBLE)) + ABS(" in _sql("ML_NORMALIZER(ARRAY[a, b], 1)")
    assert "GREATEST(ABS(" in _sql("ML_NORMALIZER(ARRAY[a, b], 'inf')")
    assert "POWER(" in _sql("ML_NORMALIZER(ARRAY[a, b], 3)")


def test_hashing_matches_java_string_hash():
    assert java_string_hash("abc") == 96354  # Flink's HASH_CODE('abc')
    assert java_string_hash("polygenelubricants") == -2147483648
    assert bucket_of("polygenelubricants", 7) == -2147483648 % 7
    assert java_string_hash("travel") == -865698022  # Flink's HASH_CODE('travel'): 865698022
    assert bucket_of("travel", 1000) == 22
    assert hashing_tf(["a", "b", "a"], 4)[bucket_of("a", 4)] == 2.0
    assert "MOD(MOD(HASH_CODE(CAST((c) AS STRING)), 8) + 8, 8)" in _sql(
        "ML_FEATURE_HASHING(ARRAY[c], 8)")  # small: plain SQL
    with pytest.raises(MlsqlError, match="runs as a Python UDF, which needs a session"):
        _sql("ML_FEATURE_HASHING(ARRAY[c, d], 200)")  # large: a pandas UDF
    (counts,) = FeatureHashingFunction(1000)(pd.Series([["travel", None, "travel", "abc"]]))
    assert counts[22] == 2.0 and counts[bucket_of("abc", 1000)] == 1.0 and sum(counts) == 3


def test_flink_mls_feature_hasher_and_hashing_tf():
    # FeatureHasherTest's rows: f0 "a"/"c" (a string), f1 1.0, f2 true/false (categorical)
    hasher = FlinkMlFeatureHasherFunction(["f0", "f1", "f2"], ["f0", "f2"], 1000)
    rows = hasher(pd.Series(["a", "c"]), pd.Series([1.0, 1.0]), pd.Series([True, False]))
    assert list(rows) == [[(607, 1.0), (635, 1.0), (913, 1.0)],
                          [(242, 1.0), (869, 1.0), (913, 1.0)]]
    assert [java_text(v) for v in (True, 1.0, 2, 1e7, 0.0001, "x")] == [
        "true", "1.0", "2", "1.0E7", "1.0E-4", "x"]
    assert flink_ml_hashing_tf(["HashingTFTest", "Hashing", "Hashing"], 262144, False) == [
        (67564, 1.0), (131486, 2.0)]  # HashingTFTest's indices
    with pytest.raises(SqlSyntaxError, match="CategoricalCols must be included in inputCols!"):
        _call("ML_FEATURE_HASHING(ARRAY[a], 8, 'flink-ml', ARRAY['a'], ARRAY['b'])")
    with pytest.raises(SqlSyntaxError, match="names 1 inputs of 2"):
        _call("ML_FEATURE_HASHING(ARRAY[a, b], 8, 'flink-ml', ARRAY['a'])")


def test_ngrams():
    assert ngrams(["a", "b", "c"], 2, " ") == ["a b", "b c"]
    assert ngrams(["a"], 2, " ") == [] and ngrams(None, 2, " ") is None


def test_idf_weights():
    sql = _sql("ML_IDF(tf, ARRAY[1, 3], 3)")
    assert "* 0.6931471805599453E0" in sql and "* 0.0E0" in sql


def test_fitted_forms_store_explicit_calls():
    assert _fitted("ML_STANDARD_SCALER(x) OVER ()", {"mean": 2.0, "std": 0.5}) == (
        "ML_STANDARD_SCALER(x, 2.0E0, 0.5E0)")
    assert _fitted("ML_STANDARD_SCALER(x) OVER ()", {"mean": 2.0, "std": 0.0}) == (
        "ML_STANDARD_SCALER(x, 2.0E0, 1.0E0)")  # a constant column: divisor 1
    assert _fitted("ML_MIN_MAX_SCALER(x) OVER ()", {"min": 1.0, "max": 3.0}) == (
        "ML_MIN_MAX_SCALER(x, 1.0E0, 3.0E0)")
    assert _fitted("ML_ROBUST_SCALER(x) OVER ()", {"quartiles": [1.0, 2.0, 4.0]}) == (
        "ML_ROBUST_SCALER(x, 2.0E0, 1.0E0, 4.0E0)")
    assert _fitted("ML_QUANTILE_BUCKETIZE(h, 4) OVER ()", {"splits": [1.0, 1.0, 5.0]}) == (
        "ML_BUCKETIZE(h, ARRAY[1.0E0, 5.0E0])")
    assert _fitted("ML_LABEL_ENCODER(c, 2) OVER ()", vocabulary=[("z", 5), ("b", 4)]) == (
        "ML_LABEL_ENCODER(c, ARRAY['b', 'z'])")
    assert _fitted("ML_IMPUTER(x, 'median') OVER ()", {"value": 3.5}) == (
        "ML_IMPUTER(x, 3.5E0)")
    assert _fitted("ML_IMPUTER(c, 'most_frequent') OVER ()", vocabulary=[("it's", 9)]) == (
        "ML_IMPUTER(c, 'it''s')")
    assert _fitted("ML_IDF(tf, 2) OVER ()", {"docs": 4, "df0": 1, "df1": 0}) == (
        "ML_IDF(tf, ARRAY[1.0E0, 0.0E0], 4.0E0)")


def test_standard_scaler_takes_with_mean_with_std_and_flink_mls_rule():
    fitted = {"mean": 2.0, "std": 0.5}
    assert _fitted("ML_STANDARD_SCALER(x, FALSE, TRUE) OVER ()", fitted) == (
        "ML_STANDARD_SCALER(x, 0.0E0, 0.5E0)")
    assert _fitted("ML_STANDARD_SCALER(x, TRUE, FALSE) OVER ()", fitted) == (
        "ML_STANDARD_SCALER(x, 2.0E0, 1.0E0)")
    # a zero (or, for one row, NULL) deviation: scikit-learn divides by 1, Flink ML gives 0
    for std in (0.0, None):
        assert _fitted("ML_STANDARD_SCALER(x, FALSE, TRUE) OVER ()",
                       {"mean": 2.0, "std": std}) == "ML_STANDARD_SCALER(x, 0.0E0, 1.0E0)"
        flink = _fitted("ML_STANDARD_SCALER(x, FALSE, TRUE, 'flink-ml') OVER ()",
                        {"mean": 2.0, "std": std})
        assert flink.startswith("CASE WHEN (CAST(x AS DOUBLE) IS NULL") and \
            flink.endswith("THEN CAST(NULL AS DOUBLE) ELSE 0E0 END")
    call = _call_in_transform("ML_STANDARD_SCALER(x, TRUE, TRUE, 'flink-ml') OVER ()")
    request = FUNCTIONS[call.function].requests(
        call.arguments, FUNCTIONS[call.function].fit_options(call.arguments, call), str)
    assert request.aggregates["std"].startswith("STDDEV_SAMP(")
    call = _call_in_transform("ML_STANDARD_SCALER(x) OVER ()")
    request = FUNCTIONS[call.function].requests(
        call.arguments, FUNCTIONS[call.function].fit_options(call.arguments, call), str)
    assert request.aggregates["std"].startswith("STDDEV_POP(")


def test_min_max_scaler_takes_the_output_range_and_flink_mls_rule():
    fitted = {"min": 0.0, "max": 200.0}
    assert _fitted("ML_MIN_MAX_SCALER(x, 0, 1) OVER ()", fitted) == (
        "ML_MIN_MAX_SCALER(x, 0.0E0, 200.0E0)")
    assert _fitted("ML_MIN_MAX_SCALER(x, -1, 1) OVER ()", fitted) == (
        "((-1.0E0) + 2.0E0 * ML_MIN_MAX_SCALER(x, 0.0E0, 200.0E0))")  # clipped, then mapped
    assert _fitted("ML_MIN_MAX_SCALER(x, 1, 4, 'flink-ml') OVER ()", fitted).endswith(
        "ELSE CAST(x AS DOUBLE) * 0.015E0 + 1.0E0 END")  # Flink ML's scale and offset
    # a constant column: BigQuery's rule gives lower, Flink ML's the middle of the range
    constant = {"min": 40.0, "max": 40.0 + 1e-6}
    assert _fitted("ML_MIN_MAX_SCALER(x, 0, 10, 'flink-ml') OVER ()", constant).endswith(
        "ELSE CAST(x AS DOUBLE) * 0.0E0 + 5.0E0 END")
    assert _fitted("ML_MIN_MAX_SCALER(x, 2, 10) OVER ()", {"min": 3.0, "max": 3.0}).endswith(
        "ELSE 2.0E0 END")


def test_robust_scaler_takes_centering_scaling_the_range_and_flink_mls_rule():
    quartiles = {"quartiles": [1.0, 2.0, 4.0]}
    assert _fitted("ML_ROBUST_SCALER(x, FALSE, TRUE) OVER ()", quartiles) == (
        "ML_ROBUST_SCALER(x, 0.0E0, 1.0E0, 4.0E0)")
    assert _fitted("ML_ROBUST_SCALER(x, TRUE, FALSE) OVER ()", quartiles) == (
        "ML_ROBUST_SCALER(x, 2.0E0, 0.0E0, 1.0E0)")
    zero = {"quartiles": [1.0, 1.0, 1.0]}
    assert _fitted("ML_ROBUST_SCALER(x) OVER ()", zero) == (
        "ML_ROBUST_SCALER(x, 1.0E0, 0.0E0, 1.0E0)")  # scikit-learn: divide by 1
    assert _fitted("ML_ROBUST_SCALER(x, FALSE, TRUE, 0.25, 0.75, 'flink-ml') OVER ()",
                   zero).endswith("ELSE 0E0 END")  # Flink ML: scale by 0
    call = _call_in_transform("ML_ROBUST_SCALER(x, TRUE, TRUE, 0.1, 0.9) OVER ()")
    request = FUNCTIONS[call.function].requests(
        call.arguments, FUNCTIONS[call.function].fit_options(call.arguments, call), str)
    assert request.aggregates["quartiles"][0].endswith("ARRAY[0.1E0, 0.5E0, 0.9E0])")


def test_imputer_takes_flink_mls_rule_and_a_missing_value():
    assert _sql("ML_IMPUTER(x, 2, -1)").startswith("CASE WHEN ((CAST((x) AS DOUBLE) IS NULL OR")
    assert "OR CAST((x) AS DOUBLE) = (-1.0E0)) THEN 2.0E0" in _sql("ML_IMPUTER(x, 2, -1)")
    assert _fitted("ML_IMPUTER(x, 'mean', 'flink-ml', 0) OVER ()", {"value": 2.5}) == (
        "ML_IMPUTER(x, 2.5E0, 0.0E0)")
    with pytest.raises(SchemaError, match="every training value is NULL, NaN or 0"):
        _fitted("ML_IMPUTER(x, 'mean', 'flink-ml', 0) OVER ()", {"value": None})
    assert _fitted("ML_IMPUTER(x, 'mean') OVER ()", {"value": None}) == (
        "ML_IMPUTER(x, 0.0E0)")  # scikit-learn's rule: as before
    # Flink ML's median: the largest value not above the interpolated one, in a second job
    call = _call_in_transform("ML_IMPUTER(x, 'median', 'flink-ml') OVER ()")
    function = FUNCTIONS[call.function]
    request = function.requests(call.arguments, function.fit_options(call.arguments, call), str)
    assert request.aggregates["median"].startswith("PERCENTILE(")
    second = request.then({"median": 1.5})
    assert second["value"].startswith("MAX(CASE WHEN") and "<= 1.5E0 THEN" in second["value"]
    assert request.then({"median": None}) == {}


@pytest.mark.parametrize("expression, message", [
    ("ML_STANDARD_SCALER(x, TRUE) OVER ()", "takes 1, 3 or 4 arguments, found 2"),
    ("ML_STANDARD_SCALER(x, 1, TRUE) OVER ()", "with_mean must be TRUE or FALSE, found '1'"),
    ("ML_STANDARD_SCALER(x, TRUE, TRUE, 'spark') OVER ()",
     "rule must be 'scikit-learn' or 'flink-ml', found 'spark'"),
    ("ML_MIN_MAX_SCALER(x, 1) OVER ()", "takes 1, 3 or 4 arguments, found 2"),
    ("ML_ROBUST_SCALER(x, TRUE, TRUE, 0.5) OVER ()", "takes 1, 3, 5 or 6 arguments, found 4"),
    ("ML_ROBUST_SCALER(x, TRUE, TRUE, 0.8, 0.2) OVER ()", "needs 0 <= lower < upper <= 1"),
    ("ML_MIN_MAX_SCALER(x, 4, 1) OVER ()", "needs lower < upper, found 4 and 1"),
    ("ML_MIN_MAX_SCALER(x, 0, 1, 'sklearn') OVER ()",
     "rule must be 'bigquery' or 'flink-ml', found 'sklearn'"),
])
def test_scaler_options_are_checked(expression, message):
    with pytest.raises(SqlSyntaxError, match=re.escape(message)):
        _call_in_transform(expression)


def _call_in_transform(expression: str) -> ir.FeatureCall:
    return parse_one(f"CREATE MODEL m TRANSFORM ({expression} AS c) WITH ('model_type' = "
                     "'kmeans') AS SELECT 1").transform[0].calls[0]


def test_negative_fitted_constants_read_back_as_literals():
    # Fitted constants are written parenthesised when negative: `(-0.5E0)`; the stored
    # expression is parsed again when the model scores, so it must stay a literal.
    stored = _fitted("ML_STANDARD_SCALER(x) OVER ()", {"mean": -0.5, "std": 2.0})
    assert stored == "ML_STANDARD_SCALER(x, (-0.5E0), 2.0E0)"
    assert _sql(stored) == _sql("ML_STANDARD_SCALER(x, -0.5, 2)")
    assert _sql("ML_MIN_MAX_SCALER(x, ((-3)), (4))") == _sql("ML_MIN_MAX_SCALER(x, -3, 4)")


@pytest.mark.parametrize("sql, col, message", [
    ("SELECT ML_MIN_MAX_SCALER(x, 5, 5) FROM t", 29, "min < max"),
    ("SELECT ML_MIN_MAX_SCALER(x, 0) FROM t", 8, "takes 3 arguments, found 2"),
    ("SELECT ML_STANDARD_SCALER(x, 'm', 1) FROM t", 30, "mean must be a number or a numeric"),
    ("SELECT ML_STANDARD_SCALER(x, 0, 0) FROM t", 33, "std must be > 0"),
    ("SELECT ML_BUCKETIZE(x, ARRAY[3, 1]) FROM t", 24, "ascending"),
    ("SELECT ML_BUCKETIZE(x, ARRAY[1], ARRAY['a']) FROM t", 34, "needs 3 bucket names"),
    ("SELECT ML_LABEL_ENCODER(c, ARRAY[1]) FROM t", 28, "ARRAY[...] of 'strings'"),
    ("SELECT ML_STANDARD_SCALER(x) OVER () FROM t", 8, "inside CREATE MODEL ... TRANSFORM"),
    ("SELECT ML_QUANTILE_BUCKETIZE(x, 4) FROM t", 8, "fits its split points at training"),
    ("SELECT ML_NORMALIZER(a, 2) FROM t", 22, "ARRAY[expression, ...]"),
    ("SELECT ML_NORMALIZER(ARRAY[a], 0.5) FROM t", 32, "p must be >= 1"),
    ("SELECT ML_IMPUTER(x, y) FROM t", 22, "number or 'string' literal"),
    ("SELECT ML_BUCKETIZE(x, ARRAY[1, 1], 'index', 'keep') FROM t", 24,
     "at least two strictly increasing"),
    ("SELECT ML_BUCKETIZE(x, ARRAY[1, 2], 'names', 'keep') FROM t", 37, "must be 'index'"),
    ("SELECT ML_BUCKETIZE(x, ARRAY[1, 2], 'index', 'drop') FROM t", 46,
     "handle_invalid must be 'error' or 'skip' or 'keep'"),
    ("SELECT ML_STRING_INDEXER(c, ARRAY['a', 'a']) FROM t", 29, "repeats a value"),
    ("SELECT ML_MIN_MAX_SCALER(x, CAST('Infinity' AS DOUBLE), 2) FROM t", 29,
     "must be a number"),
    ("SELECT ML_ELEMENTWISE_PRODUCT(ARRAY[a, b], ARRAY[1, 2, 3]) FROM t", 44,
     "The scaling vector size is 3, which is not equal input vector size(2)."),
    ("SELECT ML_VECTOR_SLICER(ARRAY[a, b], ARRAY[0, 2]) FROM t", 38,
     "Index value 2 is greater than vector size:2"),
    ("SELECT ML_VECTOR_SLICER(ARRAY[a, b], ARRAY[1, 1]) FROM t", 38,
     "Parameter indices is given an invalid value {1,1}"),
    ("SELECT ML_DCT(ARRAY[a], 1) FROM t", 25, "inverse must be TRUE or FALSE"),
    ("SELECT ML_STANDARD_SCALAR(x, 1, 2) FROM t", 8, "did you mean 'ML_STANDARD_SCALER'"),
    ("SELECT ML_MIN_MAX_SCALER((x, 0, 1 FROM t", 25, "unclosed '('"),
])
def test_bad_calls_are_syntax_errors_at_the_argument(sql, col, message):
    with pytest.raises(SqlSyntaxError) as caught:
        parse_one(sql)
    assert (caught.value.line, caught.value.col) == (1, col), str(caught.value)
    assert message in str(caught.value)


def test_a_qualified_or_unrelated_name_is_not_a_call():
    assert parse_one("SELECT s.ML_BUCKETIZE(x) FROM t").features == ()
    assert parse_one("SELECT 'ML_BUCKETIZE(x)' FROM t").features == ()


def test_kbins_edges_follow_flink_mls_strategies():
    from mlsql.feature_functions.buckets import kbins_edges

    values = [1, 1, 1, 4, 5, 6, 7, 10, 13]
    assert kbins_edges(values, 3, "uniform") == [1.0, 5.0, 9.0, 13.0]
    assert kbins_edges(values, 3, "quantile") == [1.0, 4.0, 7.0, 13.0]  # sorted[i * n / 3]
    assert kbins_edges(values, 3, "kmeans") == [1.0, 3.25, 8.5, 13.0]  # centroid midpoints
    few = [0] * 8 + [3]  # fewer distinct values than bins: k-means gives way to uniform
    assert kbins_edges(few, 3, "kmeans") == [0.0, 1.0, 2.0, 3.0]
    assert kbins_edges(few, 3, "quantile") == [0.0, 3.0]  # equal edges merged
    assert kbins_edges([10] * 9, 3, "uniform") is None  # constant
    assert _fitted("ML_KBINS_DISCRETIZER(x, 3, 'uniform') OVER ()").endswith("ELSE 0E0 END")


def test_bucketize_gives_the_bucket_index():
    sql = _sql("ML_BUCKETIZE(x, ARRAY[5, 9], 'index')")
    assert "WHEN CAST((x) AS DOUBLE) < 5.0E0 THEN 0.0E0 WHEN CAST((x) AS DOUBLE) < 9.0E0 " \
           "THEN 1.0E0 ELSE 2.0E0 END" in sql and "THEN CAST(NULL AS DOUBLE)" in sql


def test_bucketize_with_handle_invalid_is_flink_mls_bucketizer():
    keep = _sql("ML_BUCKETIZE(x, ARRAY[CAST('-Infinity' AS DOUBLE), 0, 5], 'index', 'keep')")
    x = "CAST((x) AS DOUBLE)"
    assert keep.startswith(f"CASE WHEN NOT ({x} IS NULL OR")  # NULL, NaN: invalid
    assert f"AND {x} <= 5.0E0 THEN CASE WHEN {x} < 0.0E0 THEN 0.0E0 ELSE 1.0E0 END " \
           "ELSE 2.0E0 END" in keep
    assert ">=" not in keep  # no lower edge
    skip = _sql("ML_BUCKETIZE(x, ARRAY[1, 5], 'index', 'skip')")
    assert f"AND {x} >= 1.0E0 AND {x} <= 5.0E0 THEN 0.0E0 ELSE CAST(NULL AS DOUBLE) END" in skip
    error = _sql("ML_BUCKETIZE(x, ARRAY[1, 5], 'index', 'error')")
    assert error.endswith("ELSE CAST(CONCAT('mlsql: ', 'The input contains invalid value. See "
                          "handleInvalid parameter for more options.', SUBSTRING(COALESCE("
                          f"CAST({x} AS STRING), '') FROM 1 FOR 0)) AS DOUBLE) END")


def test_string_indexer_is_flink_mls():
    c = "CAST((c) AS STRING)"
    assert _sql("ML_STRING_INDEXER(c, ARRAY['b', 'a'], 'keep')") == (
        f"CASE WHEN {c} IN ('b', 'a') THEN CASE {c} WHEN 'b' THEN 0.0E0 WHEN 'a' THEN 1.0E0 "
        "END ELSE 2.0E0 END")
    assert "The input contains unseen string: ', COALESCE(" in _sql(
        "ML_STRING_INDEXER(c, ARRAY['a'])")  # 'error' by default
    counted = [("b", 4), ("a", 3), ("c", 2), ("d", 2)]  # most frequent first, ties by value
    orders = {"alphabetAsc": "'a', 'b', 'c', 'd'", "alphabetDesc": "'d', 'c', 'b', 'a'",
              "frequencyAsc": "'c', 'd', 'a', 'b'", "frequencyDesc": "'b', 'a', 'c', 'd'",
              "arbitrary": "'b', 'a', 'c', 'd'"}
    for order, vocabulary in orders.items():
        assert _fitted(f"ML_STRING_INDEXER(c, '{order}') OVER ()", vocabulary=counted) == (
            f"ML_STRING_INDEXER(c, ARRAY[{vocabulary}], 'error')")
    assert _fitted("ML_STRING_INDEXER(c, 'frequencyDesc', 3, 'skip') OVER ()",
                   vocabulary=counted) == "ML_STRING_INDEXER(c, ARRAY['b', 'a'], 'skip')"
    assert _fitted("ML_STRING_INDEXER(c, 'frequencyDesc', 4) OVER ()", vocabulary=counted) \
        == "ML_STRING_INDEXER(c, ARRAY['b', 'a', 'c', 'd'], 'error')"  # not more than 4
    with pytest.raises(SqlSyntaxError, match="only works when the order is set as"):
        _fitted("ML_STRING_INDEXER(c, 'alphabetAsc', 3) OVER ()")


def test_a_job_failed_on_purpose_shows_its_message():
    from mlsql.runtime.flink_errors import flink_message

    error = RuntimeError('An error occurred while calling o1.collect.\n'
                         ': org.apache.flink.runtime.client.JobExecutionException: Job '
                         'execution failed.\nCaused by: java.lang.NumberFormatException: For '
                         'input string: "mlsql: The input contains unseen string: e. See '
                         'handleInvalid parameter for more options."\n\tat org.apache.x(X.java)')
    assert flink_message(error) == ("The input contains unseen string: e. See handleInvalid "
                                    "parameter for more options.")


def test_one_hot_encoder_over_indices_is_flink_mls():
    x = "CAST((i) AS DOUBLE)"
    sql = _sql("ML_ONE_HOT_ENCODER(i, 2, 'flink-ml')")
    assert sql.startswith(f"ARRAY[CASE WHEN NOT (({x} IS NULL OR {x} < 0 OR {x} <> FLOOR({x})")
    assert f"AND {x} <= 2.0E0 THEN CASE WHEN {x} = 0.0E0 THEN 1E0 ELSE 0E0 END ELSE CAST(" in sql
    assert "cannot be parsed as indexed integer." in sql
    assert sql.endswith(f", CASE WHEN {x} = 1.0E0 THEN 1E0 ELSE 0E0 END]")
    assert [n for n, _ in expanded(_call("ML_ONE_HOT_ENCODER(i, 2, 'flink-ml')"), "o", None)] \
        == ["o_1", "o_2"]
    assert _fitted("ML_ONE_HOT_ENCODER(i, 'flink-ml') OVER ()",
                   {"max": 2.0, "not_index": None}) == "ML_ONE_HOT_ENCODER(i, 2, 'flink-ml')"
    assert _fitted("ML_ONE_HOT_ENCODER(i, 'flink-ml', FALSE) OVER ()",
                   {"max": 2.0, "not_index": None}) == "ML_ONE_HOT_ENCODER(i, 3, 'flink-ml')"
    with pytest.raises(MlsqlError, match=r"Value 0\.5 cannot be parsed as indexed integer\."):
        _fitted("ML_ONE_HOT_ENCODER(i, 'flink-ml') OVER ()", {"max": 2.0, "not_index": "0.5"})


def test_index_to_string_inverts_the_string_indexer():
    sql = _sql("ML_INDEX_TO_STRING(i, ARRAY['a', 'b'])")
    assert sql.startswith("CASE WHEN CAST((i) AS DOUBLE) = 0.0E0 THEN 'a' WHEN CAST((i) AS "
                          "DOUBLE) = 1.0E0 THEN 'b' ELSE CAST(CAST(CONCAT('mlsql: ', CONCAT("
                          "'The input contains unseen index: ', COALESCE(CAST((i) AS STRING), "
                          "'null'), '.')")


def test_flink_mls_vector_stages():
    assert _sql("ML_BINARIZER(x, 1.5)") == (
        "CASE WHEN CAST((x) AS DOUBLE) IS NULL THEN CAST(NULL AS DOUBLE) WHEN CAST((x) AS "
        "DOUBLE) > 1.5E0 THEN 1E0 ELSE 0E0 END")
    assert _sql("ML_ELEMENTWISE_PRODUCT(ARRAY[a, b], ARRAY[2, 0.5])") == (
        "ARRAY[CAST((a) AS DOUBLE) * 2.0E0, CAST((b) AS DOUBLE) * 0.5E0]")
    assert _sql("ML_VECTOR_SLICER(ARRAY[a, b, c], ARRAY[2, 0])") == (
        "ARRAY[CAST((c) AS DOUBLE), CAST((a) AS DOUBLE)]")
    forward = _sql("ML_DCT(ARRAY[a, b])")  # [[√½, √½], [√½, -√½]]
    half = repr(math.sqrt(0.5))
    assert forward.startswith(f"ARRAY[CAST((a) AS DOUBLE) * {half}E0 + CAST((b) AS DOUBLE) * "
                              f"{half}E0, CAST((a) AS DOUBLE) * {half}E0 + CAST((b) AS DOUBLE)")
    assert [name for name, _ in expanded(_call("ML_DCT(ARRAY[a, b], TRUE)"), "d", None)] == [
        "d_1", "d_2"]


def test_interaction_multiplies_one_element_of_each_input():
    assert _sql("ML_INTERACTION(x, ARRAY[a, b], ARRAY[c, d])") == "ARRAY[" + ", ".join(
        " * ".join(f"CAST(({v}) AS DOUBLE)" for v in ("x", *pair))
        for pair in (("a", "c"), ("a", "d"), ("b", "c"), ("b", "d"))) + "]"


def test_regex_tokenize_is_java_regex_sql():
    assert _sql("ML_REGEX_TOKENIZE(t, '\\s+')") == (
        "ARRAY_REMOVE(SPLIT(REGEXP_REPLACE(LOWER(CAST((t) AS STRING)), '\\s+', CHR(1)), "
        "CHR(1)), '')")
    matches = _sql("ML_REGEX_TOKENIZE(t, '\\w+', FALSE, 3, FALSE)")
    assert matches == ("ARRAY_REMOVE(SPLIT(REGEXP_REPLACE(ARRAY_JOIN(REGEXP_EXTRACT_ALL("
                       "CAST((t) AS STRING), '\\w+', 0), CHR(1)), "
                       "'(?<=^|\\x01)[^\\x01]{0,2}(?=\\x01|$)', ''), CHR(1)), '')")


def test_variance_threshold_selector_keeps_the_varied_elements():
    fitted = _fitted("ML_VARIANCE_THRESHOLD_SELECTOR(ARRAY[a, b, c], 8) OVER ()",
                     {"variance0": 13.9, "variance1": 0.5, "variance2": None})
    assert fitted == "ML_VARIANCE_THRESHOLD_SELECTOR(ARRAY[a, b, c], ARRAY[0])"
    assert _sql(fitted) == "ARRAY[CAST((a) AS DOUBLE)]"
    assert _sql("ML_VARIANCE_THRESHOLD_SELECTOR(ARRAY[a], ARRAY[])") == (
        "ARRAY_REMOVE(ARRAY[0E0], 0E0)")  # none kept: an empty array


@pytest.mark.parametrize(("expression", "message"), [
    ("ML_STOP_WORDS_REMOVER(t, 'klingon')", "klingon is not in the supported language list"),
    ("ML_STOP_WORDS_REMOVER(t, ARRAY[1, 2])", "stop words are ARRAY['word', ...] or a language"),
    ("ML_STOP_WORDS_REMOVER(t, 'english', FALSE, 'rt')",
     "Parameter locale is given an invalid value rt"),
    ("ML_STOP_WORDS_REMOVER(t, 'english', 'yes')", "case_sensitive must be TRUE or FALSE"),
])
def test_stop_words_remover_arguments_are_checked_where_written(expression, message):
    with pytest.raises(SqlSyntaxError, match=re.escape(message)):
        _sql(expression)


def test_stop_words_compare_lower_cased_in_the_locales_language():
    from udfs.text import StopWordsRemoverFunction, locale_lower

    assert locale_lower("mİlk", "tr") == "milk" and locale_lower("cookIe", "tr") == "cookıe"
    assert locale_lower("cookIe", "en") == "cookie"
    remover = StopWordsRemoverFunction(["The", None], case_sensitive=False, language="en")
    got = remover(pd.Series([["the", "THE", None, "cat"], None]))
    assert got.tolist() == [["cat"], None]


def test_a_udf_that_fails_a_job_marks_its_message_as_mlsql_sql_does():
    from mlsql.errors import RAISED_MARK
    from udfs.vectors import FAILS_JOB

    assert FAILS_JOB == RAISED_MARK


@pytest.mark.parametrize(("expression", "message"), [
    ("ML_VECTOR_ASSEMBLER(ARRAY[a, b], ARRAY[1])", "one whole number >= 1 for each of the 2"),
    ("ML_VECTOR_ASSEMBLER(ARRAY[a], ARRAY[0])", "one whole number >= 1 for each of the 1"),
    ("ML_VECTOR_ASSEMBLER(ARRAY[a], ARRAY[1], 'drop')",
     "handle_invalid must be 'error' or 'skip' or 'keep'"),
    ("ML_VECTOR_ASSEMBLER(a, ARRAY[1])", "inputs must be ARRAY[expression, ...]"),
    ("ML_VECTOR_ASSEMBLER(ARRAY[a], ARRAY[200000])", "would make 200,000 elements"),
])
def test_vector_assembler_arguments_are_checked_where_written(expression, message):
    with pytest.raises(SqlSyntaxError, match=re.escape(message)):
        _sql(expression)


def test_vector_assembler_joins_numbers_dense_and_sparse_vectors():
    from udfs.vectors import InvalidInput, VectorAssemblerFunction, assemble

    assert assemble([1, [2.0, 3.0], [(1, 5.0)]], [1, 2, 3], keep=False) == [
        1.0, 2.0, 3.0, 0.0, 5.0, 0.0]
    kept = assemble([None, float("nan")], [2, 1], keep=True)  # NULL: size-many NaN
    assert len(kept) == 3 and all(math.isnan(v) for v in kept)
    assert assemble([{}, []], [2, 1], keep=False) == [0.0, 0.0, 0.0]  # all-zero sparse
    with pytest.raises(InvalidInput, match="Expected size: 2, actual size: 4"):
        assemble([[(3, 1.0)]], [2], keep=False)  # a sparse index past its size
    skip = VectorAssemblerFunction([1], "skip")
    assert skip(pd.Series([1.0, None])).tolist() == [[1.0], None]


def test_vector_indexer_keeps_zero_at_zero_and_leaves_many_values_as_they_are():
    counted = [(1.0, 2), (-1.0, 1), (0.0, 2)]
    assert _fitted("ML_VECTOR_INDEXER(x, 3, 'keep') OVER ()", vocabulary=counted) == (
        "ML_VECTOR_INDEXER(x, ARRAY[0.0E0, (-1.0E0), 1.0E0], 'keep')")
    assert _fitted("ML_VECTOR_INDEXER(x, 2) OVER ()", vocabulary=counted) == (
        "ML_VECTOR_INDEXER(x)")
    assert _sql("ML_VECTOR_INDEXER(x)") == "CAST((x) AS DOUBLE)"
    keep = _sql("ML_VECTOR_INDEXER(x, ARRAY[0, 5], 'keep')")
    assert "WHEN 5.0E0 THEN 1.0E0" in keep and "ELSE 2.0E0 END" in keep


def test_count_vectorizer_counts_vocabulary_terms_with_min_tf_and_binary():
    from mlsql.feature_functions.count_vectorizer import df_order_problem
    from udfs.text import count_vector

    index = {"c": 0, "a": 1}
    assert count_vector(["a", "c", "b", "c", None], index, 1.0, False) == [(0, 2.0), (1, 1.0)]
    assert count_vector(["a", "c", "c"], index, 0.5, False) == [(0, 2.0)]  # 2 >= 3 * 0.5
    assert count_vector(["a", "c", "c"], index, 1.0, True) == [(0, 1.0), (1, 1.0)]
    assert count_vector(None, index, 1.0, False) is None
    assert df_order_problem(0.9, 1.0) is None  # a fraction against a count: checked at fit
    assert df_order_problem(0.9, 1.0, rows=5) == "maxDF must be >= minDF."
    assert df_order_problem(2, 4, rows=5) is None


def test_count_vectorizer_fitted_vocabulary_keeps_terms_by_document_count():
    counted = [("c", 4), ("a", 3), ("b", 2), ("e", 2), ("d", 1), ("f", 1)]
    assert _fitted("ML_COUNT_VECTORIZER(t, 3, 2, 0.7) OVER ()", {"documents": 5},
                   counted) == "ML_COUNT_VECTORIZER(t, ARRAY['a', 'b', 'e'], 1.0E0, FALSE, TRUE)"
    with pytest.raises(SqlSyntaxError, match=re.escape("sparse FALSE is an ARRAY of at most")):
        _sql("ML_COUNT_VECTORIZER(t, ARRAY[" + ", ".join(f"'{i}'" for i in range(5000))
             + "], 1, FALSE, FALSE)")


def test_univariate_selection_modes_follow_flink_ml():
    from mlsql.feature_functions.univariate import select, threshold_problem

    p = [0.04, 0.001, float("nan"), 0.001, 0.3]
    assert select(p, "numTopFeatures", 3) == [1, 3, 0]  # equal p-values by index, NaN last
    assert select(p, "percentile", 0.5) == [1, 3]
    assert select(p, "fpr", 0.05) == [0, 1, 3]
    assert select(p, "fwe", 0.05) == [1, 3]  # p < 0.05 / 5
    assert select(p, "fdr", 0.05) == [1, 3]  # 0.04 >= 0.05 / 5 * 3
    assert select([0.5], "fdr", 0.05) == []
    assert threshold_problem("numTopFeatures", 2.0) is None
    assert "positive Integer" in threshold_problem("numTopFeatures", 0.5)
    assert "range [0, 1]" in threshold_problem("fdr", 2.0)
    assert _sql("ML_UNIVARIATE_FEATURE_SELECTOR(ARRAY[a, b, c], ARRAY[2, 0])") == (
        "ARRAY[CAST((a) AS DOUBLE), CAST((c) AS DOUBLE)]")

"""CREATE MODEL ... TRANSFORM (...): parsing, the stored document, and what scoring adds."""

import pytest

from mlsql.errors import SchemaError, Site, SqlSyntaxError
from mlsql.frontend.parser import parse_one
from mlsql.runtime.flink_types import Column
from mlsql.syntax import ir
from mlsql.transform.apply import PREFIX, apply_transform
from mlsql.transform.document import columns_read, output_columns
from mlsql.transform.fit import _substitute

SQL = ("CREATE MODEL m TRANSFORM (ML_STANDARD_SCALER(amount) OVER () AS amount_z,\n"
       "  ML_QUANTILE_BUCKETIZE(hour_of_day, 6) OVER () AS hour_bucket, merchant_category,\n"
       "  CAST(is_fraud AS INT) AS label)\n"
       "WITH ('model_type' = 'logistic_reg', 'label' = 'label') AS SELECT * FROM tx")


def test_transform_items_aliases_and_fitted_calls():
    statement = parse_one(SQL)
    assert isinstance(statement, ir.CreateModel)
    items = statement.transform
    assert [i.alias for i in items] == ["amount_z", "hour_bucket", "merchant_category", "label"]
    assert items[0].expression == "ML_STANDARD_SCALER(amount) OVER ()"
    assert items[0].calls[0].fitted and items[0].position == ir.Position(1, 27)
    assert items[1].position == ir.Position(2, 3)
    assert items[3].expression == "CAST(is_fraud AS INT)" and not items[3].calls
    assert statement.query.text == "SELECT * FROM tx"


def test_bigquery_order_options_then_transform():
    statement = parse_one("CREATE MODEL m OPTIONS (model_type = 'linear_reg', input_label_cols"
                          " = ['y']) TRANSFORM (ML_MAX_ABS_SCALER(x) OVER () AS x, y) AS "
                          "SELECT x, y FROM t")
    assert [i.alias for i in statement.transform] == ["x", "y"]
    assert statement.option_map["model_type"] == "linear_reg"


def test_without_transform_nothing_changes():
    assert parse_one("CREATE MODEL m WITH ('model_type' = 'kmeans') AS SELECT 1").transform \
        is None


@pytest.mark.parametrize("sql, line, col, message", [
    ("CREATE MODEL m TRANSFORM (a + 1) WITH ('model_type'='kmeans') AS SELECT 1", 1, 27,
     "name each TRANSFORM expression"),
    ("CREATE MODEL m TRANSFORM (a, a) WITH ('model_type'='kmeans') AS SELECT 1", 1, 30,
     "makes column 'a' twice"),
    ("CREATE MODEL m TRANSFORM (\n  ML_IMPUTER(x, 'avg') OVER () AS x) AS SELECT 1", 2, 17,
     "strategy must be one of mean, median, most_frequent"),
    ("CREATE MODEL m TRANSFORM (ML_BUCKETIZE(x, ARRAY[1]) OVER () AS b) AS SELECT 1", 1, 27,
     "has no fitted form"),
    ("CREATE MODEL m TRANSFORM (ML_STANDARD_SCALER(ML_IMPUTER(x, 'mean') OVER ()) OVER () "
     "AS z) AS SELECT 1", 1, 46, "fit one at a time"),
    ("CREATE MODEL m TRANSFORM (ML_QUANTILE_BUCKETIZE(x, 1) OVER () AS b) AS SELECT 1", 1, 52,
     "integer >= 2"),
    ("CREATE MODEL m TRANSFORM (x AS y", 1, 16, "unclosed TRANSFORM"),
])
def test_transform_errors_name_line_and_column(sql, line, col, message):
    with pytest.raises(SqlSyntaxError) as caught:
        parse_one(sql)
    assert (caught.value.line, caught.value.col) == (line, col), str(caught.value)
    assert message in str(caught.value)


def test_fitted_calls_are_replaced_inside_explicit_ones():
    item = parse_one("CREATE MODEL m TRANSFORM (ML_NORMALIZER(ARRAY[ML_STANDARD_SCALER(a) OVER "
                     "(), b + 1], 1) AS n) WITH ('model_type'='kmeans') AS SELECT 1"
                     ).transform[0]
    fitted = item.calls[0].arguments[0].calls[0]
    text = _substitute(item.expression, item.calls, {id(fitted): "ML_STANDARD_SCALER(a, 1, 2)"})
    assert text == "ML_NORMALIZER(ARRAY[ML_STANDARD_SCALER(a, 1, 2), b + 1], 1)"
    assert [name for name, _ in output_columns(text, "n", None)] == ["n_1", "n_2"]


def test_columns_read_skips_functions_and_strings():
    assert columns_read("COALESCE(amount, `hour`) + LOG(x) * 'amount'",
                        ["amount", "hour", "LOG", "y"]) == ["amount", "hour"]


class _Model:
    name = "m"

    def __init__(self, metadata):
        self.metadata = metadata


def _model() -> _Model:
    return _Model({
        "inputs": [{"name": "amount_z", "type": "DOUBLE", "kind": "numeric"},
                   {"name": "mc_1", "type": "DOUBLE", "kind": "numeric"},
                   {"name": "mc_other", "type": "DOUBLE", "kind": "numeric"}],
        "label": {"name": "label", "type": "INT"},
        "transform": {"format": 1, "items": [
            {"name": "amount_z", "written": "ML_STANDARD_SCALER(amount) OVER ()",
             "expression": "ML_STANDARD_SCALER(amount, 1.0E0, 2.0E0)",
             "columns": ["amount_z"], "reads": ["amount"]},
            {"name": "mc", "written": "ML_ONE_HOT_ENCODER(c) OVER ()",
             "expression": "ML_ONE_HOT_ENCODER(c, ARRAY['a'])", "columns": ["mc_1", "mc_other"],
             "reads": ["c"]},
            {"name": "label", "written": "CAST(y AS INT)", "expression": "CAST(y AS INT)",
             "columns": ["label"], "reads": ["y"]}]}})


def test_scoring_adds_the_transform_columns_to_the_raw_table():
    columns = [Column("amount", "DOUBLE", "DOUBLE"), Column("c", "STRING", "VARCHAR")]
    done = apply_transform(_model(), "tx", columns, "ML_PREDICT at line 1, column 15", None)
    assert done.renames == {n: PREFIX + n for n in ("amount_z", "mc_1", "mc_other")}
    assert done.table_sql.startswith("(SELECT *, CASE WHEN") and done.table_sql.endswith(
        " AS `__mlsql_transform_mc_other` FROM tx)")
    assert [c.name for c in done.columns[:2]] == ["amount", "c"]  # the label is not needed


def test_a_missing_raw_column_is_named():
    with pytest.raises(SchemaError, match=r"column 'c' not found in tx; model 'm' computes its "
                                          r"inputs from it in its TRANSFORM \(ML_ONE_HOT"):
        apply_transform(_model(), "tx", [Column("amount", "DOUBLE", "DOUBLE")],
                        Site("ML_PREDICT"), None)
    columns = [Column("amount", "DOUBLE", "DOUBLE"), Column("c", "STRING", "VARCHAR")]
    with pytest.raises(SchemaError, match=r"column 'y' not found .* computes its label"):
        apply_transform(_model(), "tx", columns, Site("ML_EVALUATE"), None, with_label=True)


def test_a_label_missing_from_the_transform_is_refused_before_any_job():
    from mlsql.errors import SchemaError
    from mlsql.frontend.parser import parse_one
    from mlsql.transform.fit import fit_statement

    statement = parse_one(
        "CREATE MODEL m TRANSFORM (ML_STANDARD_SCALER(amount) OVER () AS amount_z, fraud)\n"
        "WITH ('model_type' = 'logistic_reg', 'label' = 'is_fraud') AS SELECT * FROM t")
    # No context: the check comes before anything reaches Flink.
    with pytest.raises(SchemaError, match=r"TRANSFORM at line 1, column 27: label 'is_fraud' "
                                          r"is not one of its columns \(amount_z, fraud\)"):
        fit_statement(statement, "SELECT * FROM t", None, "is_fraud")

"""ML_CHI_SQUARE_TEST, ML_ANOVA_TEST and ML_F_VALUE_TEST: Flink ML's ChiSqTest, ANOVATest and
FValueTest, each feature of a bounded table against its label.

    ML_CHI_SQUARE_TEST(TABLE t, DESCRIPTOR(label), DESCRIPTOR(f1, f2, ...))
        Pearson's chi-squared test of independence of each (categorical) feature and the
        (categorical) label: its contingency table of distinct values;
        degrees of freedom (values - 1) * (labels - 1).
    ML_ANOVA_TEST(...)   one-way ANOVA F-test of each numeric feature across the label's
        classes; degrees of freedom n - 1 (Flink ML's: between + within).
    ML_F_VALUE_TEST(...)   the univariate linear regression F-test of each numeric feature
        against a numeric label; degrees of freedom n - 2.

One row per feature, in the DESCRIPTOR's order: feature, feature_index (from 0), p_value,
degrees_of_freedom, statistic. The sufficient statistics (counts, sums) are one Flink job
when the statement is planned (as ML_EVALUATE's metrics are), the p-values scipy's from
them (mlsql.feature_functions.feature_tests). Rows with a NULL label or feature are left out.
A statistic that is 0 / 0 (a constant feature) is NaN, as in Flink ML.
"""

from __future__ import annotations

from mlsql.errors import SchemaError, Site
from mlsql.feature_functions.feature_tests import (
    ANOVA,
    CHI_SQUARE,
    F_VALUE,
    FeatureTestError,
    rows_with_values,
    run_test,
)
from mlsql.planner.bounded import require_bounded
from mlsql.planner.context import PlanContext, table_query
from mlsql.planner.rows import argument_column, fetch_rows
from mlsql.planner.values import table_subquery
from mlsql.runtime.flink_types import NUMERIC_ROOTS
from mlsql.syntax import ir
from mlsql.syntax.dialect import quote_identifier

COLUMNS = [("feature", "STRING"), ("feature_index", "INT"), ("p_value", "DOUBLE"),
           ("degrees_of_freedom", "BIGINT"), ("statistic", "DOUBLE")]
TESTS = {ir.CHI_SQUARE_TEST: CHI_SQUARE, ir.ANOVA_TEST: ANOVA, ir.F_VALUE_TEST: F_VALUE}


def feature_test_subquery(call: ir.AnalysisCall, context: PlanContext) -> str:
    assert call.table_sql is not None and call.label is not None and call.features
    where = call.where
    columns = {c.name: c for c in context.table_argument_columns(
        call.table_sql, call.table_position or call.position)}
    numeric = {ir.ANOVA_TEST: call.features, ir.F_VALUE_TEST: (*call.features, call.label)}
    for ref in (call.label, *call.features):
        column = argument_column(columns, ref, call)
        if ref in numeric.get(call.function, ()) and column.root not in NUMERIC_ROOTS:
            raise SchemaError(f"{call.function} needs a numeric {ref.name!r}, which has type "
                              f"{column.type}", at=Site(call.function, ref.position))
    require_bounded(context.runtime, call.table_sql, table_query(call.table_sql), where)
    label = quote_identifier(call.label.name)
    features = [quote_identifier(f.name) for f in call.features]

    try:
        results = run_test(TESTS[call.function], lambda sql: fetch_rows(context, sql, where),
                           rows_with_values(call.table_sql, label, features), label, features)
    except FeatureTestError as error:
        raise SchemaError(f"{call.table_sql}: {error}", at=where) from None
    return table_subquery(context, "__mlsql_feature_test", COLUMNS, [
        [ref.name, index, p_value, dof, statistic]
        for index, (ref, (p_value, dof, statistic)) in enumerate(
            zip(call.features, results, strict=True))])


ANALYSES = {name: feature_test_subquery for name in ir.FEATURE_TEST_FUNCTIONS}

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
them. Rows with a NULL label or feature are left out. A statistic that is 0 / 0 (a constant
feature) is NaN, as in Flink ML.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from scipy import stats

from mlsql.errors import FlinkError, MlsqlError, SchemaError, Site, did_you_mean
from mlsql.planner.bounded import require_bounded
from mlsql.planner.context import PlanContext, table_query
from mlsql.planner.values import table_subquery
from mlsql.runtime.flink_errors import to_flink_error
from mlsql.runtime.flink_types import NUMERIC_ROOTS
from mlsql.syntax import ir
from mlsql.syntax.dialect import quote_identifier
from mlsql.training.extract import fetch

COLUMNS = [("feature", "STRING"), ("feature_index", "INT"), ("p_value", "DOUBLE"),
           ("degrees_of_freedom", "BIGINT"), ("statistic", "DOUBLE")]
Result = tuple[float, int, float]  # p-value, degrees of freedom, statistic
Test = Callable[[PlanContext, str, str, list[str], Site], list[Result]]


def feature_test_subquery(call: ir.AnalysisCall, context: PlanContext) -> str:
    assert call.table_sql is not None and call.label is not None and call.features
    where = call.where
    columns = {c.name: c for c in context.table_argument_columns(
        call.table_sql, call.table_position or call.position)}
    numeric = {ir.ANOVA_TEST: call.features, ir.F_VALUE_TEST: (*call.features, call.label)}
    for ref in (call.label, *call.features):
        column = columns.get(ref.name)
        if column is None:
            raise SchemaError(f"column {ref.name!r} is not in {call.table_sql}"
                              f"{did_you_mean(ref.name, columns)}",
                              at=Site(call.function, ref.position))
        if ref in numeric.get(call.function, ()) and column.root not in NUMERIC_ROOTS:
            raise SchemaError(f"{call.function} needs a numeric {ref.name!r}, which has type "
                              f"{column.type}", at=Site(call.function, ref.position))
    require_bounded(context.runtime, call.table_sql, table_query(call.table_sql), where)
    label = quote_identifier(call.label.name)
    features = [quote_identifier(f.name) for f in call.features]
    present = " AND ".join(f"{c} IS NOT NULL" for c in (label, *features))
    rows_sql = f"SELECT * FROM {call.table_sql} WHERE {present}"
    results = TESTS[call.function](context, rows_sql, label, features, where)
    return table_subquery(context, "__mlsql_feature_test", COLUMNS, [
        [ref.name, index, p_value, dof, statistic]
        for index, (ref, (p_value, dof, statistic)) in enumerate(
            zip(call.features, results, strict=True))])


def chi_square(context: PlanContext, rows_sql: str, label: str, features: list[str],
               where: Site) -> list[Result]:
    frame = _query(context, " UNION ALL ".join(
        f"(SELECT {i} AS f, CAST({x} AS STRING) AS v, CAST({label} AS STRING) AS y, COUNT(*) "
        f"AS c FROM ({rows_sql}) GROUP BY {x}, {label})" for i, x in enumerate(features)),
        where)
    results = []
    for index in range(len(features)):
        part = frame[frame["f"] == index]
        observed = part.pivot_table(index="v", columns="y", values="c", aggfunc="sum",
                                    fill_value=0).to_numpy(dtype=float)
        expected = np.outer(observed.sum(axis=1), observed.sum(axis=0)) / observed.sum()
        statistic = float(((observed - expected) ** 2 / expected).sum())
        dof = (observed.shape[0] - 1) * (observed.shape[1] - 1)
        results.append((float(stats.chi2.sf(statistic, dof)) if dof > 0 else np.nan, dof,
                        statistic))
    return results


def anova(context: PlanContext, rows_sql: str, label: str, features: list[str],
          where: Site) -> list[Result]:
    frame = _query(context, " UNION ALL ".join(
        f"(SELECT {i} AS f, CAST({label} AS STRING) AS y, COUNT(*) AS c, SUM({_double(x)}) AS s, "
        f"SUM({_double(x)} * {_double(x)}) AS ss FROM ({rows_sql}) GROUP BY {label})"
        for i, x in enumerate(features)), where)
    results = []
    for index in range(len(features)):
        part = frame[frame["f"] == index]
        counts, sums = part["c"].to_numpy(dtype=float), part["s"].to_numpy(dtype=float)
        n, classes = counts.sum(), len(part)
        if classes < 2:
            raise SchemaError("ML_ANOVA_TEST needs two or more label classes", at=where)
        if n <= classes:
            raise SchemaError("ML_ANOVA_TEST needs more rows than label classes", at=where)
        total = sums.sum()
        with np.errstate(divide="ignore", invalid="ignore"):
            between = float((sums**2 / counts).sum() - total**2 / n)
            within = float(part["ss"].sum() - total**2 / n) - between
            statistic = (between / (classes - 1)) / (within / (n - classes))
        p_value = float(stats.f.sf(statistic, classes - 1, n - classes))
        results.append((p_value, int(n) - 1, float(statistic)))
    return results


def f_value(context: PlanContext, rows_sql: str, label: str, features: list[str],
            where: Site) -> list[Result]:
    y = _double(label)
    sums = [f"SUM({y}) AS sy", f"SUM({y} * {y}) AS syy"]
    for i, x in enumerate(map(_double, features)):
        sums += [f"SUM({x}) AS sx{i}", f"SUM({x} * {x}) AS sxx{i}", f"SUM({x} * {y}) AS sxy{i}"]
    row = _query(context, f"SELECT COUNT(*) AS n, {', '.join(sums)} FROM ({rows_sql})",
                 where).iloc[0]
    n = float(row["n"])
    if n < 3:
        raise SchemaError("ML_F_VALUE_TEST needs three or more rows", at=where)
    dof = int(n) - 2
    var_y = row["syy"] - row["sy"] ** 2 / n
    results = []
    for i in range(len(features)):
        covariance = row[f"sxy{i}"] - row[f"sx{i}"] * row["sy"] / n
        var_x = row[f"sxx{i}"] - row[f"sx{i}"] ** 2 / n
        with np.errstate(divide="ignore", invalid="ignore"):
            correlation = covariance / np.sqrt(var_x * var_y)
            statistic = float(correlation**2 / (1 - correlation**2) * dof)
        results.append((float(stats.f.sf(statistic, 1, dof)), dof, statistic))
    return results


def _double(sql: str) -> str:
    return f"CAST({sql} AS DOUBLE)"


def _query(context: PlanContext, sql: str, where: Site) -> pd.DataFrame:
    try:
        frame = fetch(context.runtime, sql)
    except MlsqlError:
        raise
    except Exception as error:
        raise FlinkError(to_flink_error(error).message, at=where) from None
    if frame.empty or ("n" in frame and not frame["n"].iloc[0]):
        raise SchemaError("the table has no rows to test (none with a label and every "
                          "feature)", at=where)
    return frame


TESTS: dict[str, Test] = {ir.CHI_SQUARE_TEST: chi_square, ir.ANOVA_TEST: anova,
                          ir.F_VALUE_TEST: f_value}
ANALYSES = {name: feature_test_subquery for name in ir.FEATURE_TEST_FUNCTIONS}


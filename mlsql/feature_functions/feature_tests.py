"""Flink ML's univariate statistical tests, each feature against the label, over training
rows: the chi-squared test of independence, the one-way ANOVA F-test and the linear
regression F-test. The sufficient statistics (counts, sums) are one SQL query, run by the
caller's `fetch`; the p-values are scipy's survival functions (Flink ML takes 1 - cdf).
Shared by the SQL table functions (mlsql.planner.feature_tests) and the fitted
ML_UNIVARIATE_FEATURE_SELECTOR."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from scipy import stats

from mlsql.errors import MlsqlError

Fetch = Callable[[str], pd.DataFrame]
Result = tuple[float, int, float]  # p-value, degrees of freedom, statistic
CHI_SQUARE, ANOVA, F_VALUE = "chisq", "anova", "fvalue"


class FeatureTestError(MlsqlError):
    """The rows cannot be tested (too few rows or classes)."""


def rows_with_values(table_sql: str, label: str, features: list[str]) -> str:
    """The rows of `table_sql` (SQL text a FROM takes) whose label and features are all
    present (not NULL)."""
    present = " AND ".join(f"{c} IS NOT NULL" for c in (label, *features))
    return f"SELECT * FROM {table_sql} WHERE {present}"


def run_test(test: str, fetch: Fetch, rows_sql: str, label: str,
             features: list[str]) -> list[Result]:
    """Each feature's (p-value, degrees of freedom, statistic), `test` one of CHI_SQUARE,
    ANOVA, F_VALUE; `label` and `features` are SQL over `rows_sql`'s columns."""
    return {CHI_SQUARE: chi_square, ANOVA: anova, F_VALUE: f_value}[test](
        fetch, rows_sql, label, features)


def chi_square(fetch: Fetch, rows_sql: str, label: str, features: list[str]) -> list[Result]:
    """Degrees of freedom (values - 1) * (labels - 1), over each feature's contingency table."""
    pairs = _unpivoted(rows_sql, [f"CAST({x} AS STRING) AS v, CAST({label} AS STRING) AS y"
                                  for x in features])
    frame = _rows(fetch, f"SELECT f, v, y, COUNT(*) AS c FROM ({pairs}) GROUP BY f, v, y")
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


def anova(fetch: Fetch, rows_sql: str, label: str, features: list[str]) -> list[Result]:
    """The one-way ANOVA F-test across the label's classes; degrees of freedom n - 1 (Flink
    ML's: between + within)."""
    values = _unpivoted(rows_sql, [f"CAST({label} AS STRING) AS y, {_double(x)} AS x"
                                   for x in features])
    frame = _rows(fetch, f"SELECT f, y, COUNT(*) AS c, SUM(x) AS s, SUM(x * x) AS ss FROM "
                         f"({values}) GROUP BY f, y")
    results = []
    for index in range(len(features)):
        part = frame[frame["f"] == index]
        counts, sums = part["c"].to_numpy(dtype=float), part["s"].to_numpy(dtype=float)
        n, classes = counts.sum(), len(part)
        if classes < 2:
            raise FeatureTestError("the ANOVA F-test needs two or more label classes")
        if n <= classes:
            raise FeatureTestError("the ANOVA F-test needs more rows than label classes")
        total = sums.sum()
        with np.errstate(divide="ignore", invalid="ignore"):
            between = float((sums**2 / counts).sum() - total**2 / n)
            within = float(part["ss"].sum() - total**2 / n) - between
            statistic = (between / (classes - 1)) / (within / (n - classes))
        p_value = float(stats.f.sf(statistic, classes - 1, n - classes))
        results.append((p_value, int(n) - 1, float(statistic)))
    return results


def f_value(fetch: Fetch, rows_sql: str, label: str, features: list[str]) -> list[Result]:
    """The F-test of a univariate linear regression of the label on each feature; degrees of
    freedom n - 2."""
    y = _double(label)
    sums = [f"SUM({y}) AS sy", f"SUM({y} * {y}) AS syy"]
    for i, x in enumerate(map(_double, features)):
        sums += [f"SUM({x}) AS sx{i}", f"SUM({x} * {x}) AS sxx{i}", f"SUM({x} * {y}) AS sxy{i}"]
    row = _rows(fetch, f"SELECT COUNT(*) AS n, {', '.join(sums)} FROM ({rows_sql})").iloc[0]
    n = float(row["n"])
    if n < 3:
        raise FeatureTestError("the F-value test needs three or more rows")
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


def _unpivoted(rows_sql: str, selects: list[str]) -> str:
    """One row per (row, feature i): `SELECT i AS f, <selects[i]>` over the rows, UNION ALL'd.
    One GROUP BY over it plans in a second, where a GROUP BY per feature UNION ALL'd took
    Flink's planner 35 s at six features."""
    return " UNION ALL ".join(f"SELECT {i} AS f, {select} FROM ({rows_sql})"
                              for i, select in enumerate(selects))


def _double(sql: str) -> str:
    return f"CAST({sql} AS DOUBLE)"


def _rows(fetch: Fetch, sql: str) -> pd.DataFrame:
    frame = fetch(sql)
    if frame.empty or ("n" in frame and not frame["n"].iloc[0]):
        raise FeatureTestError("no rows to test (none with a label and every feature)")
    return frame

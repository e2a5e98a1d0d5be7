"""The reference shares and the list of statistics that the bounded and the windowed forms of
ML_VALIDATE_DATA_SKEW / _DRIFT share (mlsql.monitoring.statistics, statistics_sql)."""

from __future__ import annotations

import pytest

from mlsql.monitoring import statistics, statistics_sql
from mlsql.monitoring.profile import CATEGORICAL, NUMERIC, Distribution


def test_reference_shares_cover_every_numeric_bucket_and_the_categories():
    numeric = Distribution(NUMERIC, rows=5, nulls=1, counts={"0": 1, "2": 3}, edges=[1.0, 2.0])
    assert statistics.reference_shares(numeric) == {"0": 0.25, "1": 0.0, "2": 0.75}
    categorical = Distribution(CATEGORICAL, rows=4, counts={"a": 3, "b": 1})
    assert statistics.reference_shares(categorical) == {"a": 0.75, "b": 0.25}
    assert statistics.reference_shares(Distribution(CATEGORICAL, rows=2, nulls=2)) == {}


def test_compare_reports_the_listed_statistics_in_order():
    reference = Distribution(CATEGORICAL, rows=4, counts={"a": 3, "b": 1})
    current = Distribution(CATEGORICAL, rows=5, nulls=1, counts={"a": 2, "c": 2})
    thresholds = statistics.Thresholds(per_column={"x": 0.5})
    listed = statistics.metrics("x", reference, thresholds)
    assert listed == [(statistics.L_INFTY, 0.5), (statistics.PSI, 0.25),
                      (statistics.NULL_RATE, 0.1), (statistics.UNSEEN, 0.05)]
    found = statistics.compare("x", reference, current, thresholds)
    assert [(f.metric, f.threshold) for f in found] == listed
    assert found[0].value == pytest.approx(0.5)  # c: 0 -> 0.5
    assert found[3].value == pytest.approx(0.5)


def test_the_sql_statistics_are_null_without_a_reference_value():
    empty = Distribution(NUMERIC, rows=3, nulls=3)
    assert statistics_sql.reference_sql(empty) is None
    assert statistics_sql.value_sql(statistics.JSD, empty) == "CAST(NULL AS DOUBLE)"
    assert "ABS(" in statistics_sql.value_sql(statistics.NULL_RATE, empty)
    with pytest.raises(ValueError, match="control character"):
        statistics_sql.reference_sql(Distribution(CATEGORICAL, rows=1, counts={"a\x1fb": 1}))

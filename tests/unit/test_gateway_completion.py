"""The gateway's completion (Flink's SQL client's Tab): every ML function the parser knows."""

from __future__ import annotations

from mlsql.feature_functions.catalog import NAMES as FEATURE_FUNCTIONS
from mlsql.frontend.parser import ML_FUNCTIONS
from mlsql.gateway.worker import complete
from mlsql.syntax.ir import ANALYSIS_FUNCTIONS


def test_every_ml_function_completes():
    offered = set(complete("SELECT * FROM ML_", len("SELECT * FROM ML_")))
    assert offered == set(ML_FUNCTIONS)
    assert {"ML_PREDICT", "ML_EVALUATE", *ANALYSIS_FUNCTIONS, *FEATURE_FUNCTIONS} <= offered


def test_the_word_before_the_cursor_is_completed():
    assert complete("SELECT ML_ROC", len("SELECT ML_ROC")) == ["ML_ROC_CURVE"]
    assert complete("show mod", len("show mod")) == ["MODEL"]
    assert complete("SELECT ", len("SELECT ")) == []

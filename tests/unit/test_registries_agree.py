"""Lists that surfaces keep are derived from their registries: each test fails when a new
entry reaches one and not the other."""

from __future__ import annotations

import re

import mlsql
from mlsql.feature_functions import base
from mlsql.feature_functions.catalog import FUNCTIONS
from mlsql.jvm.build import SOURCES
from mlsql.jvm.plan import JVM_ALGORITHMS
from mlsql.planner.rewrite import analysis_handlers
from mlsql.syntax import ir


def _concrete(cls: type) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        found |= _concrete(sub)
        if getattr(sub, "name", None):
            found.add(sub)
    return found


def test_every_feature_function_class_is_in_the_catalog():
    names = {cls.name for cls in _concrete(base.FeatureFunction)}
    assert len(names) >= 16
    assert names == set(FUNCTIONS)


def test_every_analysis_function_is_planned_and_has_a_table_api_function():
    assert set(analysis_handlers()) == {*ir.ANALYSIS_FUNCTIONS, *ir.MODEL_SERIES_FUNCTIONS}
    for function in (*ir.ANALYSIS_FUNCTIONS, *ir.MODEL_SERIES_FUNCTIONS, "ML_PREDICT",
                     "ML_EVALUATE"):
        assert function.lower() in mlsql.__all__, f"mlsql.{function.lower()} is missing"
        assert callable(getattr(mlsql, function.lower()))


def test_the_jvm_scorer_has_a_case_for_every_listed_algorithm():
    java = (SOURCES / "io" / "mlsql" / "scoring" / "ScoredModel.java").read_text()
    cases = set(re.findall(r'case "(\w+)":', java))
    assert len(JVM_ALGORITHMS) >= 5
    assert cases == set(JVM_ALGORITHMS)

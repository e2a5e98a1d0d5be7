"""The parser never fails with anything but SqlSyntaxError, whatever text it is given."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlsql.errors import SqlSyntaxError
from mlsql.frontend.parser import parse_script

SEEDS = [
    "CREATE OR REPLACE MODEL m WITH ('model_type' = 'logistic_reg', 'label' = 'y') "
    "AS SELECT a, b, y FROM t",
    "CREATE MODEL IF NOT EXISTS db.m OPTIONS (model_type = 'kmeans', num_clusters = 3) "
    "AS SELECT * FROM t",
    "SELECT * FROM ML_PREDICT(TABLE t, MODEL `m$2`, DESCRIPTOR(a, b), MAP['execution', 'sql'])",
    "INSERT INTO s SELECT x FROM ML_PREDICT(TABLE t, MODEL m) WHERE probability > 0.9",
    "SHOW MODELS LIKE 'f%'; DESCRIBE MODEL m; DROP MODEL IF EXISTS `m$1`",
    "SET 'execution.runtime-mode' = 'batch'; RESET; BEGIN STATEMENT SET; END",
    "CREATE TABLE t (ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '5' SECOND) "
    "WITH ('connector' = 'datagen') /* c */ -- d",
]
TOKENS = ["(", ")", ",", ";", "'", "`", "=", "[", "]", "$", ".", "--", "/*", "*/", "MODEL",
          "TABLE", "ML_PREDICT", "DESCRIPTOR", "AS", "WITH", "OPTIONS", "CREATE", "SET", "IF",
          "NOT", "EXISTS", "MAP", "'x'", "1", "-", "\n", " "]


def _parse(text: str) -> None:
    try:
        parse_script(text)
    except SqlSyntaxError as error:
        assert error.line >= 1 and error.col >= 1


@st.composite
def mutated(draw):
    text = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(1, 4))):
        position = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["insert", "delete", "truncate"]))
        if action == "insert":
            text = text[:position] + draw(st.sampled_from(TOKENS)) + text[position:]
        elif action == "delete":
            text = text[:position] + text[position + draw(st.integers(1, 8)) :]
        else:
            text = text[:position]
    return text


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_statements(text):
    _parse(text)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_random_text(text):
    _parse(text)

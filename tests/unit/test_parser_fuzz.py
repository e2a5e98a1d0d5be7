"""The parser never fails with anything but SqlSyntaxError, at a line and column inside the
text, whatever it is given; and every script mlsql's grammar generates parses to the
statements the grammar says (tests/parser_grammar.py; tests/benchmarks/fuzz_parser.py draws
100,000 cases from the same grammar)."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlsql.errors import SqlSyntaxError
from mlsql.feature_functions.calls import MAX_NESTING
from mlsql.frontend.parser import parse_script
from tests import parser_grammar as grammar

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
REAL = grammar.real_statements()


def fuzz(examples: int) -> settings:
    return settings(max_examples=examples, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


class HypothesisDraw:
    """The grammar's draws through hypothesis, which shrinks a failing script."""

    def __init__(self, data: st.DataObject) -> None:
        self.data = data

    def choice(self, options):
        return self.data.draw(st.sampled_from(options))

    def integer(self, low: int, high: int) -> int:
        return self.data.draw(st.integers(low, high))


def _parse(text: str) -> None:
    try:
        parse_script(text)
    except SqlSyntaxError as error:
        grammar.check_error(error, text)


@fuzz(250)
@given(st.data())
def test_generated_scripts_parse_as_the_grammar_says(data):
    generated = grammar.script(HypothesisDraw(data))
    grammar.check_parsed(generated, parse_script(generated.text))


@fuzz(400)
@given(st.data())
def test_mutated_scripts_and_flink_statements(data):
    _parse(grammar.mutated(HypothesisDraw(data), [*SEEDS, *REAL]))


@fuzz(300)
@given(st.text(max_size=200))
def test_random_text(text):
    _parse(text)


# Regressions: what the fuzzing found.

@pytest.mark.parametrize("nest", [
    lambda d: "SELECT " + "ML_IMPUTER(" * d + "x" + ", 0)" * d + " FROM t",
    lambda d: "SELECT ML_NORMALIZER(" + "ARRAY[" * d + "x" + "]" * d + ") FROM t",
    lambda d: "CREATE MODEL m TRANSFORM (" + "ML_STANDARD_SCALER(" * d + "x" + ", 1, 2)" * d
              + " AS a) WITH ('model_type' = 'kmeans') AS SELECT x FROM t",
])
def test_deep_feature_calls_are_a_syntax_error_not_a_recursion_error(nest):
    parse_script(nest(MAX_NESTING - 2))  # deep, but within the limit
    started = time.process_time()  # CPU time: 4 test workers share 2 cores
    with pytest.raises(SqlSyntaxError, match=f"nest more than {MAX_NESTING} deep") as raised:
        parse_script(nest(3000))  # was a RecursionError after 3 to 39 s
    assert time.process_time() - started < 5
    assert raised.value.line == 1 and raised.value.col > 1


def test_nested_arrays_of_calls_parse_in_linear_time():
    """Each ARRAY[...] element's calls were parsed again per enclosing array: 2^depth work
    (20 levels of ML_NORMALIZER(ARRAY[...]) took over a second)."""
    text = "SELECT " + "ML_NORMALIZER(ARRAY[" * 25 + "ML_IMPUTER(x, 1)" + "])" * 25 + " FROM t"
    started = time.process_time()
    (_, statement), = parse_script(text)
    assert time.process_time() - started < 5  # 2^25 steps: hours
    call = statement.features[0]
    for _ in range(24):  # the nesting is all there, each element's call rebased to it
        (element,) = call.arguments[0].elements
        (call,) = element.calls
        assert element.text[call.start:call.end].startswith("ML_")
    assert call.function == "ML_NORMALIZER"


def test_a_quoted_identifier_across_lines_keeps_later_positions():
    """A backtick name holding a newline left the lexer on its first line: later errors
    pointed past the end of their line (column 285 of a 30-column line)."""
    text = "SELECT `a\nbc` ,\n  `x"
    with pytest.raises(SqlSyntaxError) as raised:
        parse_script(text)
    assert (raised.value.line, raised.value.col) == (3, 3)
    grammar.check_error(raised.value, text)


@pytest.mark.parametrize(("window", "at"), [("PARTITION BY (k ORDER BY ts)", "PARTITION"),
                                           ("PARTITION BY k, ORDER BY ts", "ORDER")])
def test_a_bad_partition_list_points_into_the_statement(window, at):
    """The brackets mlsql puts around PARTITION BY's list had line 0, column 0."""
    text = f"SELECT ML_FORECAST(v, ts) OVER ({window}) FROM t"
    with pytest.raises(SqlSyntaxError) as raised:
        parse_script(text)
    assert (raised.value.line, raised.value.col) == (1, text.index(at) + 1)


def test_a_quoted_hparam_that_does_not_lex_points_at_its_string():
    """'HPARAM_RANGE(`m, 2)': the string's own lexer error escaped with the string's
    positions (line 1, column 14 of a script whose line 1 is a comment)."""
    text = "-- tuned\nCREATE MODEL m OPTIONS (model_type = 'HPARAM_RANGE(`m, 2)') AS SELECT 1"
    with pytest.raises(SqlSyntaxError, match="unterminated `quoted identifier`") as raised:
        parse_script(text)
    assert (raised.value.line, raised.value.col) == (2, text.split("\n")[1].index("'") + 1)

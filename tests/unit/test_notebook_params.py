"""`:name` placeholders in notebook SQL: bound as literals, never as SQL."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlsql.errors import SqlSyntaxError
from mlsql.frontend.parser import parse_script
from mlsql.notebook.params import bind, bind_placeholders, sql_literal
from mlsql.syntax.lexer import Kind, tokenize

HOSTILE = [
    "x'; DROP TABLE t; --",
    "'' OR 1=1 --",
    "a'); DROP MODEL m; SELECT ('",
    "*/ SELECT 1 /*",
    "line\n'; SHOW MODELS; '\n",
    "\\'; SELECT 2; --",
    "'",
    "''",
    ":other",
]


def _tokens(sql: str):
    return [t for t in tokenize(sql) if t.kind is not Kind.EOF]


@pytest.mark.parametrize("value", HOSTILE)
def test_a_hostile_string_stays_one_string_literal(value):
    sql = bind("SELECT :v AS v FROM t WHERE a = :v", {"v": value, "other": 1})
    tokens = _tokens(sql)
    strings = [t for t in tokens if t.kind is Kind.STRING]
    assert [t.value for t in strings] == [value, value]
    assert [t.text.upper() for t in tokens if t.kind is not Kind.STRING] == \
        ["SELECT", "AS", "V", "FROM", "T", "WHERE", "A", "="]
    assert len(parse_script(sql)) == 1  # no statement smuggled in


@given(st.text())
def test_any_string_round_trips_as_one_literal(value):
    tokens = _tokens(bind("SELECT :v", {"v": value}))
    assert len(tokens) == 2 and tokens[1].kind is Kind.STRING and tokens[1].value == value


def test_literals_of_each_type():
    assert sql_literal(None) == "NULL"
    assert sql_literal(True) == "TRUE" and sql_literal(np.bool_(False)) == "FALSE"
    assert sql_literal(42) == "42" and sql_literal(np.int64(7)) == "7"
    assert sql_literal(-3) == "(-3)"
    assert sql_literal(0.5) == "0.5E0" and sql_literal(1e-05) == "1e-05"
    assert sql_literal(np.float64(-2.25)) == "(-2.25E0)"
    assert sql_literal("it's") == "'it''s'"


@pytest.mark.parametrize("value", [float("nan"), float("inf"), [1], {"a": 1}, b"x", object()])
def test_other_values_are_refused(value):
    with pytest.raises(TypeError):
        sql_literal(value)
    with pytest.raises(SqlSyntaxError, match=r"line 2, column 9"):
        bind("SELECT 1\nWHERE x=:v", {"v": value})


def test_placeholders_only_outside_strings_comments_and_casts():
    namespace = {"v": 5, "INT": 1}
    sql = "SELECT ':v', x::INT, `:v` -- :v\n/* :v */ /*+ OPTIONS(':v') */ FROM t WHERE y > :v"
    assert bind(sql, namespace) == sql.replace("y > :v", "y > 5")


def test_negative_numbers_cannot_open_a_comment():
    assert bind("SELECT x-:n FROM t", {"n": -1}) == "SELECT x-(-1) FROM t"


def test_a_literal_never_glues_to_a_word_before_it():
    assert bind("SELECT E:s, U&:s", {"s": "\\x"}) == "SELECT E '\\x', U& '\\x'"


def test_a_literal_never_glues_to_what_follows_it():
    assert bind("SELECT :s'x', :n.5, :n FROM t", {"s": "a", "n": 5}) == \
        "SELECT 'a' 'x', 5 .5, 5 FROM t"


def test_an_unknown_name_points_at_the_placeholder():
    with pytest.raises(SqlSyntaxError) as raised:
        bind("SELECT *\nFROM t WHERE a = :missing", {})
    error = raised.value
    assert (error.line, error.col) == (2, 18)
    assert "missing" in str(error) and str(error).endswith("                 ^")


def _position(text: str, word: str) -> tuple[int, int]:
    before = text[:text.index(word)]
    return before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1


def test_positions_in_the_bound_text_are_reported_in_the_cell():
    sql = "SELECT :s AS a,\n  :n + nope FROM t"
    bound = bind_placeholders(sql, {"s": "x\ny\nz", "n": 123456789})
    assert bound.text == "SELECT 'x\ny\nz' AS a,\n  123456789 + nope FROM t"
    assert bound.source_position(*_position(bound.text, "nope")) == (2, 8)
    assert bound.source_position(*_position(bound.text, "y\nz")) == (1, 8)  # in a literal
    line, col = _position(bound.text, "nope")
    message = f"Column 'nope' not found at line {line}, column {col}"
    assert bound.source_message(message) == "Column 'nope' not found at line 2, column 8"

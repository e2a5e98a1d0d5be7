"""Where an error is lives in its fields (subject, position); its text is rendered from them."""

from __future__ import annotations

import copy
import pickle

import pytest

from mlsql.errors import (
    FlinkError,
    ModelNotFoundError,
    Position,
    SchemaError,
    Site,
    SqlSyntaxError,
)
from mlsql.notebook.cells import _in_the_cell
from mlsql.notebook.params import bind_placeholders


@pytest.mark.parametrize(("error", "text"), [
    (SchemaError("column 'x' not found", at=Site("ML_PREDICT", Position(2, 7))),
     "ML_PREDICT at line 2, column 7: column 'x' not found"),
    (SchemaError("it returned no rows", at=Site("the training query")),
     "the training query: it returned no rows"),
    (ModelNotFoundError("model 'm' not found", position=Position(1, 30)),
     "model 'm' not found (at line 1, column 30)"),
    (FlinkError("Object 't' not found"), "Object 't' not found"),
])
def test_the_text_is_rendered_from_the_fields(error, text):
    assert str(error) == text


@pytest.mark.parametrize("error", [
    SqlSyntaxError("unexpected 'FORM'", 3, 9, "SELECT a FORM t"),
    SchemaError("column 'x' not found", at=Site("ML_EVALUATE", Position(1, 15))),
])
def test_copies_and_pickles_keep_the_class_and_every_field(error):
    for twin in (copy.copy(error), pickle.loads(pickle.dumps(error))):
        assert type(twin) is type(error)
        assert (twin.message, twin.subject, twin.position) == (
            error.message, error.subject, error.position)
        assert str(twin) == str(error)


def test_located_is_a_copy_and_leaves_the_original():
    error = SchemaError("column 'x' not found", at=Site("ML_PREDICT", Position(1, 15)))
    elsewhere = error.located(Position(4, 2))
    assert str(elsewhere) == "ML_PREDICT at line 4, column 2: column 'x' not found"
    assert str(error.located(None)) == "ML_PREDICT: column 'x' not found"
    assert error.position == Position(1, 15)


def test_a_syntax_error_draws_its_line_and_a_caret():
    error = SqlSyntaxError("unexpected 'FORM'", 1, 10, "SELECT a FORM t")
    assert str(error) == ("SQL syntax error at line 1, column 10: unexpected 'FORM'\n"
                          "  SELECT a FORM t\n           ^")
    assert (error.line, error.col) == (1, 10)


def test_a_notebook_moves_the_position_back_into_the_cell():
    cell = "SELECT * FROM ML_PREDICT(TABLE t, MODEL :name, DESCRIPTOR(x))"
    bound = bind_placeholders(cell, {"name": "a_much_longer_model_name"})
    column_in_bound = bound.text.index("DESCRIPTOR(x)") + len("DESCRIPTOR(") + 1
    error = SchemaError("column 'x' not found", at=Site("ML_PREDICT", Position(1,
                                                                               column_in_bound)))
    column_in_cell = cell.index("DESCRIPTOR(x)") + len("DESCRIPTOR(") + 1
    assert _in_the_cell(error, bound, cell) == (
        f"ML_PREDICT at line 1, column {column_in_cell}: column 'x' not found")

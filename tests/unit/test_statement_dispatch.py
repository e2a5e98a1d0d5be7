"""The dispatch table: every IR statement kind has exactly one handler, found by discovery."""

from __future__ import annotations

import typing

import pytest

from mlsql.errors import MlsqlError
from mlsql.statements.dispatch import Export, handler_for, handlers, handles
from mlsql.statements.script import steps
from mlsql.syntax import ir


def test_every_statement_kind_of_the_ir_has_a_handler():
    kinds = set(typing.get_args(ir.MlsqlStatement))
    assert len(kinds) >= 14
    assert kinds == set(handlers())


def test_a_second_handler_for_a_kind_is_refused():
    handlers()  # the handler modules imported
    with pytest.raises(RuntimeError, match="ShowModels has two handlers"):
        handles(ir.ShowModels)(lambda *args: None)


def test_an_unknown_node_has_no_handler():
    with pytest.raises(MlsqlError, match="no handler for Position statements"):
        handler_for(ir.Position(1, 1))


@pytest.mark.parametrize(("sql", "export", "is_query", "runs_job"), [
    ("SELECT 1", Export.FLINK, True, True),
    ("WITH t AS (SELECT 1) SELECT * FROM t", Export.FLINK, True, True),
    ("INSERT INTO t SELECT 1", Export.FLINK, False, True),
    ("CREATE TABLE t (a INT)", Export.FLINK, False, False),
    ("SET 'a' = 'b'", Export.VERBATIM, False, False),
    ("BEGIN STATEMENT SET", Export.VERBATIM, False, False),
    ("SHOW MODELS", Export.NONE, False, False),
    ("SHOW JOBS", Export.NONE, False, False),
    ("CREATE MODEL m WITH ('model_type' = 'kmeans') AS SELECT a FROM t",
     Export.NONE, False, False),
])
def test_a_step_knows_its_kind(sql, export, is_query, runs_job):
    (step,) = steps(sql)
    assert (step.export, step.is_query, step.runs_job) == (export, is_query, runs_job)


def test_a_script_parses_whole_before_anything_runs():
    with pytest.raises(MlsqlError, match="line 2"):
        steps("SELECT 1;\nCREATE MODEL m WITH ('model_type' = ) AS SELECT 1")

"""Real Flink SQL reaches Flink byte for byte, alone and wrapped around an ML_PREDICT."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mlsql.frontend.parser import parse_script
from mlsql.syntax import ir
from mlsql.syntax.lexer import Kind
from mlsql.syntax.splitter import split_statements

CORPUS = Path(__file__).with_name("corpus") / "flink_statements.sql"
STATEMENTS = [s for s in split_statements(CORPUS.read_text())]
_NOT_TABLES = {"TABLE", "UNNEST", "LATERAL", "ML_PREDICT"}
# What may stand between statements: ';', whitespace and plain comments, never a /*+ hint */.
_DROPPABLE = re.compile(r"(?:\s|;|--[^\n]*|/\*(?!\+).*?\*/)*", re.DOTALL)


def _ids(statement) -> str:
    return f"line{statement.line}"


def _first_table_after_from(statement) -> tuple[int, int] | None:
    """The span of the first `FROM name [/*+ hint */]` whose name is a plain table
    reference."""
    tokens = statement.tokens
    for before, token, after in zip(tokens, tokens[1:], tokens[2:], strict=False):
        if (before.is_word("FROM") and token.kind in (Kind.WORD, Kind.QUOTED)
                and token.upper not in _NOT_TABLES and not after.is_punct("(", ".")):
            return token.start, (after if after.kind is Kind.HINT else token).end
    return None


def _start_offset(script: str, statement) -> int:
    line_starts = [0, *(i + 1 for i, ch in enumerate(script) if ch == "\n")]
    return line_starts[statement.line - 1] + statement.col - 1


def test_corpus_is_large_enough():
    assert len(STATEMENTS) >= 150


def test_the_whole_file_splits_into_its_statements():
    parsed = parse_script(CORPUS.read_text())
    assert [s.text for s, _ in parsed] == [s.text for s in STATEMENTS]
    assert all(p.text == s.text for s, p in parsed if isinstance(p, ir.FlinkStatement))
    own = [s.first_words[:2] for s, p in parsed if not isinstance(p, ir.FlinkStatement)]
    assert own == list(GATEWAY_ONLY)
    assert any("STATEMENT SET" in s.text and s.text.count(";") == 2 for s in STATEMENTS)


def test_only_semicolons_whitespace_and_plain_comments_are_dropped():
    script = CORPUS.read_text()
    end = 0
    for statement in STATEMENTS:
        start = _start_offset(script, statement)
        assert script[start : start + len(statement.text)] == statement.text
        assert _DROPPABLE.fullmatch(script[end:start]), script[end:start]
        end = start + len(statement.text)
    assert _DROPPABLE.fullmatch(script[end:])
    assert sum(s.tokens[-2].kind is Kind.HINT for s in STATEMENTS) >= 4  # hints that end one


# SHOW JOBS and STOP JOB: Flink runs them only in its SQL gateway, mlsql the gateway's way.
GATEWAY_ONLY = (["SHOW", "JOBS"], ["STOP", "JOB"])
PASSED_TO_FLINK = [s for s in STATEMENTS if s.first_words[:2] not in GATEWAY_ONLY]


@pytest.mark.parametrize("statement", PASSED_TO_FLINK, ids=_ids)
def test_statement_passes_through_verbatim(statement):
    (parsed,) = [p for _, p in parse_script(statement.text)]
    assert isinstance(parsed, ir.FlinkStatement) and not parsed.has_ml
    assert parsed.text == statement.text


WRAPPABLE = [s for s in STATEMENTS if _first_table_after_from(s)]


def test_many_statements_can_host_an_ml_predict():
    assert len(WRAPPABLE) >= 80
    assert sum("/*+" in s.text[slice(*_first_table_after_from(s))] for s in WRAPPABLE) >= 3


@pytest.mark.parametrize("statement", PASSED_TO_FLINK, ids=_ids)
def test_statement_between_ml_statements_is_untouched(statement):
    script = ("SELECT * FROM ML_PREDICT(TABLE tx, MODEL m);\n"
              f"{statement.text};\n"
              "CREATE MODEL m2 WITH ('model_type' = 'kmeans') AS SELECT a FROM tx")
    first, middle, last = [p for _, p in parse_script(script)]
    assert first.predicts and isinstance(last, ir.CreateModel)
    assert isinstance(middle, ir.FlinkStatement) and middle.text == statement.text


QUERIES = [s for s in STATEMENTS
           if s.tokens[0].is_word("SELECT", "WITH", "VALUES", "TABLE") or s.tokens[0].is_punct("(")]


@pytest.mark.parametrize("statement", QUERIES, ids=_ids)
def test_query_trains_a_model_byte_for_byte(statement):
    script = f"CREATE MODEL m WITH ('model_type' = 'kmeans') AS {statement.text}"
    (parsed,) = [p for _, p in parse_script(script)]
    assert isinstance(parsed, ir.CreateModel) and parsed.query.text == statement.text


@pytest.mark.parametrize("statement", WRAPPABLE, ids=_ids)
def test_statement_wrapped_around_ml_predict_keeps_every_other_byte(statement):
    start, end = _first_table_after_from(statement)
    text = statement.text
    table_sql = text[start:end]  # with its hint, if it has one
    call_text = f"ML_PREDICT(TABLE {table_sql}, MODEL fraud_model)"
    wrapped = text[:start] + call_text + text[end:]
    (parsed,) = [p for _, p in parse_script(wrapped)]
    (call,) = parsed.predicts
    assert (call.start, call.end) == (start, start + len(call_text))
    assert call.table_sql == table_sql and call.model.name == "fraud_model"
    # Replacing the span restores the original statement exactly.
    assert parsed.text[: call.start] + call.table_sql + parsed.text[call.end :] == text

import pytest

from mlsql.errors import SqlSyntaxError
from mlsql.syntax.lexer import Kind, tokenize
from mlsql.syntax.splitter import split_statements


def test_tokens_keep_offsets_and_positions():
    sql = "SELECT `a``b`, 'it''s'\n  FROM t -- c\n/* x */ WHERE n >= 1.5e-3"
    tokens = tokenize(sql)
    assert [t.text for t in tokens[:-1]] == [
        "SELECT", "`a``b`", ",", "'it''s'", "FROM", "t", "WHERE", "n", ">=", "1.5e-3"]
    for token in tokens[:-1]:
        assert sql[token.start:token.end] == token.text
    assert tokens[1].value == "a`b" and tokens[3].value == "it's"
    assert (tokens[4].line, tokens[4].col) == (2, 3)
    assert tokens[6].kind is Kind.WORD and (tokens[6].line, tokens[6].col) == (3, 9)


@pytest.mark.parametrize("sql, message, line, col", [
    ("SELECT 'abc", "unterminated string", 1, 8),
    ("SELECT 1\n/* open", "unterminated /* comment", 2, 1),
    ("SELECT `x", "unterminated `quoted identifier`", 1, 8),
])
def test_unterminated_constructs_name_their_position(sql, message, line, col):
    with pytest.raises(SqlSyntaxError) as caught:
        tokenize(sql)
    assert message in str(caught.value)
    assert (caught.value.line, caught.value.col) == (line, col)


def test_split_ignores_semicolons_in_strings_and_comments():
    script = "SELECT ';' AS a; -- not ; here\nSELECT /* ; */ 2;\n\n  SHOW TABLES"
    statements = split_statements(script)
    # A statement runs from its first token to its last: comments inside it are kept.
    assert [s.text for s in statements] == [
        "SELECT ';' AS a", "SELECT /* ; */ 2", "SHOW TABLES"]
    assert [(s.line, s.col) for s in statements] == [(1, 1), (2, 1), (4, 3)]


def test_hints_are_tokens_and_stay_in_their_statement():
    script = ("SELECT id FROM t /*+ OPTIONS('k'='v') */ -- plain\n;\n"
              "SELECT /* plain */ a FROM t /*+ OPTIONS(\n'k'='v') */ /* plain */")
    first, second = split_statements(script)
    assert first.text == "SELECT id FROM t /*+ OPTIONS('k'='v') */"
    assert second.text == "SELECT /* plain */ a FROM t /*+ OPTIONS(\n'k'='v') */"
    hint = first.tokens[-2]
    assert hint.kind is Kind.HINT and (hint.line, hint.col) == (1, 18)
    assert [t.kind for t in tokenize("/*+ a */ x /*+ b\n */ y")[:-1]] == [
        Kind.HINT, Kind.WORD, Kind.HINT, Kind.WORD]
    assert tokenize("/*+ b\n */ y")[1].line == 2


def test_split_keeps_execute_statement_set_whole():
    script = ("EXECUTE STATEMENT SET BEGIN INSERT INTO a SELECT 1; INSERT INTO b SELECT 2; "
              "END; SELECT 3")
    texts = [s.text for s in split_statements(script)]
    assert texts == ["EXECUTE STATEMENT SET BEGIN INSERT INTO a SELECT 1; INSERT INTO b "
                     "SELECT 2; END", "SELECT 3"]


def test_empty_statements_are_dropped():
    assert split_statements(" ;; -- only a comment\n;") == []

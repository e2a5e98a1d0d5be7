"""SQL scripts with variables (mlsql.frontend.templating)."""

from __future__ import annotations

import pytest

from mlsql.errors import MlsqlError
from mlsql.frontend.parser import parse_script
from mlsql.frontend.templating import parse_variables, render


def test_without_variables_a_script_is_left_as_written():
    script = "SELECT '{{ not a template }}' AS s, '{%' AS t;"
    assert render(script, {}) == script


def test_variables_fill_values_blocks_and_keep_the_lines():
    script = ("SELECT {{ n }} AS n\n"
              "FROM t{% if region %}\nWHERE region = '{{ region }}'{% endif %};\n")
    rendered = render(script, {"n": "3", "region": "eu"})
    assert rendered == "SELECT 3 AS n\nFROM t\nWHERE region = 'eu';\n"
    assert parse_script(rendered)[0][0].line == 1


def test_a_missing_variable_names_itself_the_file_and_line():
    with pytest.raises(MlsqlError, match=r"job\.sql, line 2: 'limit' is undefined; give it "
                                         r"with --var NAME=VALUE \(given: n\)"):
        render("SELECT {{ n }}\nFROM t LIMIT {{ limit }};", {"n": "1"}, "job.sql")


def test_a_template_syntax_error_names_the_line():
    with pytest.raises(MlsqlError, match="template syntax error at line 2"):
        render("SELECT 1;\nSELECT {{ n };", {"n": "1"})


def test_var_arguments():
    assert parse_variables(["a=1", "b=x=y", "c="]) == {"a": "1", "b": "x=y", "c": ""}
    for bad in ("novalue", "=1", "not-a-name=1"):
        with pytest.raises(MlsqlError, match="--var takes NAME=VALUE"):
            parse_variables([bad])

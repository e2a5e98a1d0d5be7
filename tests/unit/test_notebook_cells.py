"""The magic's option line, its errors shown without a traceback, a preview's note."""

from __future__ import annotations

import pandas as pd
import pytest

from mlsql.notebook.cells import CellError, CellOptions, parse_line
from mlsql.notebook.streams import Preview


def test_options_then_the_sql_verbatim():
    options, sql = parse_line("--registry '/tmp/my models' -o scored --limit 5 --timeout=2.5 "
                              "--no-plot SELECT 'a  b' -- c")
    assert options == CellOptions(registry="/tmp/my models", output="scored", limit=5,
                                  timeout=2.5, plot=False)
    assert sql == "SELECT 'a  b' -- c"
    assert parse_line("") == (CellOptions(), "")
    assert parse_line("-- a comment") == (CellOptions(), "-- a comment")


@pytest.mark.parametrize(("line", "message"), [("--limt 5", "unknown option --limt"),
                                               ("--limit x", "takes a number"),
                                               ("-o", "needs a value")])
def test_bad_options(line, message):
    with pytest.raises(CellError, match=message):
        parse_line(line)


def test_an_error_renders_as_its_message_alone():
    lines = CellError("SQL syntax error at line 1, column 8: x\n  SELECT x\n         ^")\
        ._render_traceback_()
    assert lines[0].endswith("error:\x1b[0m SQL syntax error at line 1, column 8: x")
    assert lines[1:] == ["  SELECT x", "         ^"]


def test_a_preview_says_what_stopped_it():
    frame = pd.DataFrame({"x": [1]})
    assert Preview(frame, "ab12", "row limit", 2.04, 5, 10.0).note == \
        "streaming preview: stopped by the row limit (5 rows) after 2.0 s, job ab12 cancelled"
    assert Preview(frame, None, "time limit", 10.4, 5, 10.0).note == \
        "streaming preview: stopped by the time limit (10 s) after 10.4 s, cancelled"
    assert Preview(frame, "ab12", "end of input", 1.0, 5, 10.0).note == \
        "streaming query, job ab12 finished in 1.0 s"

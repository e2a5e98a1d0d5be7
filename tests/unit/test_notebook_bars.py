"""Progress bars from Steps: text and HTML, and `mlsql run`'s progress on a terminal."""

from __future__ import annotations

import io
import re

from mlsql.cli import main as cli
from mlsql.core.progress import Step
from mlsql.notebook.bars import html_bar, text_bar


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_text_and_html_bars():
    step = Step("boosting: 30/100 trees", "boosting", 30, 100, "trees")
    assert text_bar(step, width=10) == "[###.......] boosting: 30/100 trees"
    assert text_bar(Step("", "extract", 1200, None, "rows")) == "extract: 1,200 rows"
    assert '<progress value="30" max="100">' in html_bar(step)
    assert "<progress></progress>" in html_bar(Step("x", "extract", 5))
    assert "&lt;b&gt;" in html_bar(Step("<b>", "t", 1, 2))


def test_plain_lines_when_stderr_is_not_a_terminal(monkeypatch):
    stream = io.StringIO()
    monkeypatch.setattr(cli.sys, "stderr", stream)
    progress = cli._Progress()
    progress(Step("boosting: 1/2 trees", "boosting", 1, 2))
    progress("published m version 1")
    lines = stream.getvalue().splitlines()
    assert [re.sub(r"^\[mlsql \d\d:\d\d:\d\d\] ", "", line) for line in lines] == \
        ["boosting: 1/2 trees", "published m version 1"]


def test_one_redrawn_bar_line_on_a_terminal(monkeypatch):
    stream = _Terminal()
    monkeypatch.setattr(cli.sys, "stderr", stream)
    progress = cli._Progress()
    for done in (1, 2):
        progress(Step(f"boosting: {done}/4 trees", "boosting", done, 4, "trees"))
    progress("a message")
    progress(Step("newton: 1/2", "newton", 1, 2))
    progress(Step("newton: 2/2", "newton", 2, 2))
    progress("published m version 1")  # right below the finished bar, no blank line
    out = stream.getvalue()
    lines = out.split("\n")
    assert lines[0].count("\r") == 2 and lines[0].endswith("boosting: 2/4 trees\x1b[K")
    assert lines[1].endswith("] a message")
    assert lines[2].count("\r") == 2 and "[" + "#" * 30 + "] newton: 2/2" in lines[2]
    assert lines[3].endswith("] published m version 1") and lines[4:] == [""]

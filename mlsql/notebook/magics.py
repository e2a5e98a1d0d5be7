"""The IPython side: `%%mlsql` / `%mlsql`, and how a JobHandle shows itself."""

from __future__ import annotations

import html
from typing import Any

from IPython.core.magic import Magics, line_cell_magic, magics_class

from mlsql.notebook.cells import CellError, CellResult, parse_line, run_cell
from mlsql.runtime.job_handle import JobHandle

USAGE = """%%mlsql [--registry DIR] [-o NAME] [--limit N] [--timeout S] [--no-plot]
<statements; :name binds the Python variable name as a SQL literal>

%mlsql [options] STATEMENT    (one line)"""


@magics_class
class MlsqlMagics(Magics):
    @line_cell_magic
    def mlsql(self, line: str, cell: str | None = None) -> CellResult:
        options, rest = parse_line(line)
        if cell is not None and rest:
            raise CellError(f"the %%mlsql line takes options only, not {rest!r}: the "
                            "statements go in the cell")
        sql = rest if cell is None else cell
        if not sql.strip():
            print(USAGE)
            return None
        result = run_cell(sql, self.shell.user_ns, options)
        if options.output is not None:
            self.shell.user_ns[options.output] = result
        return result

    mlsql.__doc__ = USAGE


def job_html(job: JobHandle) -> str:
    status = job.status()
    return (f'<div class="mlsql-job"><b>Flink job</b> <code>{html.escape(job.job_id)}</code>: '
            f"<b>{html.escape(status)}</b>"
            + ("" if job.done() else " · <code>.cancel()</code> stops it, <code>.status()</code>"
               " tells how it runs")
            + "</div>")


def register(ipython: Any) -> None:
    ipython.register_magics(MlsqlMagics)
    ipython.display_formatter.formatters["text/html"].for_type(JobHandle, job_html)

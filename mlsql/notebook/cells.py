"""Running a %%mlsql cell: options, placeholders, each statement with its live output, and
errors shown as mlsql's message (line, column, caret) instead of a traceback."""

from __future__ import annotations

import html
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, replace

import pandas as pd

from mlsql.errors import FlinkError, MlsqlError, Position, SqlSyntaxError
from mlsql.notebook import kernel
from mlsql.notebook.params import Bound, bind_placeholders
from mlsql.notebook.progress import elapsed
from mlsql.notebook.streams import preview
from mlsql.notebook.tables import ResultFrame, frame_html, frame_text, result_frame
from mlsql.planner.bounded import is_bounded
from mlsql.runtime.job_handle import JobHandle
from mlsql.session import Session
from mlsql.statements.script import Step, steps
from mlsql.syntax import ir
from mlsql.syntax.secrets import conceal, mask_sql
from mlsql.syntax.splitter import Statement

CellResult = ResultFrame | JobHandle | None


@dataclass(frozen=True)
class CellOptions:
    registry: str | None = None
    output: str | None = None  # -o NAME: the user-namespace variable for the result
    limit: int = 100  # rows of a streaming query's preview
    timeout: float = 10.0  # seconds of a streaming query's preview
    plot: bool = True


class CellError(MlsqlError):
    """An mlsql error in a cell. IPython shows `_render_traceback_`'s lines in place of a
    traceback: the message alone (a syntax error's line, column and caret included)."""

    def _render_traceback_(self) -> list[str]:
        return [f"\x1b[0;31merror:\x1b[0m {line}" if i == 0 else line
                for i, line in enumerate(str(self).split("\n"))]


_VALUED = {"--registry": "registry", "-o": "output", "--output": "output",
           "--limit": "limit", "--timeout": "timeout"}
_FLAGS = {"--no-plot": ("plot", False)}
_OPTION = re.compile(r"\s*(--?[A-Za-z][\w-]*)(?=[\s=]|$)")


def parse_line(line: str) -> tuple[CellOptions, str]:
    """The leading options of a magic's line, and the SQL after them (verbatim)."""
    options = CellOptions()
    rest = line
    while (match := _OPTION.match(rest)) and not rest.lstrip().startswith("-- "):
        name, rest = match.group(1), rest[match.end():]
        if name in _FLAGS:
            field, value = _FLAGS[name]
            options = replace(options, **{field: value})
            continue
        if name not in _VALUED:
            raise CellError(f"unknown option {name} (options: --registry DIR, -o NAME, "
                            "--limit N, --timeout S, --no-plot)")
        value, rest = _option_value(name, rest.removeprefix("=") if rest.startswith("=")
                                    else rest)
        field = _VALUED[name]
        try:
            converted = {"limit": int, "timeout": float}.get(field, str)(value)
        except ValueError:
            raise CellError(f"{name} takes a number, not {value!r}") from None
        options = replace(options, **{field: converted})
    return options, rest.strip()


def _option_value(name: str, rest: str) -> tuple[str, str]:
    lexer = shlex.shlex(rest, posix=True)
    lexer.whitespace_split = True
    try:
        value = lexer.get_token()
    except ValueError as error:
        raise CellError(f"{name}: {error}") from None
    if value is None:
        raise CellError(f"{name} needs a value")
    remaining = lexer.instream.read() if hasattr(lexer.instream, "read") else ""
    return value, remaining


def run_cell(sql: str, namespace: Mapping[str, object], options: CellOptions) -> CellResult:
    """Run the cell's statements in the kernel's session; the last one's result."""
    bound = None
    try:
        session = kernel.kernel_session(options.registry)
        bound = bind_placeholders(sql, namespace)
        result: CellResult = None
        for step in steps(bound.text):  # nothing runs before all parse
            kernel.progress.new_statement()
            result = _run_statement(session, step, options)
        return result
    except MlsqlError as error:
        raise CellError(_in_the_cell(error, bound, sql)) from None


def _in_the_cell(error: MlsqlError, bound: Bound | None, sql: str) -> str:
    """The error's text with its positions moved back from the bound text into the cell
    (a :placeholder's literal may be longer or shorter than the placeholder), sensitive
    option values masked in it."""
    if bound is None:
        return str(conceal(error, sql))
    moved = error.located(None if error.position is None else
                          Position(*bound.source_position(error.position.line,
                                                          error.position.col)))
    if isinstance(moved, SqlSyntaxError) and moved.position is not None:
        moved.source_line = sql.split("\n")[moved.position.line - 1]
    if isinstance(moved, FlinkError):  # Flink's own text holds positions too, as text only
        moved.message = bound.source_message(moved.message)
    return str(conceal(moved, sql))


def _run_statement(session: Session, step: Step, options: CellOptions) -> CellResult:
    if _is_streaming_query(session, step):
        return _preview(session, step, options)
    with elapsed(_describe(step.statement)):
        result = session.execute(step.statement, step.parsed)
    if isinstance(result, pd.DataFrame):
        return result_frame(result, plot=options.plot)
    if isinstance(result, JobHandle):
        kernel.progress(f"submitted job {result.job_id}: {result.status()}")
        return result
    return None


def _is_streaming_query(session: Session, step: Step) -> bool:
    """A query to preview: streaming mode, and not known to end. A plain query over bounded
    sources, or one whose ML spans are all plan-time tables (ML_EVALUATE, ML_ROC_CURVE, ...:
    refused on streams), is collected in full, so a long ROC curve is not cut at --limit."""
    parsed = step.parsed
    if not (step.is_query and isinstance(parsed, ir.FlinkStatement)
            and not session.runtime.is_batch):
        return False
    if not parsed.has_ml:
        return not is_bounded(session.runtime, parsed.text)
    per_row = parsed.predicts or any(a.function == ir.EXPLAIN_PREDICT for a in parsed.analyses)
    return bool(per_row)


def _preview(session: Session, step: Step, options: CellOptions) -> ResultFrame:
    from IPython.display import display

    result = session.execute(step.statement, step.parsed, collect=False)
    client = result.get_job_client()
    job = f"job {client.get_job_id()}" if client is not None else "the query"
    waiting = (f"streaming query: {job} running; previewing up to {options.limit:,} rows "
               f"for up to {options.timeout:g} s, then it is cancelled")
    live = display({"text/plain": waiting, "text/html": f"<p>{html.escape(waiting)}</p>"},
                   raw=True, display_id=True)

    def show(rows: pd.DataFrame) -> None:
        note = f"streaming preview, live ({job})"
        live.update({"text/html": frame_html(rows, note), "text/plain": frame_text(rows, note)},
                    raw=True)

    done = preview(result, options.limit, options.timeout, show)
    summary = f"streaming query: {done.note}"
    live.update({"text/plain": summary, "text/html": f"<p>{html.escape(summary)}</p>"},
                raw=True)
    return result_frame(done.frame, note=done.note, plot=options.plot)


def _describe(statement: Statement, words: int = 5) -> str:
    text = " ".join(token.text for token in statement.tokens[:words] if token.text)
    return mask_sql(text) + (" …" if len(statement.tokens) > words + 1 else "")

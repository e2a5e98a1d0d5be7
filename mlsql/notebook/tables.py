"""Statement results as readable tables: HTML for notebooks, text for everything else.

A `ResultFrame` is the DataFrame a cell returns. Jupyter shows it through
`_ipython_display_`: the table without pandas' index, its row count (long results cut, with
a note), a line about how it was obtained (a streaming preview's limit), then its plot.
Frames derived from it (`frame.head()`, arithmetic) are plain DataFrames again.
"""

from __future__ import annotations

import html
from typing import Any

import pandas as pd

SHOWN_ROWS = 50  # rows drawn of a longer result (the frame keeps every row)

_STYLE = ("<style>.mlsql-result td, .mlsql-result th {text-align: right; padding: 2px 8px}"
          " .mlsql-result th {border-bottom: 1px solid #999}</style>")


class ResultFrame(pd.DataFrame):
    """A DataFrame that shows itself as mlsql's table (and plot) in a notebook."""

    _metadata = ["mlsql_note", "mlsql_plot"]  # noqa: RUF012  (pandas' own convention)

    @property
    def _constructor(self) -> type[pd.DataFrame]:
        return pd.DataFrame

    def _ipython_display_(self) -> None:
        from IPython.display import display

        note = getattr(self, "mlsql_note", None)
        display({"text/html": frame_html(self, note), "text/plain": frame_text(self, note)},
                raw=True)
        if getattr(self, "mlsql_plot", True):
            from mlsql.notebook.plots import plot_for

            figure = plot_for(self)
            if figure is not None:
                display(figure)


def result_frame(frame: pd.DataFrame, note: str | None = None,
                 plot: bool = True) -> ResultFrame:
    result = ResultFrame(frame)
    result.mlsql_note = note
    result.mlsql_plot = plot
    return result


def summary(frame: pd.DataFrame, shown: int) -> str:
    rows = len(frame)
    if not len(frame.columns):
        return "OK"
    if rows > shown:
        return f"{rows:,} rows, the first {shown:,} shown"
    return f"{rows:,} row{'' if rows == 1 else 's'}" if rows else "no rows"


def frame_html(frame: pd.DataFrame, note: str | None = None, shown: int = SHOWN_ROWS) -> str:
    parts = [_STYLE]
    if len(frame.columns) and len(frame):
        parts.append(pd.DataFrame(frame).head(shown).to_html(
            index=False, border=0, classes="mlsql-result", na_rep="NULL", escape=True,
            float_format=_number))
    parts.append(f'<p style="color:#555">{html.escape(summary(frame, shown))}'
                 + (f" · {html.escape(note)}" if note else "") + "</p>")
    return "".join(parts)


def frame_text(frame: pd.DataFrame, note: str | None = None, shown: int = SHOWN_ROWS) -> str:
    lines = []
    if len(frame.columns) and len(frame):
        with pd.option_context("display.max_colwidth", 80, "display.width", 200):
            lines.append(pd.DataFrame(frame).head(shown).to_string(
                index=False, na_rep="NULL", float_format=_number))
    lines.append(f"({summary(frame, shown)}{'; ' + note if note else ''})")
    return "\n".join(lines)


def _number(value: Any) -> str:
    return f"{value:.6g}"

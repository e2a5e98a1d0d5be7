"""Progress bars drawn from `mlsql.core.progress.Step`s, as text (terminals, plain outputs) and
as HTML (notebooks: a native <progress> element, no JavaScript)."""

from __future__ import annotations

import html

from mlsql.core.progress import Step

WIDTH = 30


def is_bar(message: str) -> bool:
    """A message to draw as a bar (or a counter, while its total is unknown)."""
    return isinstance(message, Step)


def label(step: Step) -> str:
    """The step's own words, or its task and counts when it has none."""
    if str(step):
        return str(step)
    unit = f" {step.unit}" if step.unit else ""
    total = "" if step.total is None else f"/{step.total:,}"
    return f"{step.task}: {step.done:,}{total}{unit}"


def text_bar(step: Step, width: int = WIDTH) -> str:
    """`[#########.....................] boosting: 30/100 trees`; no bar while the total
    is unknown."""
    if step.total is None:
        return label(step)
    filled = width if step.total <= 0 else max(0, min(width, width * step.done // step.total))
    return f"[{'#' * filled}{'.' * (width - filled)}] {label(step)}"


def html_bar(step: Step) -> str:
    if step.total is None:
        meter = "<progress></progress>"  # indeterminate
    else:
        meter = (f'<progress value="{max(0, min(step.done, step.total))}" '
                 f'max="{max(step.total, 1)}"></progress>')
    return f'<div class="mlsql-progress">{meter} <code>{html.escape(label(step))}</code></div>'

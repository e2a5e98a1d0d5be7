"""mlsql in Jupyter: `%load_ext mlsql`, then `%%mlsql` cells and `%mlsql` lines.

    %%mlsql [--registry DIR] [-o NAME] [--limit N] [--timeout S] [--no-plot]
    SELECT * FROM ML_PREDICT(TABLE tx, MODEL fraud_model) WHERE amount > :threshold

`:name` binds the Python variable `name` as a SQL literal (see mlsql.notebook.params). The
kernel has one mlsql Session, `mlsql.notebook.session()`; `mlsql.notebook.plot(frame)` draws
an analysis result (ROC curve, confusion matrix, ...). Nothing here imports IPython or
matplotlib until it is used, so `mlsql run` can share the progress bars (bars.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from mlsql.notebook.plots import Plot
    from mlsql.session import Session


def session(registry: str | None = None, **options: Any) -> Session:
    """The kernel's mlsql Session, started on first use (see kernel.kernel_session)."""
    from mlsql.notebook.kernel import kernel_session

    return kernel_session(registry, **options)


def plot(frame: pd.DataFrame) -> Plot | None:
    """The plot for an analysis result, chosen by its columns; None when it has none."""
    from mlsql.notebook.plots import plot_for

    return plot_for(frame)


def load_ipython_extension(ipython: Any) -> None:
    from mlsql.notebook.magics import register

    register(ipython)


__all__ = ["load_ipython_extension", "plot", "session"]

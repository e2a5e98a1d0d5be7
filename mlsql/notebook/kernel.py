"""The kernel's one mlsql Session: started by the first cell that needs it, on the kernel's
main thread, which then makes every call into Flink."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from mlsql.errors import MlsqlError
from mlsql.notebook.progress import NotebookProgress, elapsed
from mlsql.session import Session

progress = NotebookProgress()
_session: Session | None = None


def kernel_session(registry: str | os.PathLike[str] | None = None,
                   **options: Any) -> Session:
    """The kernel's Session; the first call starts it (`registry`, and Session's keyword
    arguments: mode, options, jobmanager). A later call may name the same registry, or none."""
    global _session
    if _session is None:
        with elapsed("starting Flink"):
            # Absolute: PyFlink's in-process Python workers change the working directory
            # while a job with Python UDFs runs.
            root = None if registry is None else Path(registry).absolute()
            _session = Session(root, progress=progress, **options)
        return _session
    current = _session.registry.root.absolute()
    if options or (registry is not None and Path(registry).absolute() != current):
        raise MlsqlError(
            f"this kernel's mlsql session is already started (registry {current}); "
            "restart the kernel to start another")
    return _session

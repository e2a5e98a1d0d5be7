"""`mlsql notebook [PATH]`: JupyterLab on 127.0.0.1 with the %%mlsql magics' kernel, started
the same way for root (containers, CI boxes: Jupyter refuses root without --allow-root) as for
anyone else."""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from collections.abc import Callable

from mlsql.errors import MlsqlError

INSTALL_HINT = "pip install -e '.[notebook]'"


def register(commands: argparse._SubParsersAction, progress: Callable[[str], None]) -> None:
    """Add the `notebook` subcommand to mlsql's parser."""
    notebook = commands.add_parser(
        "notebook", help="open JupyterLab on 127.0.0.1 (a notebook or a folder); `%%load_ext "
                         "mlsql` in a notebook gives the %%mlsql cells")
    notebook.add_argument("path", nargs="?", default=".",
                          help="a notebook or a directory (default: the current one)")
    notebook.add_argument("--port", type=int, default=8888)
    notebook.add_argument("--no-browser", action="store_true",
                          help="do not open a browser (the URL with its token is printed)")
    notebook.set_defaults(handler=lambda args: _notebook(args, progress))


def jupyter_command(path: str, port: int, browser: bool, root: bool) -> list[str]:
    command = [sys.executable, "-m", "jupyterlab", path, f"--port={port}",
               "--ServerApp.ip=127.0.0.1"]
    if root:  # Jupyter's own check; mlsql serves on 127.0.0.1 only
        command.append("--allow-root")
    if not browser:
        command.append("--no-browser")
    return command


def _notebook(args: argparse.Namespace, progress: Callable[[str], None]) -> int:
    if importlib.util.find_spec("jupyterlab") is None:
        raise MlsqlError(f"mlsql notebook needs JupyterLab: {INSTALL_HINT}")
    if not os.path.exists(args.path):
        raise MlsqlError(f"no notebook or directory at {args.path}")
    command = jupyter_command(args.path, args.port, not args.no_browser, os.geteuid() == 0)
    progress(f"JupyterLab on http://127.0.0.1:{args.port} (Ctrl-C stops it)")
    os.execv(command[0], command)  # Jupyter takes over the terminal and its signals
    return 0  # not reached

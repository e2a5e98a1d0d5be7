"""Where mlsql keeps its files: `~/.mlsql/<name>`, each overridable by an environment
variable."""

from __future__ import annotations

import os
from pathlib import Path


def user_path(variable: str, name: str) -> Path:
    """$variable if set, else ~/.mlsql/<name>."""
    return Path(os.environ.get(variable, Path.home() / ".mlsql" / name))

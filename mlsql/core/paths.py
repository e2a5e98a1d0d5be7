"""Where mlsql keeps its files: `~/.mlsql/<name>`, each overridable by an environment
variable."""

from __future__ import annotations

import os
from pathlib import Path


def user_path(variable: str, name: str) -> Path:
    """$variable if set, else ~/.mlsql/<name>."""
    return Path(os.environ.get(variable, Path.home() / ".mlsql" / name))


def default_checkpoint_dir() -> Path:
    """Where checkpoints go unless 'execution.checkpointing.dir' says otherwise: Flink's own
    default keeps them in the JobManager's memory, capped at 5 MB, and a job whose window
    state outgrows that fails every checkpoint and restarts from the beginning."""
    return user_path("MLSQL_CHECKPOINTS", "checkpoints")

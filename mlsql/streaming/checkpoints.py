"""Find the checkpoint a stopped or killed streaming job resumes from.

Flink writes checkpoints as `<execution.checkpointing.dir>/<job id>/chk-<n>/_metadata`; a
checkpoint is complete once `_metadata` exists. A restarted job gets a new job id, so the
newest complete checkpoint of any job under the directory is the one to resume from (a
savepoint directory, holding `_metadata` itself, is taken as it is).
"""

from __future__ import annotations

from pathlib import Path

from mlsql.errors import MlsqlError

RECOVERY_PATH = "execution.state-recovery.path"


def latest_checkpoint(directory: str | Path) -> Path:
    root = Path(str(directory).removeprefix("file://"))
    if (root / "_metadata").exists():
        return root
    complete = [m.parent for m in root.glob("*/chk-*/_metadata")]
    if not complete:
        raise MlsqlError(f"no completed checkpoint under {root} (looked for "
                         "<job id>/chk-<n>/_metadata); is 'execution.checkpointing.dir' set "
                         "and did the job run past its first checkpoint?")
    return max(complete, key=lambda path: (path.joinpath("_metadata").stat().st_mtime,
                                           int(path.name.removeprefix("chk-"))))

"""The registry's files on disk, shared by the planner (mlsql.models.registry) and by the code on
Flink's workers that follows new versions (hot swap) or publishes them (online learning).

    <root>/<model>/model.json         identity: id, created_at, default_version
    <root>/<model>/v<N>/metadata.json catalog facts
    <root>/<model>/v<N>/predictor.json + artifact files (udfs.predictors)
    <root>/.staging/<uuid>/           a version being written

A version is written under .staging and renamed into place in one step: a reader never
sees half a version, and two writers never get the same number (rename onto an existing,
non-empty version directory fails, and the loser takes the next number).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import uuid
from pathlib import Path
from typing import Any

import numpy as np

METADATA_FILE = "metadata.json"
MODEL_FILE = "model.json"
STAGING = ".staging"
_VERSION_DIR = re.compile(r"^v(\d+)$")


def now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds")


def versions(model_dir: Path) -> list[int]:
    try:
        names = os.listdir(model_dir)
    except FileNotFoundError:
        return []
    found = (_VERSION_DIR.match(name) for name in names)
    return sorted(int(m.group(1)) for m in found if m)


def model_info(model_dir: Path) -> dict[str, Any]:
    return json.loads((model_dir / MODEL_FILE).read_text())


def serving_version(model_dir: Path, latest: bool = False) -> int | None:
    """The version an unpinned reference scores with: the default version unless `latest`,
    else the newest; None when the model has no version."""
    numbers = versions(model_dir)
    if not numbers:
        return None
    if not latest:
        try:
            default = model_info(model_dir).get("default_version")
        except FileNotFoundError:
            default = None
        if default in numbers:
            return default
    return numbers[-1]


def staging_dir(root: Path) -> Path:
    path = root / STAGING / uuid.uuid4().hex
    path.mkdir(parents=True)
    return path


def publish(root: Path, name: str, staged: Path) -> int:
    """Move a complete staged version into place as the model's next version number."""
    model_dir = root / name
    model_dir.mkdir(exist_ok=True)
    create_json_once(model_dir / MODEL_FILE, {
        "name": name, "id": uuid.uuid4().hex, "created_at": now_iso(),
        "default_version": None})
    while True:
        version = (versions(model_dir) or [0])[-1] + 1
        metadata = json.loads((staged / METADATA_FILE).read_text())
        metadata["version"] = version
        write_json_atomic(staged / METADATA_FILE, metadata)
        try:
            os.rename(staged, model_dir / f"v{version}")
            return version
        except OSError:  # another writer took this number first
            if not (model_dir / f"v{version}").exists():
                raise


def json_default(value: Any) -> Any:
    """json.dumps' fallback for the files of a version: numpy scalars as numbers."""
    if isinstance(value, np.generic):
        return value.item()
    return str(value)


def write_json_atomic(path: Path, payload: dict[str, Any]) -> None:
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    partial.write_text(json.dumps(payload, indent=2, default=str))
    os.replace(partial, path)


def create_json_once(path: Path, payload: dict[str, Any]) -> None:
    """Write `path` unless it exists; of two concurrent writers exactly one wins, whole."""
    if path.exists():
        return
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    partial.write_text(json.dumps(payload, indent=2, default=str))
    try:
        os.link(partial, path)  # fails if another writer created it first
    except FileExistsError:
        pass
    finally:
        partial.unlink()

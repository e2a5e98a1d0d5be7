"""The registry's files on disk, shared by the planner (mlsql.models.registry) and by the code on
Flink's workers that follows new versions (hot swap) or publishes them (online learning).

    <root>/<model>/model.json         identity: id, created_at, default_version
    <root>/<model>/v<N>/metadata.json catalog facts
    <root>/<model>/v<N>/predictor.json + artifact files (udfs.predictors)
    <root>/<model>/v<N>/files.json    every other file's size and SHA-256, written last
    <root>/.staging/<uuid>/           a version being written (owner: its writer's pid)

A version is written under .staging and renamed into place in one step: a reader never
sees half a version, and two writers never get the same number (rename onto an existing,
non-empty version directory fails, and the loser takes the next number). `check_version`
refuses a version whose files differ from its manifest (truncated, edited, missing), one
whose JSON does not parse, and one written by a newer format, naming the file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np

METADATA_FILE = "metadata.json"
MODEL_FILE = "model.json"
STAGING = ".staging"
MANIFEST_FILE = "files.json"
PREDICTOR_JSON = "predictor.json"  # udfs.predictors.PREDICTOR_FILE, which imports this module
FORMAT = 1  # the newest files.json / predictor.json format this code reads
_OWNER = ".owner"  # in a staging directory: the writer's host and pid
_ABANDONED_SECONDS = 3600.0  # a staging directory of another host, untouched this long


class DamagedVersion(ValueError):
    """A version's files are not as they were published, or not readable by this code."""
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
    """A new staging directory, after removing those whose writer died (killed mid-write)."""
    remove_abandoned_staging(root)
    path = root / STAGING / uuid.uuid4().hex
    path.mkdir(parents=True)
    (path / _OWNER).write_text(f"{os.uname().nodename} {os.getpid()}")
    return path


def remove_abandoned_staging(root: Path) -> list[Path]:
    """Remove the staging directories whose writing process no longer runs on this host
    (or, from another host, untouched for an hour); returns what was removed."""
    removed = []
    staging = root / STAGING
    if not staging.is_dir():
        return removed
    here = os.uname().nodename
    for path in staging.iterdir():
        try:
            host, _, pid = (path / _OWNER).read_text().partition(" ")
            alive = _running(int(pid)) if host == here else \
                time.time() - path.stat().st_mtime < _ABANDONED_SECONDS
        except (OSError, ValueError):  # no owner: an older writer's, or a dropped version's
            alive = time.time() - path.stat().st_mtime < _ABANDONED_SECONDS \
                if path.exists() else True
        if not alive:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def write_manifest(directory: Path) -> None:
    """files.json: each file's size and SHA-256 (the owner marker and the manifest aside)."""
    files = {}
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        name = path.relative_to(directory).as_posix()
        if name in (MANIFEST_FILE, _OWNER):
            continue
        files[name] = {"bytes": path.stat().st_size, "sha256": _sha256(path)}
    write_json_atomic(directory / MANIFEST_FILE, {"format": FORMAT, "files": files})


def check_version(directory: Path) -> None:
    """DamagedVersion, naming the file, unless the version reads as it was published.
    Versions published before manifests existed are checked for readable JSON only."""
    manifest_path = directory / MANIFEST_FILE
    if manifest_path.exists():
        manifest = _read_json(manifest_path)
        _check_format(manifest_path, manifest)
        if not isinstance(manifest.get("files"), dict) or not manifest["files"]:
            raise DamagedVersion(f"{manifest_path} lists no files")
        for name, expected in manifest["files"].items():
            path = directory / name
            if not path.is_file():
                raise DamagedVersion(f"{path} is missing")
            size = path.stat().st_size
            if size != expected["bytes"]:
                raise DamagedVersion(f"{path} has {size:,} bytes where {expected['bytes']:,} "
                                     "were published (truncated or changed)")
            if _sha256(path) != expected["sha256"]:
                raise DamagedVersion(f"{path} was changed after it was published (its "
                                     "SHA-256 differs from files.json's)")
    if (directory / METADATA_FILE).exists():  # missing where a manifest lists it: above
        _read_json(directory / METADATA_FILE)
    predictor_path = directory / PREDICTOR_JSON
    if predictor_path.exists():
        predictor = _read_json(predictor_path)
        _check_format(predictor_path, predictor)
        missing = [k for k in ("task", "outputs") if k not in predictor]
        if predictor.get("task") != "imported":
            missing += [k for k in ("algorithm", "features") if k not in predictor]
        if missing:
            raise DamagedVersion(f"{predictor_path} has no {', '.join(map(repr, missing))}")


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DamagedVersion(f"{path} is missing") from None
    except (OSError, ValueError) as error:
        raise DamagedVersion(f"{path} is not readable JSON ({error})") from None
    if not isinstance(data, dict):
        raise DamagedVersion(f"{path} is not a JSON object")
    return data


def _check_format(path: Path, data: dict[str, Any]) -> None:
    version = data.get("format", 1)
    if not isinstance(version, int) or version > FORMAT:
        raise DamagedVersion(f"{path} was written by a newer mlsql (format {version}; this "
                             f"one reads up to {FORMAT}): upgrade mlsql to read it")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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
        (staged / _OWNER).unlink(missing_ok=True)
        write_manifest(staged)
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

"""The registry's files on disk, shared by the planner (mlsql.models.registry) and by the code on
Flink's workers that follows new versions (hot swap) or publishes them (online learning).

    <root>/<model>/model.json         identity: id, created_at, default_version
    <root>/<model>/v<N>/metadata.json catalog facts
    <root>/<model>/v<N>/predictor.json + artifact files (udfs.predictors)
    <root>/<model>/v<N>/files.json    every other file's size and SHA-256, written last
    <root>/<model>/.numbers/<N>       an empty file: number N was handed out (never again)
    <root>/.staging/<uuid>.<pid>@<host>/  a version being written, named with its writer
    <root>/.staging/dropped-<uuid>/   a dropped version or model, being deleted

A version is written under .staging and renamed into place in one step: a reader never
sees half a version. Its number is reserved first by creating .numbers/<N> exclusively, so
two writers never get the same number and a number is never handed out twice, not after
its version was dropped nor after its writer was killed (that number is skipped).
model.json is replaced whole (write a partial file, rename it over). A process killed at
any step leaves a valid registry; what it leaves behind (staging directories, partial
files, trash) is removed by the next writer. `check_version` refuses a version whose files
differ from its manifest (truncated, edited, missing), one whose JSON does not parse, and
one written by a newer format, naming the file.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import re
import shutil
import signal
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np

METADATA_FILE = "metadata.json"
MODEL_FILE = "model.json"
STAGING = ".staging"
MANIFEST_FILE = "files.json"
NUMBERS = ".numbers"
TRASH_PREFIX = "dropped-"
PREDICTOR_JSON = "predictor.json"  # udfs.predictors.PREDICTOR_FILE, which imports this module
FORMAT = 1  # the newest files.json / predictor.json format this code reads
_OWNER = ".owner"  # in an older mlsql's staging directory: the writer's host and pid
_ABANDONED_SECONDS = 3600.0  # a staging directory of another host, untouched this long


class DamagedVersion(ValueError):
    """A version's files are not as they were published, or not readable by this code."""


_VERSION_DIR = re.compile(r"^v(\d+)$")
_OWNED = re.compile(r"^(?:\..+\.)?[0-9a-f]{32}\.(\d+)@(.+)$")  # <uuid>.<pid>@<host>
_CRASH_ENV = "MLSQL_REGISTRY_CRASH_AT"
_crash: dict[str, Any] | None = None


def set_crash_plan(spec: str | None) -> None:
    """Fault injection for tests: every filesystem step of publishing, ALTER, RENAME and
    DROP calls `step(name)` just before it. `spec` (or MLSQL_REGISTRY_CRASH_AT, read once at
    import) says what a step does:

        "<k>"           SIGKILL this process at the k-th step it reaches (1-based)
        "<name>:<n>"    SIGKILL it the n-th time it reaches step <name>
        "log:<file>"    append each step's name to <file>, one a line (to enumerate them)

    None or "" (the default): `step` does nothing beyond one comparison.
    """
    global _crash
    _crash = None
    if not spec:
        return
    if spec.startswith("log:"):
        _crash = {"log": spec[4:]}
    elif spec.isdigit():
        _crash = {"at": int(spec), "reached": 0}
    else:
        name, _, count = spec.rpartition(":")
        _crash = {"at": int(count), "reached": 0, "name": name}


def step(name: str) -> None:
    """A filesystem step is about to happen (see set_crash_plan)."""
    if _crash is None:
        return
    if "log" in _crash:
        with open(_crash["log"], "a", encoding="utf-8") as log:
            log.write(name + "\n")
        return
    if _crash.get("name", name) == name:
        _crash["reached"] += 1
        if _crash["reached"] == _crash["at"]:
            os.kill(os.getpid(), signal.SIGKILL)


set_crash_plan(os.environ.get(_CRASH_ENV))


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
    path = root / STAGING / _owned_name()  # named with its writer: never without an owner
    step("staging.mkdir")
    path.mkdir(parents=True)
    return path


def discard(path: Path, root: Path) -> None:
    """Delete a staging directory or a dropped version: renamed to trash first (one step),
    so that a process killed while deleting leaves trash, which any writer removes."""
    trash = root / STAGING / f"{TRASH_PREFIX}{uuid.uuid4().hex}"
    try:
        trash.parent.mkdir(exist_ok=True)
        step("discard.rename")
        os.rename(path, trash)
    except FileNotFoundError:
        if os.path.lexists(path):
            raise
        return  # gone already
    step("discard.rmtree")
    shutil.rmtree(trash, ignore_errors=True)


def remove_abandoned_staging(root: Path) -> list[Path]:
    """Remove trash, and the staging directories whose writing process no longer runs on
    this host (or, from another host, untouched for an hour); returns what was removed."""
    removed = []
    staging = root / STAGING
    if not staging.is_dir():
        return removed
    for path in staging.iterdir():
        if path.name.startswith(TRASH_PREFIX) or _abandoned(path, _owner_of(path)):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def remove_abandoned_partials(directory: Path) -> None:
    """Remove the partial files (write_json_atomic's, create_json_once's) of dead writers."""
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for name in names:
        path = directory / name
        if name.startswith(".") and _OWNED.match(name) and _abandoned(path, _owner_of(path)):
            _unlink_quietly(path)


def _owned_name(prefix: str = "") -> str:
    return f"{prefix}{uuid.uuid4().hex}.{os.getpid()}@{os.uname().nodename}"


def _owner_of(path: Path) -> str | None:
    """'host pid' of the process writing `path` (from its name, or an older mlsql's owner
    file); None if unknown."""
    match = _OWNED.match(path.name)
    if match:
        return f"{match.group(2)} {match.group(1)}"
    try:
        return (path / _OWNER).read_text()
    except OSError:
        return None


def _abandoned(path: Path, owner: str | None) -> bool:
    """Whether `path`'s writer (`owner`: "host pid") is gone: not running on this host, or
    (of another host, or unknown) `path` untouched for an hour."""
    host, _, pid = (owner or "").partition(" ")
    if host == os.uname().nodename and pid.isdigit():
        return not _running(int(pid))
    try:
        return time.time() - path.stat().st_mtime >= _ABANDONED_SECONDS
    except OSError:
        return False


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
    step("publish.model_dir")
    created = not model_dir.exists()
    model_dir.mkdir(exist_ok=True)
    try:
        return _publish(model_dir, staged)
    except BaseException:
        if created:  # leave no empty model directory (not if another writer's is in it)
            with contextlib.suppress(OSError):
                (model_dir / NUMBERS).rmdir()
                model_dir.rmdir()
        raise


def _publish(model_dir: Path, staged: Path) -> int:
    create_json_once(model_dir / MODEL_FILE, {
        "name": model_dir.name, "id": uuid.uuid4().hex, "created_at": now_iso(),
        "default_version": None})
    remove_abandoned_partials(model_dir)
    while True:
        version = reserve_number(model_dir)
        metadata = json.loads((staged / METADATA_FILE).read_text())
        metadata["version"] = version
        write_json_atomic(staged / METADATA_FILE, metadata)
        write_manifest(staged)
        try:
            step("publish.rename")
            os.rename(staged, model_dir / f"v{version}")
            break
        except OSError:  # a version of an older mlsql, which reserved no number, has it
            if not (model_dir / f"v{version}").exists():
                raise
    return version


def reserve_number(model_dir: Path) -> int:
    """A version number no writer of this model was ever given: .numbers/<N> is created
    exclusively (one writer wins each N) and stays, so a dropped version's number, or a killed
    writer's, is skipped. The search starts above the newest version."""
    numbers = model_dir / NUMBERS
    step("publish.numbers")
    numbers.mkdir(exist_ok=True)
    candidate = (versions(model_dir) or [0])[-1] + 1
    while True:
        try:
            step("publish.reserve")
            os.close(os.open(numbers / str(candidate), os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            return candidate
        except FileExistsError:
            candidate += 1


def json_default(value: Any) -> Any:
    """json.dumps' fallback for the files of a version: numpy scalars as numbers."""
    if isinstance(value, np.generic):
        return value.item()
    return str(value)


def write_json_atomic(path: Path, payload: dict[str, Any]) -> None:
    """Replace `path` whole: a reader, or a process killed midway, sees the old or the new."""
    partial = _write_partial(path, payload)
    try:
        step(f"{path.name}.replace")
        os.replace(partial, path)
    except BaseException:
        _unlink_quietly(partial)
        raise


def create_json_once(path: Path, payload: dict[str, Any]) -> None:
    """Write `path` unless it exists; of two concurrent writers exactly one wins, whole."""
    if path.exists():
        return
    partial = _write_partial(path, payload)
    try:
        step(f"{path.name}.link")
        os.link(partial, path)  # fails if another writer created it first
    except FileExistsError:
        pass
    finally:
        step(f"{path.name}.unlink")
        _unlink_quietly(partial)


def _write_partial(path: Path, payload: dict[str, Any]) -> Path:
    """`payload` in a hidden file beside `path`, named with its writer (for clean-up)."""
    partial = path.with_name(_owned_name(f".{path.name}."))
    try:
        step(f"{path.name}.write")
        partial.write_text(json.dumps(payload, indent=2, default=str))
    except BaseException:  # a full disk: leave no partial file
        _unlink_quietly(partial)
        raise
    return partial


def _unlink_quietly(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()

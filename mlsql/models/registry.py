"""The model registry: a directory of models, each a series of immutable versions.

The layout on disk, and the one-step publication that keeps a crash or a failed training
from leaving half a version, are in udfs.model_store (Flink's workers read and write it
too). A scoring job is planned against one version; unpinned references in streaming jobs
follow the model's serving version while they run (udfs.predict).
"""

from __future__ import annotations

import contextlib
import errno
import fnmatch
import json
import os
import re
import resource
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlsql.core.paths import user_path
from mlsql.errors import (
    DamagedModelError,
    MlsqlError,
    ModelNotFoundError,
    RegistryWriteError,
    did_you_mean,
)
from udfs import model_store
from udfs.model_store import METADATA_FILE, MODEL_FILE, now_iso, step, write_json_atomic

__all__ = ["METADATA_FILE", "MODEL_FILE", "ModelVersion", "Registry", "now_iso"]
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
# Errors of the registry's storage, not of the statement: each a clear RegistryWriteError.
_STORAGE_ERRORS = {
    errno.ENOSPC: "no space left on the device of registry {root}",
    errno.EDQUOT: "disk quota exceeded in registry {root}",
    errno.EFBIG: "a file in registry {root} exceeds this process's file size limit",
    errno.EROFS: "registry {root} is read-only",
    errno.EACCES: "permission denied in registry {root}",
    errno.EPERM: "permission denied in registry {root}"}
_NEARLY_FULL = 1 << 20  # bytes free: a device this full explains a write's ENOSPC


def default_registry_path() -> Path:
    return user_path("MLSQL_REGISTRY", "registry")


@dataclass(frozen=True)
class ModelVersion:
    name: str
    version: int
    path: Path
    metadata: dict[str, Any]


@dataclass
class StagedVersion:
    path: Path
    version: int | None = None  # set once published


def check_model_name(name: str) -> None:
    if not _NAME.match(name):
        raise MlsqlError(f"invalid model name {name!r}: use letters, digits and '_', "
                         "optionally qualified with '.'")


class Registry:
    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        self.root = Path(root) if root is not None else default_registry_path()
        self.root.mkdir(parents=True, exist_ok=True)

    def model_names(self) -> list[str]:
        return sorted(p.name for p in self.root.iterdir()
                      if not p.name.startswith(".") and (p / MODEL_FILE).exists())

    def exists(self, name: str) -> bool:
        return (self._model_dir(name) / MODEL_FILE).exists() and bool(self.versions(name))

    def versions(self, name: str) -> list[int]:
        return model_store.versions(self._model_dir(name))

    def model_info(self, name: str) -> dict[str, Any]:
        info = json.loads((self._model_dir(name) / MODEL_FILE).read_text())
        return {**info, "name": name}  # the directory names the model (RENAME: one step)

    def resolve(self, name: str, version: int | None = None,
                latest: bool = False) -> ModelVersion:
        """The pinned `version`, or the model's default version (unless `latest`), or its
        newest."""
        versions = self.versions(name)
        if not versions:
            raise self._not_found(name)
        if version is None:
            version = model_store.serving_version(self._model_dir(name), latest)
        if version not in versions:
            raise ModelNotFoundError(
                f"model {name!r} has no version {version} (versions: "
                f"{', '.join(map(str, versions))})")
        path = self._model_dir(name) / f"v{version}"
        try:
            model_store.check_version(path)
        except model_store.DamagedVersion as error:
            raise DamagedModelError(
                f"model {name!r} version {version} is damaged: {error}. Its other versions "
                f"are untouched; DROP MODEL {name}${version} removes it") from None
        metadata = json.loads((path / METADATA_FILE).read_text())
        return ModelVersion(name, version, path, metadata)

    def list(self, like: str | None = None) -> list[ModelVersion]:
        """Each model's serving version; a damaged one as metadata {"damaged": why}."""
        names = self.model_names()
        if like is not None:
            pattern = like.replace("%", "*").replace("_", "?")
            names = [n for n in names if fnmatch.fnmatchcase(n, pattern)]
        listed = []
        for name in names:
            if not self.versions(name):
                continue
            try:
                listed.append(self.resolve(name))
            except DamagedModelError as error:
                version = model_store.serving_version(self._model_dir(name)) or 0
                listed.append(ModelVersion(name, version, self._model_dir(name) / f"v{version}",
                                           {"damaged": str(error)}))
        return listed

    @contextlib.contextmanager
    def new_version(self, name: str) -> Iterator[StagedVersion]:
        """Yield a staging directory; on a clean exit it becomes the model's next version."""
        check_model_name(name)
        action = f"publish a new version of model {name!r}"

        def consequence() -> str:  # at the error: a training may have run for hours
            serving = model_store.serving_version(self._model_dir(name))
            return "nothing was published" + (
                f"; version {serving} still serves" if serving is not None else "")

        with self._writing(action, consequence):
            staged = StagedVersion(model_store.staging_dir(self.root))
        try:
            with self._writing(action, consequence, within=staged.path):  # the training
                yield staged
            with self._writing(action, consequence):
                staged.version = self._publish(name, staged.path)
        finally:
            if staged.version is None:
                _discard_staged(staged.path, self.root)

    def _publish(self, name: str, staging: Path) -> int:
        return model_store.publish(self.root, name, staging)

    def set_default_version(self, name: str, version: int | None) -> None:
        """Serve `version` when no version is named; None serves the latest again."""
        if version is not None:
            self.resolve(name, version)
        elif not self.versions(name):
            raise self._not_found(name)
        self._update_info(name, "default_version", version)

    def set_retraining(self, name: str, options: dict[str, str] | None) -> None:
        """Keep the model's retraining policy (mlsql.monitoring.policy), or drop it."""
        if not self.versions(name):
            raise self._not_found(name)
        self._update_info(name, "retraining", options)

    def _update_info(self, name: str, key: str, value: Any) -> None:
        info = self.model_info(name)
        info[key] = value
        model_dir = self._model_dir(name)
        with self._writing(f"change model {name!r}", "the model is unchanged"):
            model_store.remove_abandoned_partials(model_dir)
            write_json_atomic(model_dir / MODEL_FILE, info)

    def model_dir(self, name: str) -> Path:
        """The model's directory (its versions, model.json, retraining.jsonl)."""
        if not self.versions(name):
            raise self._not_found(name)
        return self._model_dir(name)

    def rename(self, name: str, new_name: str) -> None:
        check_model_name(new_name)
        if not self.versions(name):
            raise self._not_found(name)
        target = self._model_dir(new_name)
        exists = MlsqlError(f"cannot rename {name!r}: a model named {new_name!r} exists")
        if self.versions(new_name):
            raise exists
        with self._writing(f"rename model {name!r}", "the model keeps its name"):
            if target.exists():  # no version: what a writer killed before its first left
                model_store.discard(target, self.root)
            try:
                step("rename.dir")
                os.rename(self._model_dir(name), target)  # one step: no half state
            except OSError as error:
                if error.errno in (errno.EEXIST, errno.ENOTEMPTY):  # created meanwhile
                    raise exists from None
                raise
            # model.json's name is informational (model_info reads the directory's)
            with contextlib.suppress(OSError):
                write_json_atomic(target / MODEL_FILE, self.model_info(new_name))

    def drop(self, name: str, version: int | None = None) -> None:
        """Drop one version, or the whole model. A version's number is never used again."""
        if version is not None:
            if version not in self.versions(name):  # not resolve(): a damaged one may go
                self.resolve(name, version)  # raises: not found, naming the versions
            if self.model_info(name).get("default_version") == version:
                self.set_default_version(name, None)  # killed here: the latest serves
            with self._writing(f"drop model {name!r} version {version}",
                               "the version is still there"):
                model_store.discard(self._model_dir(name) / f"v{version}", self.root)
            return
        if not self.versions(name):
            raise self._not_found(name)
        with self._writing(f"drop model {name!r}", "the model is still there"):
            model_store.discard(self._model_dir(name), self.root)

    @contextlib.contextmanager
    def _writing(self, action: str, consequence: str | Callable[[], str],
                 within: Path | None = None) -> Iterator[None]:
        """A storage error (full disk, read-only registry) as a RegistryWriteError naming
        the registry; other errors pass through. `within`: only errors of the files under
        it count (a training's own, e.g. a full /tmp, are not the registry's)."""
        try:
            yield
        except RegistryWriteError:
            raise
        except OSError as error:
            reason = _STORAGE_ERRORS.get(error.errno or 0)
            if reason is None or not self._caused_by_storage(error, within):
                raise
            where = f": {error.filename}" if error.filename else ""
            said = consequence() if callable(consequence) else consequence
            raise RegistryWriteError(
                f"cannot {action}: {reason.format(root=self.root)} ({error.strerror}{where}); "
                f"{said}") from error

    def _caused_by_storage(self, error: OSError, within: Path | None) -> bool:
        if error.filename is not None:
            return _under(error.filename, within or self.root)
        if within is None:  # a write() of the registry's own files
            return True
        return _storage_explains(error.errno, within)

    def _model_dir(self, name: str) -> Path:
        # Every path from a name goes through here: a name like `../x` or `/abs` (a quoted
        # identifier can spell one) must never reach outside the registry.
        check_model_name(name)
        return self.root / name

    def _not_found(self, name: str) -> ModelNotFoundError:
        return ModelNotFoundError(f"model {name!r} not found in registry {self.root}"
                                  f"{did_you_mean(name, self.model_names())}")


def _under(filename: Any, directory: Path) -> bool:
    try:
        return Path(os.fsdecode(filename)).resolve().is_relative_to(directory.resolve())
    except (OSError, TypeError, ValueError):
        return False


def _storage_explains(number: int | None, directory: Path) -> bool:
    """Whether the state of `directory`'s storage explains an error that names no file (a
    failed write() of a file there): its device full or read-only, or a file there at this
    process's file size limit."""
    try:
        device = os.statvfs(directory)
        if number in (errno.ENOSPC, errno.EDQUOT):
            return device.f_bavail * device.f_frsize < _NEARLY_FULL
        if number == errno.EROFS:
            return bool(device.f_flag & os.ST_RDONLY)
        if number == errno.EFBIG:
            limit = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
            return limit != resource.RLIM_INFINITY and any(
                p.is_file() and p.stat().st_size >= limit for p in directory.rglob("*"))
    except OSError:
        return False
    return False


def _discard_staged(path: Path, root: Path) -> None:
    """Delete a staging directory that was not published, whatever the storage's state."""
    try:
        model_store.discard(path, root)
    except OSError:
        shutil.rmtree(path, ignore_errors=True)

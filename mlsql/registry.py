"""The model registry: a directory of models, each a series of immutable versions.

    <root>/<model>/model.json        identity: id, created_at, default_version
    <root>/<model>/v<N>/metadata.json catalog facts: columns, options, query, metrics, ...
    <root>/<model>/v<N>/predictor.json + artifact files, read by udfs.predictors
    <root>/.staging/<uuid>/          a version being written

A version is written under .staging and renamed into place in one step, so a crash or a
failed training leaves no half version and the previous version keeps serving. A scoring job
is planned against a version's directory, never against a mutable "current" file.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fnmatch
import json
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlsql.errors import MlsqlError, ModelNotFoundError, did_you_mean
from mlsql.paths import user_path

METADATA_FILE = "metadata.json"
MODEL_FILE = "model.json"
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_VERSION_DIR = re.compile(r"^v(\d+)$")


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
        return (self.root / name / MODEL_FILE).exists() and bool(self.versions(name))

    def versions(self, name: str) -> list[int]:
        directory = self.root / name
        if not directory.is_dir():
            return []
        found = (_VERSION_DIR.match(p.name) for p in directory.iterdir())
        return sorted(int(m.group(1)) for m in found if m)

    def model_info(self, name: str) -> dict[str, Any]:
        return json.loads((self._model_dir(name) / MODEL_FILE).read_text())

    def resolve(self, name: str, version: int | None = None) -> ModelVersion:
        """The pinned `version`, or the model's default version, or its latest."""
        versions = self.versions(name)
        if not versions:
            raise self._not_found(name)
        if version is None:
            version = self.model_info(name).get("default_version") or versions[-1]
        if version not in versions:
            raise ModelNotFoundError(
                f"model {name!r} has no version {version} (versions: "
                f"{', '.join(map(str, versions))})")
        path = self.root / name / f"v{version}"
        metadata = json.loads((path / METADATA_FILE).read_text())
        return ModelVersion(name, version, path, metadata)

    def list(self, like: str | None = None) -> list[ModelVersion]:
        names = self.model_names()
        if like is not None:
            pattern = like.replace("%", "*").replace("_", "?")
            names = [n for n in names if fnmatch.fnmatchcase(n, pattern)]
        return [self.resolve(n) for n in names if self.versions(n)]

    @contextlib.contextmanager
    def new_version(self, name: str) -> Iterator[StagedVersion]:
        """Yield a staging directory; on a clean exit it becomes the model's next version."""
        check_model_name(name)
        staged = StagedVersion(self.root / ".staging" / uuid.uuid4().hex)
        staged.path.mkdir(parents=True)
        try:
            yield staged
            staged.version = self._publish(name, staged.path)
        finally:
            shutil.rmtree(staged.path, ignore_errors=True)

    def _publish(self, name: str, staging: Path) -> int:
        model_dir = self.root / name
        model_dir.mkdir(exist_ok=True)
        if not (model_dir / MODEL_FILE).exists():
            _write_json_atomic(model_dir / MODEL_FILE, {
                "name": name, "id": uuid.uuid4().hex, "created_at": now_iso(),
                "default_version": None})
        while True:
            version = (self.versions(name) or [0])[-1] + 1
            metadata = json.loads((staging / METADATA_FILE).read_text())
            metadata["version"] = version
            _write_json_atomic(staging / METADATA_FILE, metadata)
            try:
                os.rename(staging, model_dir / f"v{version}")
                return version
            except OSError:  # another writer took this number first
                if not (model_dir / f"v{version}").exists():
                    raise

    def set_default_version(self, name: str, version: int | None) -> None:
        """Serve `version` when no version is named; None serves the latest again."""
        if version is not None:
            self.resolve(name, version)
        elif not self.versions(name):
            raise self._not_found(name)
        info = self.model_info(name)
        info["default_version"] = version
        _write_json_atomic(self._model_dir(name) / MODEL_FILE, info)

    def rename(self, name: str, new_name: str) -> None:
        check_model_name(new_name)
        if not self.versions(name):
            raise self._not_found(name)
        if (self.root / new_name).exists():
            raise MlsqlError(f"cannot rename {name!r}: a model named {new_name!r} exists")
        os.rename(self._model_dir(name), self.root / new_name)  # one step: no half state
        info = self.model_info(new_name)
        info["name"] = new_name
        _write_json_atomic(self._model_dir(new_name) / MODEL_FILE, info)

    def drop(self, name: str, version: int | None = None) -> None:
        if version is not None:
            self.resolve(name, version)
            if self.model_info(name).get("default_version") == version:
                self.set_default_version(name, None)
            _remove_atomic(self.root / name / f"v{version}", self.root)
            return
        if not self.versions(name):
            raise self._not_found(name)
        _remove_atomic(self.root / name, self.root)

    def _model_dir(self, name: str) -> Path:
        return self.root / name

    def _not_found(self, name: str) -> ModelNotFoundError:
        return ModelNotFoundError(f"model {name!r} not found in registry {self.root}"
                                  f"{did_you_mean(name, self.model_names())}")


def now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def _write_json_atomic(path: Path, payload: dict[str, Any]) -> None:
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    partial.write_text(json.dumps(payload, indent=2, default=str))
    os.replace(partial, path)


def _remove_atomic(path: Path, root: Path) -> None:
    """Rename out of sight first, so no reader ever sees a half-deleted version."""
    trash = root / ".staging" / f"dropped-{uuid.uuid4().hex}"
    trash.parent.mkdir(exist_ok=True)
    os.rename(path, trash)
    shutil.rmtree(trash, ignore_errors=True)

"""The vectorized ML_PREDICT function: one Arrow batch in, the model's outputs out.

A pinned reference (`m$3`) scores with that version for the job's life. An unpinned one
(`m`, `m$latest`) follows the model: at most every `refresh_seconds` the worker looks at the
registry (two small file reads) and, when the serving version changed, loads the new one and
scores the next batch with it. A batch is scored by exactly one version, so no row is
dropped or scored twice at a switch; each row carries the version that scored it.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pyflink.table.udf import FunctionContext, ScalarFunction

from udfs import model_store
from udfs.features import as_series
from udfs.predictors import Predictor, load_predictor

VERSION_FIELD = "__mlsql_version"


@dataclass(frozen=True)
class FollowVersions:
    """Where an unpinned reference finds new versions, and how often it looks."""

    model_dir: str  # <registry>/<model>
    latest: bool  # `m$latest`: the newest version even when a default version is set
    refresh_seconds: float
    inputs: tuple[tuple[str, str], ...]  # (name, kind) the job was planned with
    outputs: tuple[tuple[str, str], ...]  # (name, type)


@dataclass
class _Serving:
    version: int
    predictor: Predictor | Any


class ModelPredictFunction(ScalarFunction):
    """Loads the model version once per worker, in `open`, and scores whole batches."""

    def __init__(self, version_dir: str, version: int,
                 follow: FollowVersions | None = None) -> None:
        self.version_dir = version_dir
        self.version = version
        self.follow = follow
        self._serving: _Serving | None = None
        self._next_check = 0.0
        self._rejected: set[int] = set()

    def open(self, function_context: FunctionContext) -> None:
        self._serving = None
        if self.follow is not None:
            # A task restarted after a failure scores with the serving version from its first
            # row, and loads only that one: scoring with the planned version until the next
            # refresh went back to an old version (a TaskManager killed after a hot swap),
            # and the planned version may have been dropped since.
            self._check_for_new_version()
        if self._serving is None:
            self._serving = _Serving(self.version, load_predictor(self.version_dir))
        self._next_check = time.monotonic() + self._refresh_seconds()

    def eval(self, *columns: pd.Series) -> pd.DataFrame:
        if self._serving is None:  # not opened: called outside Flink
            self.open(None)
        if self.follow is not None and time.monotonic() >= self._next_check:
            self._check_for_new_version()
        serving = self._serving
        frame = serving.predictor.predict(as_series(columns))
        frame[VERSION_FIELD] = np.full(len(frame), serving.version, dtype=np.int32)
        return frame

    def _refresh_seconds(self) -> float:
        return self.follow.refresh_seconds if self.follow else float("inf")

    def _check_for_new_version(self) -> None:
        """Score with the serving version from now on, when it is another compatible one;
        with none yet (in `open`), leave `_serving` unset where it cannot be used."""
        follow = self.follow
        self._next_check = time.monotonic() + follow.refresh_seconds
        model_dir = Path(follow.model_dir)
        try:
            version = model_store.serving_version(model_dir, follow.latest)
        except (OSError, ValueError):  # a writer mid-rename; look again next time
            return
        current = self._serving.version if self._serving else None
        if version is None or version == current or version in self._rejected:
            return
        directory = model_dir / f"v{version}"
        try:
            metadata = json.loads((directory / model_store.METADATA_FILE).read_text())
            problem = _incompatibility(metadata, follow)
            if problem is None:
                self._serving = _Serving(version, load_predictor(str(directory)))
                if current is not None:
                    _log_once(f"{model_dir.name}: now scoring with version {version}")
                return
        except (OSError, ValueError, KeyError) as error:  # dropped meanwhile, or unreadable
            problem = f"cannot be loaded ({error})"
        self._rejected.add(version)
        _log_once(f"{model_dir.name}: version {version} {problem}; still scoring with version "
                  f"{current if current is not None else self.version} (restart the job to "
                  "change the schema)")

    def __getstate__(self) -> dict:
        return {"version_dir": self.version_dir, "version": self.version,
                "follow": self.follow, "_serving": None, "_next_check": 0.0,
                "_rejected": set()}


def _incompatibility(metadata: dict[str, Any], follow: FollowVersions) -> str | None:
    inputs = tuple((i["name"], i["kind"]) for i in metadata["inputs"])
    outputs = tuple((o["name"], o["type"]) for o in metadata["outputs"])
    if inputs != follow.inputs:
        return f"takes other inputs ({', '.join(n for n, _ in inputs)})"
    if outputs != follow.outputs:
        return f"has other outputs ({', '.join(f'{n} {t}' for n, t in outputs)})"
    return None


def _log(message: str) -> None:
    print(f"mlsql: {message}", file=sys.stderr)


_LOGGED: set[str] = set()


def _log_once(message: str) -> None:
    """Once per process: every parallel instance of a scoring function in it makes the same
    switch (locally all of them run in the client's process), and one line says it."""
    if message not in _LOGGED:
        _LOGGED.add(message)
        _log(message)

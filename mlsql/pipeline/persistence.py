"""Saving a Pipeline or a fitted PipelineModel to a directory, as Flink ML's `save(path)`
and `load(path)` do: JSON only, never pickle.

A stage is its class name and its parameters (the keyword arguments that make it again). A
fitted pipeline without an estimator is its fitted transform: the SQL text of each stage with
the fitted constants, as a registry version stores it. A fitted pipeline with an estimator
lives in the registry (model and version); the directory holds where to find it.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from mlsql.errors import MlsqlError

FILE = "pipeline.json"
FORMAT = 1


def write(directory: str | Path, document: dict[str, Any]) -> Path:
    """`document` as directory/pipeline.json (the directory made if missing); an existing
    file is replaced whole (written beside it, then renamed)."""
    root = Path(directory)
    root.mkdir(parents=True, exist_ok=True)
    target = root / FILE
    partial = root / f".{FILE}.partial"
    partial.write_text(json.dumps({"format": FORMAT, **document}, indent=2) + "\n")
    partial.replace(target)
    return target


def read(directory: str | Path, kind: str) -> dict[str, Any]:
    """What `write` wrote, checked to be a saved `kind` ('pipeline' or 'pipeline_model')."""
    path = Path(directory) / FILE
    if not path.is_file():
        raise MlsqlError(f"no saved pipeline at {directory} (no {FILE})")
    try:
        document = json.loads(path.read_text())
    except ValueError as error:
        raise MlsqlError(f"{path} is not a saved pipeline: {error}") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise MlsqlError(f"{path} is not a saved pipeline of format {FORMAT}")
    if document.get("kind") != kind:
        raise MlsqlError(f"{path} holds a {document.get('kind')}, not a {kind}")
    return document


def stage_document(stage: Any) -> dict[str, Any]:
    """A stage as its class name and the keyword arguments that make it again."""
    return {"class": type(stage).__name__, "params": stage_params(stage)}


def stage_params(stage: Any) -> dict[str, Any]:
    params = dict(vars(stage))
    options = params.pop("options", None)  # an estimator's model options
    if options:
        params.update(options)
    # None and NaN are the defaults they stand for (JSON has no NaN)
    return {key: value for key, value in params.items()
            if value is not None and not (isinstance(value, float) and math.isnan(value))}


def stage_from(document: dict[str, Any], classes: dict[str, type]) -> Any:
    name = document.get("class")
    if name not in classes:
        raise MlsqlError(f"a saved pipeline names stage {name!r}, which mlsql.pipeline does "
                         "not have")
    return classes[name](**document.get("params", {}))

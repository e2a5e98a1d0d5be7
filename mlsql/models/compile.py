"""Choose and build the compiled-SQL form of a model version, where one exists: its model
type's compile (mlsql.models)."""

from __future__ import annotations

import json
from typing import Any

from mlsql.compiler.sql import CompiledModel, NotCompilable
from mlsql.errors import OptionError
from mlsql.models import model_type as find_model_type
from mlsql.models.base import CompileRequest
from mlsql.models.registry import ModelVersion
from udfs.predictors import PREDICTOR_FILE

__all__ = ["DEFAULT_MAX_TREE_NODES", "NotCompilable", "compile_model"]

# Above this many tree nodes compiled SQL loses to the pandas UDF on this machine: 30 trees
# of 31 leaves (1,830 nodes) score at about 360k rows/s after 5 s of planning, 100 trees
# (6,100 nodes) at 57k rows/s after 23 s, against 143k rows/s through the UDF
# (tests/benchmarks/inference.py). DESIGN.md: as one expression, 100 trees never ran at all.
DEFAULT_MAX_TREE_NODES = 2_000


def compile_model(model: ModelVersion, inputs: list[str],
                  max_tree_nodes: int = DEFAULT_MAX_TREE_NODES) -> CompiledModel:
    """The model's scores and outputs as SQL over the input expressions (in input order)."""
    payload: dict[str, Any] = json.loads((model.path / PREDICTOR_FILE).read_text())
    label = model.metadata.get("label")
    label_type = next((o["type"] for o in model.metadata["outputs"]
                       if label and o["name"] == f"predicted_{label['name']}"), None)
    algorithm = payload["algorithm"]
    if payload["task"] == "imported":
        raise NotCompilable(f"an imported {algorithm} model runs in its own runtime")
    try:
        model_type = find_model_type(model.metadata["model_type"])
    except OptionError:
        raise NotCompilable(f"model type {model.metadata['model_type']!r} is not "
                            "registered") from None
    if model_type.compile is None:
        raise NotCompilable(f"no SQL form for a {model_type.name} model")
    return model_type.compile(CompileRequest(payload=payload, directory=model.path,
                                             inputs=inputs, label_type=label_type,
                                             max_tree_nodes=max_tree_nodes))

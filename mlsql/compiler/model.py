"""Choose and build the compiled-SQL form of a model version, where one exists."""

from __future__ import annotations

import json
from typing import Any

from mlsql.compiler.linear import compile_kmeans, compile_linear
from mlsql.compiler.sql import CompiledModel
from mlsql.compiler.trees import compile_trees, tree_count_and_nodes
from mlsql.errors import MlsqlError
from mlsql.registry import ModelVersion
from udfs.predictors import PREDICTOR_FILE

# Above this many tree nodes compiled SQL loses to the pandas UDF on this machine: 30 trees
# of 31 leaves (1,830 nodes) score at about 360k rows/s after 5 s of planning, 100 trees
# (6,100 nodes) at 57k rows/s after 23 s, against 143k rows/s through the UDF
# (tests/benchmarks/inference.py). DESIGN.md: as one expression, 100 trees never ran at all.
DEFAULT_MAX_TREE_NODES = 2_000


class NotCompilable(MlsqlError):
    pass


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
    if algorithm in ("linear", "logistic"):
        return compile_linear(payload, inputs, label_type)
    if algorithm == "kmeans":
        return compile_kmeans(payload, inputs)
    if algorithm == "lightgbm":
        import lightgbm

        booster = lightgbm.Booster(model_file=str(model.path / payload["booster_file"]))
        dump = booster.dump_model()
        trees, nodes = tree_count_and_nodes(dump)
        if nodes > max_tree_nodes:
            raise NotCompilable(f"{trees} trees with {nodes} nodes exceed the compiled-SQL "
                                f"limit of {max_tree_nodes} nodes")
        return compile_trees(dump, payload, inputs, label_type)
    raise NotCompilable(f"no SQL form for algorithm {algorithm!r}")

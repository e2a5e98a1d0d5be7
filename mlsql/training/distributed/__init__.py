"""Training computed inside Flink: no training row reaches this process, only aggregates.

Each trainer takes (runtime, query_sql, feature columns, label, label type, options,
progress) and returns a mlsql.training.fit.Fit. A module of this package declares
`TRAINERS = {"model_type": trainer}`; trainer() finds them, and a model type whose options
include mlsql.models.option_spec.DISTRIBUTABLE must have one (tests/unit/test_model_registry.py).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from mlsql.core.discovery import plugin_modules
from mlsql.errors import SchemaError

Trainer = Callable[..., Any]
_SHARED = frozenset({"common"})


@cache
def trainers() -> dict[str, Trainer]:
    """Every distributed trainer by the name of the model type it trains."""
    found: dict[str, Trainer] = {}
    for module in plugin_modules(__name__, _SHARED):
        for model_type, trainer in getattr(module, "TRAINERS", {}).items():
            if model_type in found:
                raise RuntimeError(f"two distributed trainers for {model_type!r}")
            found[model_type] = trainer
    return found


def trainer(model_type: str) -> Trainer:
    """The trainer of `model_type`; SchemaError when it has none."""
    found = trainers().get(model_type)
    if found is None:
        raise SchemaError(f"{model_type} has no distributed training")
    return found

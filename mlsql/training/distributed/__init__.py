"""Training computed inside Flink: no training row reaches this process, only aggregates.

Each trainer takes (runtime, query_sql, feature columns, label, label type, options,
progress) and returns a mlsql.training.fit.Fit. A model type names its trainer in
ModelType.distributed (mlsql.models); TRAINERS is that table.
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    if name == "TRAINERS":
        from mlsql.models import model_types

        return {t.name: t.distributed for t in model_types().values()
                if t.distributed is not None}
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

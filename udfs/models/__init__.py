"""The workers' side of the model types: scorers, found by predictor.json's "algorithm".

Every module here other than base (and any whose name starts with '_') may declare
`SCORERS: dict[str, type[Scorer]]`; scorers() finds them all.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from typing import Any

from udfs.models.base import Scorer

_SHARED = frozenset({"base"})


@cache
def scorers() -> dict[str, type[Scorer]]:
    """Every scorer class by algorithm name."""
    found: dict[str, type[Scorer]] = {}
    where: dict[str, str] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name in _SHARED or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for algorithm, cls in getattr(module, "SCORERS", {}).items():
            if algorithm in found:
                raise RuntimeError(f"scorer {algorithm!r} is declared twice: in "
                                   f"{where[algorithm]} and {module.__name__}")
            found[algorithm] = cls
            where[algorithm] = module.__name__
    return found


def scorer_class(algorithm: str) -> type[Scorer]:
    known = scorers()
    if algorithm not in known:
        raise ValueError(f"no scorer for algorithm {algorithm!r} (known: "
                         f"{', '.join(sorted(known))}): the model was trained by a newer "
                         "mlsql, or a module under udfs/models/ is missing")
    return known[algorithm]


def scorer(payload: dict[str, Any], directory: str) -> Scorer:
    """The scorer of a version: predictor.json's payload and its directory."""
    return scorer_class(payload["algorithm"])(payload, directory)

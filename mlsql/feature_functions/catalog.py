"""Every feature function by name, discovered: each module of this package other than the
shared ones (base, calls, render, catalog) declares `FEATURE_FUNCTIONS`, so a new function is
one module here (or a class added to one)."""

from __future__ import annotations

import importlib
import pkgutil

from mlsql.feature_functions import __path__ as _package_path
from mlsql.feature_functions.base import FeatureFunction

_SHARED = frozenset({"base", "calls", "render", "catalog"})


def _discover() -> dict[str, FeatureFunction]:
    found: dict[str, FeatureFunction] = {}
    for info in sorted(pkgutil.iter_modules(_package_path), key=lambda m: m.name):
        if info.name in _SHARED or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"mlsql.feature_functions.{info.name}")
        for function in getattr(module, "FEATURE_FUNCTIONS", ()):
            if not isinstance(function, FeatureFunction):
                raise TypeError(f"{module.__name__}.FEATURE_FUNCTIONS holds {function!r}")
            if function.name in found:
                raise RuntimeError(f"feature function {function.name} is declared twice")
            found[function.name] = function
    return found


FUNCTIONS: dict[str, FeatureFunction] = _discover()
NAMES = tuple(FUNCTIONS)

"""Every feature function by name, discovered: each module of this package other than the
shared ones (base, calls, render, catalog) declares `FEATURE_FUNCTIONS`, so a new function is
one module here (or a class added to one)."""

from __future__ import annotations

from mlsql.core.discovery import plugin_modules
from mlsql.feature_functions.base import FeatureFunction

_SHARED = frozenset({"base", "calls", "render", "catalog"})


def _discover() -> dict[str, FeatureFunction]:
    found: dict[str, FeatureFunction] = {}
    for module in plugin_modules("mlsql.feature_functions", _SHARED):
        for function in getattr(module, "FEATURE_FUNCTIONS", ()):
            if not isinstance(function, FeatureFunction):
                raise TypeError(f"{module.__name__}.FEATURE_FUNCTIONS holds {function!r}")
            if function.name in found:
                raise RuntimeError(f"feature function {function.name} is declared twice")
            found[function.name] = function
    return found


FUNCTIONS: dict[str, FeatureFunction] = _discover()
NAMES = tuple(FUNCTIONS)

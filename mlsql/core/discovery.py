"""How a plug-in package finds its plug-ins: every module of it, imported by name."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable
from types import ModuleType


def plugin_modules(package: str, shared: Iterable[str] = ()) -> list[ModuleType]:
    """Each module of `package` in name order, imported; not the `shared` ones (helpers the
    plug-ins use) nor those whose name starts with '_'."""
    skipped = frozenset(shared)
    path = importlib.import_module(package).__path__
    return [importlib.import_module(f"{package}.{info.name}")
            for info in sorted(pkgutil.iter_modules(path), key=lambda m: m.name)
            if info.name not in skipped and not info.name.startswith("_")]

"""One module per model type family, each declaring `CASES: tuple[Case, ...]`; the shared
per-type suite (tests/integration/test_model_types.py) runs every case."""

from __future__ import annotations

import importlib
import pkgutil

from tests.model_cases.base import Case


def all_cases() -> list[Case]:
    cases: list[Case] = []
    for module in pkgutil.iter_modules(__path__):
        if module.name != "base":
            cases.extend(importlib.import_module(f"{__name__}.{module.name}").CASES)
    return cases

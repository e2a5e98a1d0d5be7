"""The test modules themselves: a module-level name defined twice silently replaces the first
(a fixture table or a helper of another test class), which ruff does not report once the
first has been used."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]


def _defined_twice(path: Path) -> list[str]:
    seen: set[str] = set()
    twice = []
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names = [node.name]
        elif isinstance(node, ast.Assign):
            names = [t.id for t in node.targets if isinstance(t, ast.Name)]
        else:
            continue
        for name in names:
            if name in seen:
                twice.append(name)
            seen.add(name)
    return twice


@pytest.mark.parametrize("path", sorted(TESTS.rglob("test_*.py")), ids=lambda p: p.name)
def test_no_module_level_name_is_defined_twice(path):
    assert _defined_twice(path) == []

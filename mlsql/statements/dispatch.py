"""The dispatch table: IR node type -> Handler (how to run it, how `mlsql compile` exports it)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from functools import cache
from typing import Any

from mlsql.core.discovery import plugin_modules
from mlsql.errors import MlsqlError
from mlsql.syntax import ir
from mlsql.syntax.splitter import Statement


class Export(Enum):
    """What `mlsql compile` and `mlsql explain` make of a statement."""
    FLINK = "flink"  # planned into Flink SQL (its ML spans rewritten)
    VERBATIM = "verbatim"  # run in the planning session and copied as written
    NONE = "none"  # mlsql's own statement: run by mlsql, no Flink SQL form


Run = Callable[[Any, Statement, Any, bool], Any]  # (session, statement, node, collect)


@dataclass(frozen=True)
class Handler:
    run: Run
    export: Export


_HANDLERS: dict[type, Handler] = {}
_NOT_HANDLERS = frozenset({"dispatch", "host", "script"})


def handles(*kinds: type, export: Export = Export.NONE) -> Callable[[Run], Run]:
    """Register the decorated function as the handler of these IR node types."""
    def register(run: Run) -> Run:
        for kind in kinds:
            if kind in _HANDLERS:
                raise RuntimeError(f"{kind.__name__} has two handlers: "
                                   f"{_HANDLERS[kind].run.__module__} and {run.__module__}")
            _HANDLERS[kind] = Handler(run, export)
        return run
    return register


@cache
def handlers() -> dict[type, Handler]:
    """Every handler, after importing each handler module of this package."""
    plugin_modules(__package__, _NOT_HANDLERS)  # each registers its handlers with @handles
    return dict(_HANDLERS)


def handler_for(parsed: ir.MlsqlStatement) -> Handler:
    handler = handlers().get(type(parsed))
    if handler is None:
        raise MlsqlError(f"no handler for {type(parsed).__name__} statements")
    return handler

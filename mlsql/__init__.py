"""mlsql: SQL-first declarative machine learning on Apache Flink.

The public names load on first use (PEP 562), so that `mlsql --help` and the modules that
need neither PyFlink nor scikit-learn do not pay for importing them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from mlsql.errors import MlsqlError as MlsqlError
from mlsql.version import __version__ as __version__

if TYPE_CHECKING:
    from mlsql.session import JobHandle as JobHandle
    from mlsql.session import Session as Session
    from mlsql.table_api.functions import *  # noqa: F403

_FROM_SESSION = ("JobHandle", "Session")
_FUNCTIONS = "mlsql.table_api.functions"


def load_ipython_extension(ipython: object) -> None:
    """`%load_ext mlsql`: the %%mlsql / %mlsql magics (mlsql.notebook), IPython imported
    only here."""
    from mlsql.notebook import load_ipython_extension as load

    load(ipython)


def _public_names() -> list[str]:
    functions: list[str] = importlib.import_module(_FUNCTIONS).__all__
    return ["JobHandle", "MlsqlError", "Session", "__version__", "load_ipython_extension",
            *functions]


def __getattr__(name: str) -> Any:
    if name == "__all__":
        return _public_names()
    if name in _FROM_SESSION:
        value = getattr(importlib.import_module("mlsql.session"), name)
    else:
        functions = importlib.import_module(_FUNCTIONS)
        if name not in functions.__all__:
            raise AttributeError(f"module 'mlsql' has no attribute {name!r}")
        value = getattr(functions, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_public_names()))

"""mlsql: SQL-first declarative machine learning on Apache Flink."""

from mlsql.errors import MlsqlError
from mlsql.session import JobHandle, Session
from mlsql.table_api import functions as _functions
from mlsql.table_api.functions import *  # noqa: F403 (the ml_* functions, its __all__)
from mlsql.version import __version__


def load_ipython_extension(ipython: object) -> None:
    """`%load_ext mlsql`: the %%mlsql / %mlsql magics (mlsql.notebook), IPython imported
    only here."""
    from mlsql.notebook import load_ipython_extension as load

    load(ipython)


__all__ = ["JobHandle", "MlsqlError", "Session", "__version__", "load_ipython_extension",
           *_functions.__all__]

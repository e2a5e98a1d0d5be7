"""mlsql: SQL-first declarative machine learning on Apache Flink."""

__version__ = "0.1.0"

from mlsql.errors import MlsqlError
from mlsql.session import JobHandle, Session


def load_ipython_extension(ipython: object) -> None:
    """`%load_ext mlsql`: the %%mlsql / %mlsql magics (mlsql.notebook), IPython imported
    only here."""
    from mlsql.notebook import load_ipython_extension as load

    load(ipython)


__all__ = ["JobHandle", "MlsqlError", "Session", "__version__", "load_ipython_extension"]

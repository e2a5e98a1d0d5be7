"""mlsql: SQL-first declarative machine learning on Apache Flink."""

__version__ = "0.1.0"

from mlsql.errors import MlsqlError
from mlsql.session import JobHandle, Session

__all__ = ["JobHandle", "MlsqlError", "Session", "__version__"]

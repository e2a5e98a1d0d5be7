"""ML on PyFlink Tables: the model functions of the SQL surface as functions of a `Table`
that return a lazy `Table`, planned by the same code as the SQL form (same checks, same
errors, same compiled or UDF paths), and training from a Table."""

from mlsql.table_api import functions
from mlsql.table_api.functions import *  # noqa: F403 (its __all__: the ml_* functions)
from mlsql.table_api.training import create_model

__all__ = ["create_model", *functions.__all__]

"""Whether a query reads only bounded sources: the plan-time analysis functions extract a
table's rows, which never ends on a stream."""

from __future__ import annotations

from pyflink.java_gateway import get_gateway

from mlsql.errors import SchemaError, Site
from mlsql.runtime.environment import FlinkRuntime

_SOURCES = ("SourceTransformation", "LegacySourceTransformation")


def is_bounded(runtime: FlinkRuntime, query_sql: str) -> bool:
    """True when every source of the query is bounded. Batch mode accepts only bounded
    sources (Flink checks); in streaming mode the query is translated, not run, and its
    source transformations asked."""
    if runtime.is_batch:
        return True
    j_env = runtime.t_env._j_tenv
    operation = runtime.sql_query(query_sql)._j_table.getQueryOperation()
    jvm = get_gateway().jvm
    modify = jvm.java.util.ArrayList()
    modify.add(jvm.org.apache.flink.table.operations.CollectModifyOperation(operation))
    for transformation in j_env.getPlanner().translate(modify):
        for node in transformation.getTransitivePredecessors():
            if (node.getClass().getSimpleName() in _SOURCES
                    and str(node.getBoundedness()) != "BOUNDED"):
                return False
    return True


def require_bounded(runtime: FlinkRuntime, table_sql: str, query_sql: str, where: Site) -> None:
    """SchemaError unless `query_sql` (which reads `table_sql`) is bounded."""
    if not is_bounded(runtime, query_sql):
        raise SchemaError(f"{table_sql} is unbounded (a stream); it needs a bounded table, "
                          "e.g. a Kafka table with 'scan.bounded.mode' or a filesystem table",
                          at=where)

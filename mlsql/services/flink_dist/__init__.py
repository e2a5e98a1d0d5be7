"""PyPI's PyFlink as a Flink distribution: its own `bin/` scripts (SQL client, standalone
cluster) run with configuration, log and `opt/` directories that mlsql keeps in its cache.

PyFlink's package directory is a FLINK_HOME (bin/, lib/, opt/, conf/), but it lacks the
`flink-sql-gateway` jar the SQL client needs, and writing into site-packages would change
every other user of that environment. Flink's scripts read FLINK_CONF_DIR, FLINK_OPT_DIR and
FLINK_LOG_DIR from the environment, so mlsql points them at its cache instead.
"""

from mlsql.services.flink_dist.home import FlinkDist, flink_version, pyflink_home

__all__ = ["FlinkDist", "flink_version", "pyflink_home"]

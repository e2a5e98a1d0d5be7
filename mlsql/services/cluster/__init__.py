"""mlsql on a Flink standalone cluster: a local one started from PyFlink's own scripts
(`mlsql cluster start|stop|status`), and the REST checks `Session(jobmanager=...)` makes
before it submits anything there."""

from mlsql.services.cluster.rest import Address, check_jobmanager, parse_address

__all__ = ["Address", "check_jobmanager", "parse_address"]

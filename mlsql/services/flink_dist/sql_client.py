"""`mlsql sql-client ARGS...`: PyFlink's own bin/sql-client.sh, with the jar it lacks.

PyPI's PyFlink ships the SQL client but not the flink-sql-gateway jar it loads classes from
(without it: NoClassDefFoundError .../DefaultContext). It is resolved from Maven Central on
first use and linked into mlsql's opt/ for the script; the script itself runs unchanged.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence

from mlsql.services.flink_dist.home import FlinkDist
from mlsql.services.jars.resolve import resolve

# Embedded mode (`sql-client.sh` without `gateway`) submits to a cluster at rest.address:
# the local one `mlsql cluster start` runs, unless -D or SET says otherwise.
CLIENT_SETTINGS = {"rest.address": "127.0.0.1", "rest.port": 8081}


def sql_client_dist(progress=None) -> FlinkDist:
    return FlinkDist("sql-client", CLIENT_SETTINGS,
                     extra_opt_jars=resolve("sql-gateway", progress))


def sql_client_command(args: Sequence[str], progress=None) -> tuple[list[str], dict[str, str]]:
    dist = sql_client_dist(progress)
    return ["bash", str(dist.script("sql-client.sh")), *args], dist.env()


def run_sql_client(args: Sequence[str], progress=None) -> int:
    command, env = sql_client_command(args, progress)
    if os.name == "posix":
        os.execvpe(command[0], command, env)  # the client owns the terminal from here
    return subprocess.call(command, env=env)

"""The fraud model in Flink's own ML_PREDICT: no mlsql process, no Python in the job.

1. generate the fraud example's data (data/) and train its models (`mlsql run train.sql`),
2. `mlsql compile score.sql --predict flink`: job.sql declares the trained version as a Flink
   model served by mlsql's model provider (`CREATE TEMPORARY MODEL fraud_model ... WITH
   ('provider' = 'mlsql', 'path' = ...)`, `ADD JAR` of mlsql's JVM jar) and scores it with
   Flink's built-in `ML_PREDICT(TABLE tx_stream, MODEL ..., DESCRIPTOR(...))`,
3. PyFlink's own bin/sql-client.sh runs job.sql (embedded, on an in-process mini-cluster)
   and prints the alerts (lines starting `ALERT>`).

    python examples/fraud/flink_client.py [--registry DIR] [--history N] [--live N]
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402

from mlsql.cli.main import main as mlsql_main  # noqa: E402
from mlsql.services.flink_dist.sql_client import sql_client_command  # noqa: E402

# The client runs a script's INSERT asynchronously and exits when the script ends, which
# would stop its in-process mini-cluster: wait for the job instead.
CLIENT_OPTIONS = ["-Dexecution.target=local", "-Dtable.dml-sync=true"]
COLOUR = re.compile(r"\x1b\[[0-9;]*m")
ALERT = re.compile(r"(?<=[^\n])(ALERT(?::\d+)?> )")  # an alert not at a line's start


def run(registry: str | None, history: int, live: int) -> int:
    os.chdir(HERE)  # the scripts name their data as data/<file>.csv
    generate.write(HERE / "data", history, live)
    registry_args = ["--registry", generate.example_registry("flink_client", registry)]
    if mlsql_main(["run", "train.sql", *registry_args]) != 0:
        return 1
    job_dir = HERE / "build" / "flink_job"
    if mlsql_main(["compile", "score.sql", "-o", str(job_dir), "--predict", "flink",
                   *registry_args]) != 0:
        return 1
    print((job_dir / "job.sql").read_text(), file=sys.stderr)
    command, env = sql_client_command([*CLIENT_OPTIONS, "-f", str(job_dir / "job.sql")])
    started = time.monotonic()
    client = subprocess.run(command, env=env, cwd=HERE, capture_output=True, text=True)
    # The print sink writes to the client's own stdout, so the first alert can follow the
    # echoed SQL on its line: give each alert its own line.
    output = ALERT.sub(r"\n\1", client.stdout)
    if not sys.stdout.isatty():  # the client colours its messages even into a pipe
        output = COLOUR.sub("", output)
    sys.stdout.write(output)
    sys.stderr.write(client.stderr)
    if client.returncode != 0 or "[ERROR]" in client.stdout:
        return 1
    alerts = sum(line.startswith("ALERT") for line in output.splitlines())
    print(f"Flink's SQL client scored {live:,} live transactions with mlsql's model provider "
          f"in {time.monotonic() - started:.1f} s, client start included: {alerts} alerts",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    args = generate.example_arguments(__doc__)
    sys.exit(run(args.registry, args.history, args.live))

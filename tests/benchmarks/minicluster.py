"""What one shared mini-cluster per process saves (mlsql.runtime.minicluster) against Flink's local
executor, which starts a mini-cluster for every job (MLSQL_LOCAL_CLUSTER=per-job).

    python tests/benchmarks/minicluster.py [--repeats 3] [--statements 10]

A child script per run, the two modes alternating, medians of --repeats: a batch Session
trains a logistic regression on 2,000 rows, then runs --statements one-row queries and
--statements ML_PREDICT calls by the pandas UDF. Printed: the median seconds per query and
per UDF call (timed in the script), the script's wall time and the CPU time of the whole
machine while it ran (run it on an otherwise idle machine).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from common import busy_cpu_seconds, load, summary

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.helpers import subprocess_env  # noqa: E402

SCRIPT = """
import json, pathlib, statistics, sys, tempfile, time
import mlsql
from tests.helpers import MIXED_TYPES, create_csv_table, mixed_rows
statements = int(sys.argv[1])
root = pathlib.Path(tempfile.mkdtemp())
session = mlsql.Session(registry=root / "registry", mode="batch")
create_csv_table(session, "train", mixed_rows(1, 2000), root, types=MIXED_TYPES)
session.sql("CREATE MODEL lr WITH ('model_type' = 'logistic_reg', 'label' = 'y') "
            "AS SELECT a, b, c, flag, y FROM train")
def each(sql, check):
    seconds = []
    for _ in range(statements):
        started = time.perf_counter()
        check(session.sql(sql))
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds)
query = each("SELECT COUNT(*) AS n FROM train", lambda df: df["n"][0] == 2000)
udf = each("SELECT * FROM ML_PREDICT(TABLE train, MODEL lr, DESCRIPTOR(a, b, c, flag), "
           "MAP['execution', 'udf'])", lambda df: len(df) == 2000)
print(json.dumps({"query": query, "udf": udf}))
"""


def run_once(mode: str, statements: int) -> dict[str, float]:
    env = subprocess_env(PYTHONPATH=str(REPO), MLSQL_LOCAL_CLUSTER=mode)
    cpu, started = busy_cpu_seconds(), time.perf_counter()
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(statements)], env=env,
                          check=True, cwd=REPO, capture_output=True, text=True)
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    return figures | {"wall": time.perf_counter() - started, "cpu": busy_cpu_seconds() - cpu}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--statements", type=int, default=10)
    args = parser.parse_args()
    runs: dict[str, list[dict[str, float]]] = {"per-job": [], "shared": []}
    for _ in range(args.repeats):
        for mode, results in runs.items():
            results.append(run_once(mode, args.statements))
    for mode, results in runs.items():
        print(summary(f"{mode} mini-cluster", **{
            f"{key}_s": statistics.median(r[key] for r in results)
            for key in ("query", "udf", "wall", "cpu")}))
    pairs = list(zip(runs["shared"], runs["per-job"], strict=True))
    print(summary("ratio shared/per-job", **{
        key: statistics.median(s[key] / p[key] for s, p in pairs)
        for key in ("query", "udf", "wall", "cpu")}), f"({load()})")


if __name__ == "__main__":
    main()

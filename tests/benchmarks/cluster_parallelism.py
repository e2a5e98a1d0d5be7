"""Pandas-UDF scoring on a Flink standalone cluster at parallelism 1 and 2, side by side.

    python tests/benchmarks/cluster_parallelism.py [--rows 2000000] [--repeats 3]
        [--jobmanager HOST:PORT] [--path udf|sql]

Without --jobmanager it starts mlsql's local cluster (`mlsql cluster start`, one TaskManager
with 2 slots, on 8081 or a free port) and stops it at the end. datagen -> ML_PREDICT of a
logistic regression (through the pandas UDF unless --path sql) -> blackhole, batch mode; the
same job at each parallelism, interleaved, --repeats times. Prints rows/s (medians) for each
parallelism and the ratio.
"""

from __future__ import annotations

import argparse
import sys
import tempfile

from common import datagen_table, free_port, load, median_rate, summary, timed

import mlsql
from mlsql.services.cluster import check_jobmanager, parse_address

FEATURES = 8
PARALLELISMS = (1, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--jobmanager", metavar="HOST:PORT",
                        help="an already running cluster (default: start a local one)")
    parser.add_argument("--path", choices=("udf", "sql"), default="udf")
    args = parser.parse_args()

    cluster = None
    jobmanager = args.jobmanager
    if jobmanager is None:
        from mlsql.services.cluster.local import LocalCluster

        cluster = LocalCluster()
        status, started = cluster.start(free_port(8081), slots=max(PARALLELISMS),
                                        progress=lambda line: print(line, file=sys.stderr))
        jobmanager = str(status.address)
        if not started:
            cluster = None  # someone else's: leave it running
    try:
        print(measure(jobmanager, args.rows, args.repeats, args.path))
    finally:
        if cluster is not None:
            cluster.stop()


def measure(jobmanager: str, rows: int, repeats: int, path: str) -> str:
    session = mlsql.Session(registry=tempfile.mkdtemp(prefix="mlsql-bench-"), mode="batch",
                            jobmanager=jobmanager)
    overview = check_jobmanager(parse_address(jobmanager))
    if overview.slots_total < max(PARALLELISMS):
        raise SystemExit(f"the cluster has {overview.slots_total} slot(s); parallelism "
                         f"{max(PARALLELISMS)} needs {max(PARALLELISMS)}")
    datagen_table(session, "train", 200_000, FEATURES)
    datagen_table(session, "source", rows, FEATURES, label=False)
    features = ", ".join(f"f{i}" for i in range(FEATURES))
    columns = ", ".join(f"f{i} DOUBLE" for i in range(FEATURES))
    session.sql(f"CREATE TABLE scored_sink ({columns}, p DOUBLE) WITH ('connector' = 'blackhole')")
    session.sql(f"CREATE MODEL m WITH ('model_type' = 'logistic_reg', 'label' = 'label') "
                f"AS SELECT {features}, label FROM train")
    job = (f"INSERT INTO scored_sink SELECT {features}, probability FROM ML_PREDICT("
           f"TABLE source, MODEL m, MAP['execution', '{path}'])")

    seconds: dict[int, list[float]] = {p: [] for p in PARALLELISMS}
    for _ in range(repeats):  # interleaved, so drift hits every parallelism alike
        for parallelism in PARALLELISMS:
            session.sql(f"SET 'parallelism.default' = '{parallelism}'")
            seconds[parallelism].append(timed(lambda: session.sql(job)))

    rates = {p: median_rate(rows, s) for p, s in seconds.items()}
    label = "pandas UDF" if path == "udf" else "compiled SQL"
    print(f"{overview.taskmanagers} TaskManager(s), {overview.slots_total} slots; {rows:,} rows, "
          f"{label}, medians of {repeats}; {load()}")
    for parallelism, rate in rates.items():
        print(f"parallelism {parallelism}: {rate:>12,.0f} rows/s  "
              f"({', '.join(f'{s:.1f}' for s in seconds[parallelism])} s)")
    ratio = rates[2] / rates[1]
    print(f"ratio 2/1: {ratio:.2f}")
    return summary("cluster_parallelism", rows=rows, path=path,
                   p1_rows_per_s=rates[1], p2_rows_per_s=rates[2], ratio=ratio)


if __name__ == "__main__":
    main()

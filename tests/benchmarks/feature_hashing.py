"""ML_FEATURE_HASHING's dense form as SQL (one CASE sum per bucket over every input, how it
was written up to 256 (bucket, input) pairs and still is below) against the pandas UDF (above),
side by side in one run: the wall time of one query over a few rows, planning included.

    python tests/benchmarks/feature_hashing.py [--features 20 100 300] [--rows 2]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pandas as pd

import mlsql
from mlsql.feature_functions import hashing


def run(session, features: int, as_sql: bool) -> float:
    hashing.MAX_SQL_TERMS = 10**9 if as_sql else 0
    started = time.perf_counter()
    frame = session.sql(f"SELECT ML_FEATURE_HASHING(ARRAY[a, b], {features}) AS h FROM t")
    assert len(frame) > 0 and len(frame["h"].iloc[0]) == features
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--features", type=int, nargs="+", default=[20, 100, 300])
    parser.add_argument("--rows", type=int, default=2)
    args = parser.parse_args()
    directory = Path(tempfile.mkdtemp(prefix="mlsql-bench-"))
    session = mlsql.Session(registry=directory / "registry", mode="batch")
    session.table_env.create_temporary_view("t", session.table_env.from_pandas(pd.DataFrame(
        {"a": [f"merchant{i}" for i in range(args.rows)],
         "b": [f"city{i % 7}" for i in range(args.rows)]})))
    run(session, 4, as_sql=True)  # a warm-up job for each path, unmeasured
    run(session, 4, as_sql=False)
    print(f"{'features':>8} {'SQL s':>8} {'UDF s':>8} {'SQL/UDF':>8}")
    for features in args.features:
        sql_seconds = run(session, features, as_sql=True)
        udf_seconds = run(session, features, as_sql=False)
        print(f"{features:>8} {sql_seconds:>8.1f} {udf_seconds:>8.1f} "
              f"{sql_seconds / udf_seconds:>8.1f}")


if __name__ == "__main__":
    main()

"""Distributed logistic_reg with its Newton sums as one JVM aggregate against one SQL SUM each.

    python tests/benchmarks/distributed_sums.py [--features 30] [--rounds 1] [--rows N]

The breast-cancer data (569 rows) with its first N features, where planning dominates; or,
with --rows, N rows x 8 features of a repeatable hashed sequence (common.repeatable_table),
where the per-row work does. The pass count is the same in both forms, so the figure is the
cost of a pass. Both forms train in one session, alternating;
the SQL form is what runs where no JDK can build the aggregate (mlsql/training/distributed/
moments.py).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from common import repeatable_table, summary
from sklearn import datasets


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--features", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--rows", type=int, default=0)
    args = parser.parse_args()

    import mlsql
    from mlsql.training.distributed import moments

    directory = Path(tempfile.mkdtemp(prefix="mlsql-bench-"))
    passes = []
    session = mlsql.Session(registry=directory / "registry", mode="batch",
                            progress=lambda line: passes.append(line) if "Newton" in line else None)
    if args.rows:
        args.features = 8
        repeatable_table(session, "hashed", args.rows, args.features)
        session.sql("CREATE VIEW rows_table AS SELECT "
                    + ", ".join(f"f{i}" for i in range(args.features))
                    + ", label AS target FROM hashed")
    else:
        frame = datasets.load_breast_cancer(as_frame=True).frame
        frame = frame.iloc[:, [*range(args.features), -1]]
        frame.columns = [f"f{i}" for i in range(args.features)] + ["target"]
        frame.to_csv(directory / "rows.csv", index=False, header=False)
        schema = ", ".join(f"f{i} DOUBLE" for i in range(args.features))
        session.sql(f"CREATE TABLE rows_table ({schema}, target INT) WITH ('connector' = "
                    f"'filesystem', 'path' = '{directory / 'rows.csv'}', 'format' = 'csv')")
    session.sql("SELECT COUNT(*) FROM (VALUES (1)) AS t(x)")  # the cluster is up

    on_jvm = moments.jvm_available
    seconds: dict[str, list[float]] = {"jvm": [], "sql": []}
    pass_counts: dict[str, int] = {}
    for round_number in range(args.rounds):
        for form in ("jvm", "sql"):
            moments.jvm_available = on_jvm if form == "jvm" else (lambda runtime: False)
            passes.clear()
            started = time.perf_counter()
            session.sql(f"CREATE OR REPLACE MODEL m_{form} WITH ('model_type' = "
                        "'logistic_reg', 'label' = 'target', 'eval_fraction' = '0', "
                        "'training_mode' = 'distributed') AS SELECT * FROM rows_table")
            seconds[form].append(time.perf_counter() - started)
            pass_counts[form] = len(passes)
            print(f"round {round_number + 1} {form}: {seconds[form][-1]:.1f} s, "
                  f"{len(passes)} Newton passes", file=sys.stderr, flush=True)
    parameters = args.features + 1
    jvm, sql = min(seconds["jvm"]), min(seconds["sql"])
    print(summary("distributed_sums", rows=args.rows or 569, features=args.features,
                  hessian_sums=parameters * (parameters + 1) // 2,
                  passes=pass_counts["jvm"], jvm_s=f"{jvm:.1f}", sql_s=f"{sql:.1f}",
                  jvm_s_per_pass=f"{jvm / pass_counts['jvm']:.2f}",
                  sql_s_per_pass=f"{sql / pass_counts['sql']:.2f}",
                  jvm_to_sql=f"{jvm / sql:.3f}"))


if __name__ == "__main__":
    main()

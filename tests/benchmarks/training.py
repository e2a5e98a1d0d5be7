"""Training cost: bulk extraction against a blackhole, CREATE MODEL against a direct fit.

    python tests/benchmarks/training.py [--rows 1000000] [--repeats 3]

The rows (8 DOUBLE features and an INT label) are written once to a CSV file that Flink reads
as a filesystem table. Side by side in one run (medians of --repeats):
- the query into a blackhole sink (what Flink alone costs),
- the same rows extracted by mlsql (rows/s leaving Flink),
- CREATE MODEL logistic_reg on the table, against scikit-learn fitted directly on the same
  rows: loaded from the same file with pandas and fitted, and fitted on rows already in memory
  (the mlsql figure includes Flink, extraction, encoding and evaluation).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from common import median_rate, summary, timed, timed_value
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import mlsql
from mlsql.runtime.flink_types import table_columns
from mlsql.training.extract import extract

FEATURES = 8
NAMES = [f"f{i}" for i in range(FEATURES)] + ["label"]


def write_rows(path: Path, rows: int) -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.random((rows, FEATURES)), columns=NAMES[:-1])
    noise = rng.normal(scale=0.2, size=rows)
    frame["label"] = (frame["f0"] + frame["f1"] - frame["f2"] + noise > 0.5).astype(np.int32)
    frame.to_csv(path, index=False, header=False)


def load_and_fit(path: Path) -> None:
    frame = pd.read_csv(path, header=None, names=NAMES)
    fit(frame)


def fit(frame: pd.DataFrame) -> None:
    x = StandardScaler().fit_transform(frame[NAMES[:-1]].to_numpy(dtype=np.float64))
    LogisticRegression(max_iter=200).fit(x, frame["label"].to_numpy())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    directory = Path(tempfile.mkdtemp(prefix="mlsql-bench-"))
    path = directory / "rows.csv"
    write_rows(path, args.rows)
    session = mlsql.Session(registry=directory / "registry", mode="batch",
                            options={"parallelism.default": "1"})
    schema = ", ".join(f"f{i} DOUBLE" for i in range(FEATURES)) + ", label INT"
    session.sql(f"CREATE TABLE rows_table ({schema}) WITH ('connector' = 'filesystem', "
                f"'path' = '{path}', 'format' = 'csv')")
    session.sql(f"CREATE TABLE sink ({schema}) WITH ('connector' = 'blackhole')")
    select = "SELECT * FROM rows_table"
    columns = table_columns(session.runtime.sql_query(select))
    expressions = [f"`{c.name}`" for c in columns]

    blackhole, extraction, create, direct, in_memory = [], [], [], [], []
    for repeat in range(args.repeats):
        blackhole.append(timed(lambda: session.sql(f"INSERT INTO sink {select}")))
        seconds, frame = timed_value(lambda: extract(
            session.runtime, select, columns, expressions, lambda _: None))
        extraction.append(seconds)
        create.append(timed(lambda repeat=repeat: session.sql(
            f"CREATE MODEL m{repeat} WITH ('model_type' = 'logistic_reg', 'label' = 'label', "
            f"'eval_fraction' = '0', 'training_mode' = 'single') AS {select}")))
        direct.append(timed(lambda: load_and_fit(path)))
        in_memory.append(timed(lambda frame=frame: fit(frame)))

    rates = {name: median_rate(args.rows, seconds) for name, seconds in
             {"blackhole": blackhole, "extract": extraction}.items()}
    create_s, direct_s = float(np.median(create)), float(np.median(direct))
    memory_s = float(np.median(in_memory))
    print(f"query -> blackhole:      {rates['blackhole']:>12,.0f} rows/s")
    print(f"query -> mlsql extract:  {rates['extract']:>12,.0f} rows/s  ratio "
          f"{rates['extract'] / rates['blackhole']:.2f}")
    print(f"CREATE MODEL logistic_reg: {create_s:.1f} s; pandas.read_csv + scikit-learn: "
          f"{direct_s:.1f} s (ratio {create_s / direct_s:.1f}); scikit-learn on rows in "
          f"memory: {memory_s:.1f} s (ratio {create_s / memory_s:.1f})")
    print(summary("training", rows=args.rows, blackhole_rows_per_s=rates["blackhole"],
                  extract_rows_per_s=rates["extract"],
                  extract_ratio=rates["extract"] / rates["blackhole"],
                  create_model_s=create_s, direct_fit_with_loading_s=direct_s,
                  direct_fit_in_memory_s=memory_s,
                  create_to_direct_ratio=create_s / direct_s))


if __name__ == "__main__":
    main()

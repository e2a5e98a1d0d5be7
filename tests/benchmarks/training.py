"""Training cost: bulk extraction against a blackhole, CREATE MODEL against a direct fit.

    python tests/benchmarks/training.py [--rows 1000000] [--repeats 3]

Side by side in one run (medians of --repeats):
- the query into a blackhole sink (what Flink alone costs),
- the same rows extracted by mlsql's Arrow path (rows/s leaving Flink),
- CREATE MODEL logistic_reg on the table, against scikit-learn fitted directly on the same
  rows already in memory (the mlsql figure includes Flink, extraction and evaluation).
"""

from __future__ import annotations

import argparse
import tempfile

import numpy as np
from common import datagen_table, median_rate, summary, timed, timed_value
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import mlsql
from mlsql.flink_types import table_columns
from mlsql.training.extract import extract

FEATURES = 8


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    session = mlsql.Session(registry=tempfile.mkdtemp(prefix="mlsql-bench-"), mode="batch",
                            options={"parallelism.default": "1"})
    datagen_table(session, "rows_table", args.rows, FEATURES)
    select = "SELECT * FROM rows_table"
    session.sql("CREATE TABLE sink (" + ", ".join(f"f{i} DOUBLE" for i in range(FEATURES))
                + ", label INT) WITH ('connector' = 'blackhole')")
    columns = table_columns(session.runtime.sql_query(select))
    expressions = [f"`{c.name}`" for c in columns]

    blackhole, extraction, create, direct = [], [], [], []
    for repeat in range(args.repeats):
        blackhole.append(timed(lambda: session.sql(f"INSERT INTO sink {select}")))
        seconds, frame = timed_value(lambda: extract(
            session.runtime, select, columns, expressions, lambda _: None))
        extraction.append(seconds)
        create.append(timed(lambda repeat=repeat: session.sql(
            f"CREATE MODEL m{repeat} WITH ('model_type' = 'logistic_reg', 'label' = 'label', "
            f"'eval_fraction' = '0') AS {select}")))
        x = frame[[f"f{i}" for i in range(FEATURES)]].to_numpy(dtype=np.float64)
        y = frame["label"].to_numpy()
        direct.append(timed(lambda x=x, y=y: LogisticRegression(max_iter=200).fit(
            StandardScaler().fit_transform(x), y)))

    rates = {name: median_rate(args.rows, seconds) for name, seconds in
             {"blackhole": blackhole, "extract": extraction}.items()}
    create_s, direct_s = float(np.median(create)), float(np.median(direct))
    print(f"query -> blackhole:      {rates['blackhole']:>12,.0f} rows/s")
    print(f"query -> mlsql extract:  {rates['extract']:>12,.0f} rows/s  ratio "
          f"{rates['extract'] / rates['blackhole']:.2f}")
    print(f"CREATE MODEL logistic_reg: {create_s:.1f} s; scikit-learn fit on rows in memory: "
          f"{direct_s:.1f} s; ratio {create_s / direct_s:.1f}")
    print(summary("training", rows=args.rows, blackhole_rows_per_s=rates["blackhole"],
                  extract_rows_per_s=rates["extract"],
                  extract_ratio=rates["extract"] / rates["blackhole"],
                  create_model_s=create_s, direct_fit_s=direct_s,
                  create_to_direct_ratio=create_s / direct_s))


if __name__ == "__main__":
    main()

"""The Table API against the SQL form of the same work, side by side in one run.

    python tests/benchmarks/table_api.py [--rows 1000000] [--train-rows 50000] [--repeats 3]

- fitting: `Pipeline([StandardScaler x 8, LogisticRegression]).fit(table)` against the
  equivalent `CREATE MODEL ... TRANSFORM (ML_STANDARD_SCALER(f0) OVER () AS f0, ...)` on
  --train-rows rows from a CSV file (the same statistics job, extraction and fit);
- planning: making the lazy Table `mlsql.ml_predict(table, "m")` against planning the SQL
  query's text (`Session.plan`) and `sql_query` on it, 20 times each;
- scoring: `ml_predict(table, "m$1").execute_insert("sink")` against `INSERT INTO sink
  SELECT * FROM ML_PREDICT(TABLE t, MODEL m$1)`, --rows datagen rows into a blackhole,
  compiled SQL both, alternating, --repeats times each.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from common import datagen_table, summary, timed

import mlsql
from mlsql.frontend.parser import parse_one
from mlsql.pipeline import LogisticRegression, Pipeline, StandardScaler

FEATURES = [f"f{i}" for i in range(8)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--train-rows", type=int, default=50_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    directory = Path(tempfile.mkdtemp(prefix="mlsql-bench-"))
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.random((args.train_rows, len(FEATURES))), columns=FEATURES)
    frame["label"] = (frame["f0"] + frame["f1"] > 1.0).astype(int)
    frame.to_csv(directory / "train.csv", index=False, header=False)
    session = mlsql.Session(registry=directory / "registry", mode="batch")
    columns = ", ".join(f"{c} DOUBLE" for c in FEATURES)
    session.sql(f"CREATE TABLE train_rows ({columns}, label INT) WITH ('connector' = "
                f"'filesystem', 'path' = '{directory / 'train.csv'}', 'format' = 'csv')")
    datagen_table(session, "score_rows", args.rows, len(FEATURES), label=False)
    session.sql(f"CREATE TABLE sink ({columns}, predicted_label INT, probability DOUBLE) "
                "WITH ('connector' = 'blackhole')")
    t_env = session.table_env
    items = ", ".join(f"ML_STANDARD_SCALER({c}) OVER () AS {c}" for c in FEATURES)
    statement = (f"CREATE MODEL m TRANSFORM ({items}, label) WITH ('model_type' = "
                 "'logistic_reg', 'label' = 'label') AS SELECT * FROM train_rows")
    pipeline = Pipeline([StandardScaler(columns=FEATURES), LogisticRegression(label="label")])

    def fit_pipeline() -> None:
        pipeline.fit(t_env.from_path("train_rows"), name="m")

    fit_pipeline()  # untimed: JVM, classes and caches warm, version 1 exists for scoring
    fits: dict[str, list[float]] = {"pipeline": [], "sql": []}
    for _ in range(args.repeats):
        fits["pipeline"].append(timed(fit_pipeline))
        fits["sql"].append(timed(lambda: session.sql(statement)))

    query = "SELECT * FROM ML_PREDICT(TABLE score_rows, MODEL `m$1`, MAP['execution', 'sql'])"
    plans: dict[str, list[float]] = {"table": [], "sql": []}
    for _ in range(20):
        plans["table"].append(timed(lambda: mlsql.ml_predict(
            t_env.from_path("score_rows"), "m$1", execution="sql")))
        plans["sql"].append(timed(lambda: session.runtime.sql_query(
            session.plan(parse_one(query)))))

    scores: dict[str, list[float]] = {"table": [], "sql": []}
    for _ in range(args.repeats):
        scores["table"].append(timed(lambda: mlsql.ml_predict(
            t_env.from_path("score_rows"), "m$1", execution="sql")
            .execute_insert("sink").wait()))
        scores["sql"].append(timed(lambda: session.sql(f"INSERT INTO sink {query}")))

    med = {k: statistics.median(v) for k, v in fits.items()}
    print(f"fit, {args.train_rows:,} rows: Pipeline.fit {med['pipeline']:.2f} s, CREATE MODEL "
          f"... TRANSFORM {med['sql']:.2f} s (ratio {med['pipeline'] / med['sql']:.2f})")
    plan = {k: statistics.median(v) * 1000 for k, v in plans.items()}
    print(f"planning: ml_predict(table) {plan['table']:.1f} ms, the SQL text "
          f"{plan['sql']:.1f} ms")
    rate = {k: args.rows / statistics.median(v) for k, v in scores.items()}
    print(f"scoring, {args.rows:,} rows: Table API {rate['table']:,.0f} rows/s, SQL "
          f"{rate['sql']:,.0f} rows/s (ratio {rate['table'] / rate['sql']:.2f})")
    print(summary("table_api", fit_ratio=med["pipeline"] / med["sql"],
                  plan_ms_table=plan["table"], plan_ms_sql=plan["sql"],
                  score_ratio=rate["table"] / rate["sql"]))


if __name__ == "__main__":
    main()

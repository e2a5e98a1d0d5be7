"""Training cost: bulk extraction against a blackhole, CREATE MODEL against a direct fit, and
fitting a TRANSFORM against a COUNT(*) over the same rows.

    python tests/benchmarks/training.py [--rows 1000000] [--repeats 3]
        [--transform-rows 200000] [--transform-only]

The rows (8 DOUBLE features and an INT label) are written once to a CSV file that Flink reads
as a filesystem table. Side by side in one run (medians of --repeats):
- the query into a blackhole sink (what Flink alone costs),
- the same rows extracted by mlsql (rows/s leaving Flink),
- CREATE MODEL logistic_reg on the table, against scikit-learn fitted directly on the same
  rows: loaded from the same file with pandas and fitted, and fitted on rows already in memory
  (the mlsql figure includes Flink, extraction, encoding and evaluation).
- fitting the fraud example's TRANSFORM (examples/fraud/train.sql: ML_STANDARD_SCALER,
  ML_QUANTILE_BUCKETIZE(hour_of_day, 6), ML_ROBUST_SCALER, ML_ONE_HOT_ENCODER) on
  --transform-rows rows of a CSV file shaped like its history (a merchant category string,
  an hour 0..23, a distance and an amount), by mlsql.transform.fit.fit_transform directly,
  against `SELECT COUNT(*)` over the same query collected: issue 31's target is a fit within
  1.5 x the COUNT(*). The Flink jobs one fit ran are counted (the mini-cluster's REST API).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from common import median_rate, rest, summary, timed, timed_value
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import mlsql
from mlsql.feature_functions.calls import parse_expression
from mlsql.runtime import minicluster
from mlsql.runtime.flink_types import table_columns
from mlsql.syntax import ir
from mlsql.training.extract import extract
from mlsql.transform.fit import fit_transform

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


TRANSFORM_TARGET = 1.5  # issue 31: a TRANSFORM's fit within 1.5 x a COUNT(*) over its query
FRAUD_TRANSFORM = (("ML_STANDARD_SCALER(amount) OVER ()", "amount_z"),
                   ("ML_QUANTILE_BUCKETIZE(hour_of_day, 6) OVER ()", "hour_bucket"),
                   ("ML_ROBUST_SCALER(distance_from_home_km) OVER ()", "distance"),
                   ("ML_ONE_HOT_ENCODER(merchant_category) OVER ()", "merchant"),
                   ("is_fraud", "is_fraud"))
CATEGORIES = ["grocery", "restaurant", "fuel", "online", "travel", "electronics", "jewelry",
              "pharmacy"]


def write_history(path: Path, rows: int) -> None:
    """Rows shaped like the fraud example's history (its TRANSFORM's inputs and label)."""
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({
        "merchant_category": rng.choice(CATEGORIES, rows,
                                        p=[0.3, 0.2, 0.15, 0.15, 0.08, 0.06, 0.03, 0.03]),
        "amount": rng.gamma(2.0, 40.0, rows).round(2),
        "hour_of_day": rng.integers(0, 24, rows),
        "distance_from_home_km": rng.exponential(12.0, rows).round(3),
        "is_fraud": (rng.random(rows) < 0.02).astype(np.int32)})
    frame.to_csv(path, index=False, header=False)


def jobs_so_far() -> int | None:
    port = minicluster.started_port()
    if port is None:  # per-job mode: no mini-cluster to ask
        return None
    return len(rest("/jobs/overview")["jobs"])


def transform_fit(session: mlsql.Session, directory: Path, rows: int, repeats: int) -> dict:
    """Medians of COUNT(*) and of the TRANSFORM's fit over the same query, and their ratio."""
    path = directory / "history.csv"
    write_history(path, rows)
    session.sql(f"CREATE TABLE history (merchant_category STRING, amount DOUBLE, hour_of_day "
                f"INT, distance_from_home_km DOUBLE, is_fraud INT) WITH ('connector' = "
                f"'filesystem', 'path' = '{path}', 'format' = 'csv')")
    query = ("SELECT merchant_category, amount, hour_of_day, distance_from_home_km, is_fraud "
             "FROM history")
    start = ir.Position(1, 1)
    items = tuple(ir.TransformItem(expression, alias, start,
                                   parse_expression(expression, fitted_allowed=True))
                  for expression, alias in FRAUD_TRANSFORM)
    count_sql = f"SELECT COUNT(*) AS n FROM ({query})"
    # The first job of a run, and the first fit, pay the JVM's warm-up: not measured.
    session.sql(count_sql)
    fit_transform(items, query, start, session.context)
    counts, fits, jobs = [], [], []
    for _ in range(repeats):
        seconds, counted = timed_value(lambda: session.sql(count_sql))
        assert int(counted["n"].iloc[0]) == rows, counted
        counts.append(seconds)
        before = jobs_so_far()
        fits.append(timed(lambda: fit_transform(items, query, start, session.context)))
        after = jobs_so_far()
        if before is not None and after is not None:
            jobs.append(after - before)
    count_s, fit_s = float(np.median(counts)), float(np.median(fits))
    ratio = fit_s / count_s
    met = "met" if ratio <= TRANSFORM_TARGET else "NOT met"
    print(f"TRANSFORM fit ({len(FRAUD_TRANSFORM) - 1} fitted functions, {rows:,} rows): "
          f"SELECT COUNT(*) {count_s:.2f} s; fit_transform {fit_s:.2f} s "
          f"({max(jobs) if jobs else '?'} Flink job(s) per fit); ratio {ratio:.2f}, target "
          f"<= {TRANSFORM_TARGET}: {met}")
    return {"transform_rows": rows, "count_s": count_s, "transform_fit_s": fit_s,
            "transform_fit_ratio": ratio, "transform_fit_jobs": max(jobs) if jobs else -1,
            "transform_target": met.replace(" ", "_")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--transform-rows", type=int, default=200_000)
    parser.add_argument("--transform-only", action="store_true",
                        help="only the TRANSFORM's fit against COUNT(*)")
    args = parser.parse_args()

    directory = Path(tempfile.mkdtemp(prefix="mlsql-bench-"))
    session = mlsql.Session(registry=directory / "registry", mode="batch",
                            options={"parallelism.default": "1"})
    transform = transform_fit(session, directory, args.transform_rows, args.repeats)
    if args.transform_only:
        print(summary("training", **transform))
        return
    path = directory / "rows.csv"
    write_rows(path, args.rows)
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
                  create_to_direct_ratio=create_s / direct_s, **transform))


if __name__ == "__main__":
    main()

"""The JVM scorer's model step alone against LightGBM's own predict, one thread, rows in memory.

    python tests/benchmarks/tree_scoring.py [--rows 200000] [--repeats 5] [--trees 100]

Trains inference.py's model (boosted_tree_classifier, 100 trees of 31 leaves, on datagen rows
whose label is f0 + f1 > 1), then scores the same random rows, side by side in one run:
- bare LightGBM: `Booster.predict(x, num_threads=1)` (probabilities, rows already a numpy
  array),
- on the JVM (tests/benchmarks/jvm/TreeScoring.java against mlsql's scorer jar): the trees
  walked node by node (the scorer before the flat walk, still used for rows with NaN and for
  categorical splits), the flat branch-free walk (mlsql/jvm/src/io/mlsql/trees/FlatForest.java),
  and the whole model step that ML_PREDICT's MLSQL_SCORES runs per row (boxed inputs encoded,
  the trees, the sigmoid).
Checks the flat walk's raw scores equal LightGBM's `predict(raw_score=True)` bit for bit, and
prints each rate with its ratio to bare LightGBM against the issue's target (1.5 x).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
from common import datagen_table, summary

import mlsql
from mlsql.jvm.build import CLASSPATH_JARS, javac, scorer_jar
from mlsql.services.flink_dist.home import pyflink_home

FEATURES = 8
TARGET = 1.5
BENCH_SOURCE = Path(__file__).with_name("jvm") / "TreeScoring.java"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--trees", type=int, default=100)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="mlsql-tree-bench-"))
    session = mlsql.Session(registry=str(work / "registry"), mode="batch",
                            options={"parallelism.default": "1"})
    datagen_table(session, "train", 200_000, FEATURES)
    features = ", ".join(f"f{i}" for i in range(FEATURES))
    session.sql(f"CREATE MODEL trees WITH ('model_type' = 'boosted_tree_classifier', "
                f"'num_trees' = '{args.trees}', 'label' = 'label') "
                f"AS SELECT {features}, label FROM train")
    directory = session.registry.resolve("trees").path

    x = np.random.default_rng(0).random((args.rows, FEATURES))
    rows_file = work / "rows.bin"
    x.astype("<f8").tofile(rows_file)
    bare, raw = bare_lightgbm(directory / "model.txt", x, args.repeats)

    classpath = classpath_for(work)
    out = work / "flat.bin"
    result = subprocess.run(
        ["java", "-cp", classpath, "TreeScoring", str(directory), str(rows_file),
         str(FEATURES), str(args.repeats), str(out)],
        check=True, capture_output=True, text=True)
    seconds = dict(line.split() for line in result.stdout.splitlines())
    flat = np.fromfile(out, dtype="<f8")
    exact = int((flat == raw).sum())

    rates = {"bare_lightgbm": args.rows / bare}
    rates |= {name: args.rows / float(value) for name, value in seconds.items()}
    labels = {"bare_lightgbm": "bare LightGBM (its predict, 1 thread)",
              "node_walk": "JVM, node-by-node walk (raw)",
              "flat_walk": "JVM, flat walk (raw)",
              "model_step": "JVM, ML_PREDICT's model step"}
    for name, rate in rates.items():
        print(f"{labels[name] + ':':<40}{rate:>12,.0f} rows/s  "
              f"{rate / rates['bare_lightgbm']:.2f} x bare LightGBM")
    print(f"flat walk equal to LightGBM's raw scores: {exact:,} of {args.rows:,} rows")
    step = rates["model_step"] / rates["bare_lightgbm"]
    print(f"target: the model step at least {TARGET} x bare LightGBM: {step:.2f} x, "
          f"{'met' if step >= TARGET else 'NOT met'}")
    print(summary("tree_scoring", rows=args.rows, trees=args.trees, exact_rows=exact,
                  **{f"{k}_rows_per_s": v for k, v in rates.items()}, model_step_ratio=step))
    if exact != args.rows:
        raise SystemExit("the flat walk differs from LightGBM")


def bare_lightgbm(model_file: Path, x: np.ndarray, repeats: int) -> tuple[float, np.ndarray]:
    """The median seconds of LightGBM's own predict (probabilities, one thread), and its raw
    scores."""
    import lightgbm

    booster = lightgbm.Booster(model_file=str(model_file))
    booster.predict(x[:1000], num_threads=1)  # warm-up
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        booster.predict(x, num_threads=1)
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds), booster.predict(x, raw_score=True, num_threads=1)


def classpath_for(work: Path) -> str:
    """The benchmark class compiled into `work`, with the scorer jar and Flink's jars."""
    jars = [str(scorer_jar())] + [str(jar) for pattern in CLASSPATH_JARS
                                  for jar in sorted((pyflink_home() / "lib").glob(pattern))]
    compiler = javac()
    if compiler is None:
        raise SystemExit("this benchmark needs a JDK (javac)")
    subprocess.run([compiler, "-nowarn", "-cp", os.pathsep.join(jars), "-d", str(work),
                    str(BENCH_SOURCE)], check=True)
    return os.pathsep.join([*jars, str(work)])


if __name__ == "__main__":
    main()

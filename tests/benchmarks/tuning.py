"""Tuning cost: CREATE MODEL with 20 trials against CREATE MODEL with one fit, same data.

    python tests/benchmarks/tuning.py [--rows 20000] [--trials 20] [--parallel 2]

A boosted_tree_regressor on --rows rows of 8 DOUBLE features (a CSV file Flink reads as a
filesystem table), side by side in one run, after one untimed CREATE MODEL (JVM and
extraction warm):
- CREATE MODEL with the default hyperparameters (extraction, one fit, evaluation, publish),
- CREATE MODEL with num_trials = --trials, max_parallel_trials = --parallel, over
  learning_rate, num_leaves and num_trees (the same extraction, then the study);
- for each, the part after the extraction (from the "fitting" progress line to "published":
  the one fit, or the whole study with its process start-up, then evaluation and publish);
- the trials' own fit seconds summed (what they would cost one after another, without
  process start-up).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from common import summary, timed

import mlsql

FEATURES = 8
NAMES = [f"f{i}" for i in range(FEATURES)] + ["label"]
SPACE = ("learning_rate = HPARAM_RANGE(0.02, 0.3), num_leaves = HPARAM_CANDIDATES([15, 31, 63]),"
         " num_trees = HPARAM_CANDIDATES([50, 100])")


def write_rows(path: Path, rows: int) -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.random((rows, FEATURES)), columns=NAMES[:-1])
    frame["label"] = (np.sin(6 * frame["f0"]) + frame["f1"] * frame["f2"] - frame["f3"] ** 2
                      + rng.normal(scale=0.1, size=rows))
    frame.to_csv(path, index=False, header=False)


def fit_phase(lines: list[tuple[float, str]]) -> float:
    """Seconds from the "fitting" progress line to "published"."""
    start = next(t for t, text in lines if text.startswith("fitting "))
    end = next(t for t, text in lines if text.startswith("published "))
    return end - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--parallel", type=int, default=2)
    args = parser.parse_args()

    directory = Path(tempfile.mkdtemp(prefix="mlsql-bench-"))
    path = directory / "rows.csv"
    write_rows(path, args.rows)
    lines: list[tuple[float, str]] = []
    session = mlsql.Session(registry=directory / "registry", mode="batch",
                            progress=lambda text: lines.append((time.perf_counter(), text)))
    columns = ", ".join(f"{n} DOUBLE" for n in NAMES)
    session.sql(f"CREATE TABLE rows_ ({columns}) WITH ('connector' = 'filesystem', "
                f"'path' = '{path}', 'format' = 'csv')")
    session.sql("SELECT COUNT(*) FROM rows_")  # the JVM and the first job, off the clock

    base = "model_type = 'boosted_tree_regressor', label = 'label'"
    session.sql(f"CREATE MODEL warm_up OPTIONS({base}) AS SELECT * FROM rows_")
    lines.clear()
    one_fit = timed(lambda: session.sql(f"CREATE MODEL one_fit OPTIONS({base}) AS "
                                        "SELECT * FROM rows_"))
    one_fit_phase = fit_phase(lines)
    lines.clear()
    tuned = timed(lambda: session.sql(
        f"CREATE MODEL tuned OPTIONS({base}, num_trials = {args.trials}, "
        f"max_parallel_trials = {args.parallel}, {SPACE}) AS SELECT * FROM rows_"))
    tuned_phase = fit_phase(lines)
    trials = session.registry.resolve("tuned").metadata["trials"]
    trial_seconds = sum(t["seconds"] for t in trials)
    best = max(t["objective_value"] for t in trials if t["status"] == "SUCCEEDED")
    default_r2 = session.registry.resolve("one_fit").metadata["metrics"]["r2_score"]

    print(summary("tuning", rows=args.rows, trials=len(trials), parallel=args.parallel,
                  create_model_one_fit_s=one_fit, create_model_tuned_s=tuned,
                  ratio=tuned / one_fit, after_extraction_one_fit_s=one_fit_phase,
                  after_extraction_tuned_s=tuned_phase, trials_fit_s_summed=trial_seconds,
                  r2_default=default_r2, r2_best_trial=best))


if __name__ == "__main__":
    main()

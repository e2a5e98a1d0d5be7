"""ML_PREDICT throughput against the same pipeline without a model, side by side.

    python tests/benchmarks/inference.py [--rows 2000000] [--repeats 3]

datagen (rows-per-second set high: its default is 10,000) -> [ML_PREDICT] -> blackhole, batch
mode, parallelism 1, for logistic regression and a 100-tree LightGBM model, each through
compiled SQL and through the pandas UDF. Prints rows/s and the ratio to the same pipeline
without a model (medians of --repeats runs, interleaved).
"""

from __future__ import annotations

import argparse
import tempfile

from common import datagen_table, median_rate, summary, timed

import mlsql

FEATURES = 8


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    # The tree limit is lifted so the 100-tree model can be measured as compiled SQL too.
    session = mlsql.Session(registry=tempfile.mkdtemp(prefix="mlsql-bench-"), mode="batch",
                            options={"parallelism.default": "1",
                                     "mlsql.predict.max-tree-nodes": "1000000"})
    datagen_table(session, "train", 200_000, FEATURES)
    datagen_table(session, "source", args.rows, FEATURES, label=False)
    features = ", ".join(f"f{i}" for i in range(FEATURES))
    sink_columns = ", ".join(f"f{i} DOUBLE" for i in range(FEATURES))
    session.sql(f"CREATE TABLE plain_sink ({sink_columns}) WITH ('connector' = 'blackhole');"
                f"CREATE TABLE scored_sink ({sink_columns}, p DOUBLE) "
                "WITH ('connector' = 'blackhole')")
    models = {
        "logistic_reg": "'model_type' = 'logistic_reg'",
        "boosted_tree_100": "'model_type' = 'boosted_tree_classifier', 'num_trees' = '100'",
    }
    for name, options in models.items():
        session.sql(f"CREATE MODEL {name} WITH ({options}, 'label' = 'label') "
                    f"AS SELECT {features}, label FROM train")

    variants = [(name, path) for name in models for path in ("sql", "udf")]
    baseline: list[float] = []
    scored: dict[tuple[str, str], list[float]] = {variant: [] for variant in variants}
    for _ in range(args.repeats):  # interleaved, so drift hits every variant alike
        baseline.append(timed(lambda: session.sql(
            f"INSERT INTO plain_sink SELECT {features} FROM source")))
        for name, path in variants:
            scored[name, path].append(timed(lambda name=name, path=path: session.sql(
                f"INSERT INTO scored_sink SELECT {features}, probability FROM ML_PREDICT("
                f"TABLE source, MODEL {name}, MAP['execution', '{path}'])")))

    base_rate = median_rate(args.rows, baseline)
    print(f"{'no model:':<28}{base_rate:>12,.0f} rows/s")
    figures: dict[str, float | int] = {"rows": args.rows, "no_model_rows_per_s": base_rate}
    for (name, path), seconds in scored.items():
        rate = median_rate(args.rows, seconds)
        label = f"{name} ({'compiled SQL' if path == 'sql' else 'pandas UDF'}):"
        print(f"{label:<28}{rate:>12,.0f} rows/s  ratio {rate / base_rate:.2f}")
        figures[f"{name}_{path}_rows_per_s"] = rate
        figures[f"{name}_{path}_ratio"] = rate / base_rate
    print(summary("inference", **figures))


if __name__ == "__main__":
    main()

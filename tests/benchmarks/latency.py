"""Streaming latency of ML_PREDICT, from an event's creation to its prediction.

    python tests/benchmarks/latency.py [--rate 1000] [--seconds 20]

datagen emits --rate events/s, each stamped with its creation time (`max-past` 0), in
streaming mode. The query scores them and stamps CURRENT_ROW_TIMESTAMP() after the model;
the difference is the latency. Compiled SQL and the pandas UDF run side by side, the UDF
with Flink's default bundle settings and with mlsql's streaming settings.
"""

from __future__ import annotations

import argparse
import tempfile

import numpy as np
from common import datagen_table, summary

import mlsql
from mlsql.runtime.environment import STREAMING_PYTHON_OPTIONS

FEATURES = 8


def measure(session: mlsql.Session, path: str, rate: int, seconds: int) -> np.ndarray:
    rows = rate * seconds
    columns = ", ".join(f"f{i} DOUBLE" for i in range(FEATURES))
    bounds = ", ".join(f"'fields.f{i}.min' = '0', 'fields.f{i}.max' = '1'"
                       for i in range(FEATURES))
    session.sql(f"DROP TEMPORARY TABLE IF EXISTS events;"
                f"CREATE TEMPORARY TABLE events ({columns}, created TIMESTAMP_LTZ(3)) "
                f"WITH ('connector' = 'datagen', 'rows-per-second' = '{rate}', "
                f"'number-of-rows' = '{rows}', 'fields.created.max-past' = '0', {bounds})")
    frame = session.sql(
        "SELECT created, CURRENT_ROW_TIMESTAMP() AS done, probability FROM ML_PREDICT("
        f"TABLE events, MODEL latency_model, MAP['execution', '{path}'])")
    latency = (frame["done"] - frame["created"]).dt.total_seconds().to_numpy() * 1000
    return latency[len(latency) // 10 :]  # skip the first 10%: start-up


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--seconds", type=int, default=20)
    args = parser.parse_args()

    registry = tempfile.mkdtemp(prefix="mlsql-bench-")
    trainer = mlsql.Session(registry=registry, mode="batch")
    datagen_table(trainer, "train", 100_000, FEATURES)
    features = ", ".join(f"f{i}" for i in range(FEATURES))
    trainer.sql("CREATE MODEL latency_model WITH ('model_type' = 'logistic_reg', "
                f"'label' = 'label') AS SELECT {features}, label FROM train")

    flink_defaults = {"python.fn-execution.bundle.time": "1000",
                      "python.fn-execution.bundle.size": "100000"}
    assert flink_defaults.keys() == STREAMING_PYTHON_OPTIONS.keys()
    variants = {
        "compiled SQL": ("sql", {}),
        "pandas UDF, Flink's bundle defaults": ("udf", flink_defaults),
        "pandas UDF, mlsql's streaming settings": ("udf", {}),
    }
    figures: dict[str, float | int] = {"rate": args.rate}
    for name, (path, overrides) in variants.items():
        session = mlsql.Session(registry=registry, options={"parallelism.default": "1"})
        for key, value in overrides.items():
            session.sql(f"SET '{key}' = '{value}'")
        latency = measure(session, path, args.rate, args.seconds)
        p50, p99 = np.percentile(latency, [50, 99])
        # CURRENT_ROW_TIMESTAMP() has millisecond resolution: 0 means under 1 ms.
        print(f"{name:<40} p50 {p50:6.1f} ms  p99 {p99:6.1f} ms  ({len(latency)} events)")
        key = "sql" if path == "sql" else ("udf_default" if overrides else "udf_tuned")
        figures[f"{key}_p50_ms"], figures[f"{key}_p99_ms"] = float(p50), float(p99)
    print(summary("latency", **figures))


if __name__ == "__main__":
    main()

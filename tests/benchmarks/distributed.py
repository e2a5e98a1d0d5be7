"""Distributed training against the single-process fit, on the same rows.

    python tests/benchmarks/distributed.py [--rows 10000000] [--model logistic_reg]

The rows come from a datagen sequence hashed into features, so every pass over the query
sees the same rows (datagen's random fields would change between Newton or Lloyd steps).
Each mode runs in its own process so that its peak resident memory (ru_maxrss) is its own;
accuracy is the model's stored metric on all training rows ('eval_fraction' = '0') in both.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time

from common import repeatable_table, summary

FEATURES = 8


def train_once(rows: int, model_type: str, mode: str) -> dict:
    import mlsql

    started = time.perf_counter()
    session = mlsql.Session(
        registry=tempfile.mkdtemp(prefix="mlsql-bench-"), mode="batch",
        progress=lambda line: print(f"  [{mode} {time.perf_counter() - started:6.1f} s] {line}",
                                    file=sys.stderr, flush=True))
    repeatable_table(session, "rows_table", rows, FEATURES)
    label = "" if model_type == "kmeans" else "'label' = 'label', "
    selected = ", ".join([f"f{i}" for i in range(FEATURES)] + ([] if label == "" else ["label"]))
    started = time.perf_counter()
    session.sql(f"CREATE MODEL m WITH ('model_type' = '{model_type}', {label}"
                f"'eval_fraction' = '0', 'training_mode' = '{mode}') AS SELECT {selected} "
                "FROM rows_table")
    seconds = time.perf_counter() - started
    metrics = session.registry.resolve("m").metadata["metrics"]
    return {"seconds": seconds, "metrics": metrics,
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--model", default="logistic_reg",
                        choices=["logistic_reg", "linear_reg", "kmeans"])
    parser.add_argument("--mode", help=argparse.SUPPRESS)  # a child process: train once
    args = parser.parse_args()
    if args.mode:
        print(json.dumps(train_once(args.rows, args.model, args.mode)))
        return

    results = {}
    for mode in ("distributed", "single"):
        child = subprocess.run([sys.executable, __file__, "--rows", str(args.rows), "--model",
                                args.model, "--mode", mode], stdout=subprocess.PIPE, text=True)
        if child.returncode != 0:
            sys.exit(f"{mode} training failed (its output is above)")
        results[mode] = json.loads(child.stdout.strip().splitlines()[-1])
        r = results[mode]
        print(f"{mode:>11}: {r['seconds']:7.1f} s, peak Python RSS {r['peak_rss_mib']:7.0f} "
              f"MiB, metrics {json.dumps({k: round(v, 4) for k, v in r['metrics'].items()})}")
    metric = {"logistic_reg": "accuracy", "linear_reg": "r2_score",
              "kmeans": "mean_squared_distance"}[args.model]
    d, s = results["distributed"], results["single"]
    print(summary("distributed", model=args.model, rows=args.rows,
                  distributed_s=d["seconds"], single_s=s["seconds"],
                  distributed_rss_mib=d["peak_rss_mib"], single_rss_mib=s["peak_rss_mib"],
                  **{f"distributed_{metric}": d["metrics"][metric],
                     f"single_{metric}": s["metrics"][metric]}))


if __name__ == "__main__":
    main()

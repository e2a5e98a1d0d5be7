"""The fraud example end to end on the embedded Flink mini-cluster.

1. generate a month of labelled card transactions and a day of live ones (data/),
2. `mlsql run train.sql`: train a logistic baseline and a LightGBM model with CREATE MODEL,
3. `mlsql run score.sql`: score every live transaction with ML_PREDICT in a streaming job
   and print those with a fraud probability above 0.9 (lines starting `ALERT>`).

    python examples/fraud/run.py [--registry DIR] [--history N] [--live N]
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402

from mlsql.cli.main import main as mlsql_main  # noqa: E402


def run(registry: str | None, history: int, live: int) -> int:
    os.chdir(HERE)  # the scripts name their data as data/<file>.csv
    started = time.monotonic()
    generate.write(HERE / "data", history, live)
    print(f"generated {history:,} historical and {live:,} live transactions in "
          f"{time.monotonic() - started:.1f} s", file=sys.stderr)
    registry_args = ["--registry", generate.example_registry("run", registry)]

    started = time.monotonic()
    if mlsql_main(["run", "train.sql", *registry_args]) != 0:
        return 1
    print(f"training script took {time.monotonic() - started:.1f} s", file=sys.stderr)

    started = time.monotonic()
    if mlsql_main(["run", "score.sql", *registry_args]) != 0:
        return 1
    seconds = time.monotonic() - started
    print(f"scored {live:,} live transactions in {seconds:.1f} s, job start included "
          f"({live / seconds:,.0f} rows/s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    args = generate.example_arguments(__doc__)
    sys.exit(run(args.registry, args.history, args.live))

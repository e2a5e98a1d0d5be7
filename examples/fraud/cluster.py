"""The fraud example on a Flink standalone cluster (`mlsql cluster start`).

1. generate the fraud example's data (data/),
2. train its two models with train.sql on the cluster (`mlsql run --jobmanager`),
3. score the live transactions on the cluster in one batch query and print the alerts
   (fraud probability above 0.9) and how many there are.

    mlsql cluster start && python examples/fraud/cluster.py [--jobmanager 127.0.0.1:8081]

A cluster opens every path itself, in its own working directory, while the example's
scripts name their data relative to this directory; so the scripts are run with the data
directory spelled out.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402

from mlsql.cli.main import main as mlsql_main  # noqa: E402

ALERTS = """
SET 'execution.runtime-mode' = 'batch';
{live_table}
SELECT tx_id, merchant_category, amount, ROUND(probability, 3) AS probability
FROM ML_PREDICT(TABLE tx_stream, MODEL fraud_model)
WHERE probability > 0.9 ORDER BY tx_id LIMIT 10;
SELECT COUNT(*) AS alerts FROM ML_PREDICT(TABLE tx_stream, MODEL fraud_model)
WHERE probability > 0.9;
"""


def absolute_data(script: str) -> str:
    return script.replace("'data/", f"'{HERE / 'data'}/")


def live_table() -> str:
    """score.sql's CREATE TABLE tx_stream, the live day."""
    score = (HERE / "score.sql").read_text()
    return score[score.index("CREATE TABLE tx_stream"):score.index("CREATE TABLE fraud_")]


def run_on_cluster(example: str, scripts: dict[str, str], jobmanager: str,
                   registry: str | None) -> int:
    """Write each script (name -> text) with its data paths made absolute under
    data/<example>/, and run them in order with `mlsql run --jobmanager`."""
    common = ["--jobmanager", jobmanager,
              "--registry", generate.example_registry(example, registry)]
    work = HERE / "data" / example
    work.mkdir(exist_ok=True)
    for name, text in scripts.items():
        script = work / name
        script.write_text(absolute_data(text))
        started = time.monotonic()
        if mlsql_main(["run", str(script), *common]) != 0:
            return 1
        print(f"{script.name} on the cluster took {time.monotonic() - started:.1f} s",
              file=sys.stderr)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobmanager", default="127.0.0.1:8081")
    parser.add_argument("--registry", help="model registry (default: a fresh one under "
                                           "examples/fraud/data/registries/cluster)")
    args = parser.parse_args()
    generate.write(HERE / "data", 200_000, 50_000)
    return run_on_cluster("cluster", {
        "train.sql": (HERE / "train.sql").read_text(),
        "alerts.sql": ALERTS.format(live_table=live_table())}, args.jobmanager, args.registry)


if __name__ == "__main__":
    sys.exit(main())

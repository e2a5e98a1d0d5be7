"""The fraud model trained inside Flink tasks on a standalone cluster with two TaskManagers.

1. generate the fraud example's data (data/),
2. train fraud_model with 'training_mode' = 'distributed' on the cluster: two tasks, one
   under each TaskManager, each holding half of the history, joined by LightGBM's own
   data-parallel training; and the same model in one Python process, for comparison
   (train_distributed.sql, run after train.sql's history table),
3. score the live transactions with the distributed model on the cluster and print how many
   alerts (fraud probability above 0.9) it raises.

    mlsql cluster start --taskmanagers 2 --slots 1 && python examples/fraud/distributed.py \\
        [--jobmanager 127.0.0.1:8081]; mlsql cluster stop
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402
from cluster import live_table, run_on_cluster  # noqa: E402

ALERTS = """
SET 'execution.runtime-mode' = 'batch';
{live_table}
SELECT COUNT(*) AS alerts FROM ML_PREDICT(TABLE tx_stream, MODEL fraud_model)
WHERE probability > 0.9;
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobmanager", default="127.0.0.1:8081")
    parser.add_argument("--registry", help="model registry (default: a fresh one under "
                                           "examples/fraud/data/registries/distributed)")
    parser.add_argument("--history", type=int, default=200_000)
    args = parser.parse_args()
    generate.write(HERE / "data", args.history, 50_000)
    train = (HERE / "train.sql").read_text()
    history_table = train[:train.index("-- A baseline")]  # SET batch mode, tx_history
    return run_on_cluster("distributed", {
        "train_distributed.sql": history_table + (HERE / "train_distributed.sql").read_text(),
        "alerts.sql": ALERTS.format(live_table=live_table())}, args.jobmanager, args.registry)


if __name__ == "__main__":
    sys.exit(main())

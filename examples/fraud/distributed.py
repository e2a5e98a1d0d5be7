"""The fraud model trained inside Flink tasks on a standalone cluster with two TaskManagers.

1. generate the fraud example's data (data/),
2. train fraud_model with 'training_mode' = 'distributed' on the cluster: two tasks, one
   under each TaskManager, each holding half of the history, joined by LightGBM's own
   data-parallel training; and the same model in one Python process, for comparison
   (train_distributed.sql),
3. score the live transactions with the distributed model on the cluster and print how many
   alerts (fraud probability above 0.9) it raises.

    mlsql cluster start --taskmanagers 2 --slots 1 && python examples/fraud/distributed.py \\
        [--jobmanager 127.0.0.1:8081]; mlsql cluster stop
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402
from cluster import absolute_data  # noqa: E402

from mlsql.cli.main import main as mlsql_main  # noqa: E402

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
    common = ["--jobmanager", args.jobmanager,
              "--registry", generate.example_registry("distributed", args.registry)]
    work = HERE / "data" / "distributed"
    work.mkdir(exist_ok=True)
    train = work / "train_distributed.sql"
    train.write_text(absolute_data((HERE / "train_distributed.sql").read_text()))
    score = (HERE / "score.sql").read_text()
    live_table = score[score.index("CREATE TABLE tx_stream"):score.index("CREATE TABLE fraud_")]
    alerts = work / "alerts.sql"
    alerts.write_text(absolute_data(ALERTS.format(live_table=live_table)))
    for script in (train, alerts):
        started = time.monotonic()
        if mlsql_main(["run", str(script), *common]) != 0:
            return 1
        print(f"{script.name} on the cluster took {time.monotonic() - started:.1f} s",
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

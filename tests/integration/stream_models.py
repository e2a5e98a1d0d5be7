"""Streams and models shared by the tests of running jobs (test_hot_swap.py,
test_cluster_faults.py): `swap`, a linear model of x and y whose versions follow `first` or
`second` exactly, and `learner`, an online model updated once per minute of event time."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd

from tests.integration.kafka_helpers import run_mlsql


def kafka_table(name: str, columns: str, topic: str, bootstrap: str) -> str:
    return (f"CREATE TABLE {name} ({columns}) WITH ('connector' = 'kafka', 'topic' = '{topic}',"
            f" 'properties.bootstrap.servers' = '{bootstrap}', 'properties.group.id' = "
            f"'{name}', 'scan.startup.mode' = 'earliest-offset', 'format' = 'json')")


def history_csv(path: Path, formula) -> Path:
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"x": rng.normal(size=400), "y": rng.normal(size=400)})
    frame["z"] = formula(frame.x, frame.y)
    frame.to_csv(path, index=False, header=False)
    return path


def publisher_sql(path: Path, query: str) -> str:
    return ("SET 'execution.runtime-mode' = 'batch';\n"
            f"CREATE TABLE history (x DOUBLE, y DOUBLE, z DOUBLE) WITH ('connector' = "
            f"'filesystem', 'path' = '{path}', 'format' = 'csv');\n"
            "CREATE OR REPLACE MODEL swap WITH ('model_type' = 'linear_reg', 'label' = 'z') "
            f"AS {query};\n")


def run_script(registry: Path, script: str) -> None:
    done = run_mlsql("run", "--registry", str(registry), "-", input=script)
    assert done.returncode == 0, done.stderr[-3000:]


def runs(values: list[int]) -> list[int]:
    """[1, 1, 2, 2, 1] -> [1, 2, 1]"""
    return [v for i, v in enumerate(values) if i == 0 or values[i - 1] != v]


def first(x, y):
    return 2 * x - y + 0.5


def second(x, y):
    return -x + 3 * y - 1


WINDOW = 60  # events per window: one event per second of event time, 1-minute windows
START = dt.datetime(2026, 5, 1)


def event(i: int) -> dict:
    rng = np.random.default_rng(i)
    a, b = rng.normal(size=2)
    return {"a": float(a), "b": float(b), "y": int(a - b + rng.normal() > 0),
            "ts": (START + dt.timedelta(seconds=i)).strftime("%Y-%m-%d %H:%M:%S")}


def online_sql(bootstrap: str, checkpoint_dir: Path, model: str = "learner") -> str:
    return f"""
        SET 'execution.checkpointing.interval' = '1 s';
        SET 'execution.checkpointing.externalized-checkpoint-retention' = 'RETAIN_ON_CANCELLATION';
        SET 'execution.checkpointing.dir' = '{checkpoint_dir.as_uri()}';
        CREATE TABLE events (a DOUBLE, b DOUBLE, y INT, ts TIMESTAMP(3),
          WATERMARK FOR ts AS ts) WITH ('connector' = 'kafka', 'topic' = 'events_{model}',
          'properties.bootstrap.servers' = '{bootstrap}', 'scan.startup.mode' =
          'earliest-offset', 'scan.parallelism' = '1', 'format' = 'json');
        CREATE MODEL {model} WITH ('model_type' = 'online_logistic_reg', 'label' = 'y',
          'update_every' = '1 minute') AS SELECT a, b, ts, y FROM events;
        """


def online_versions(registry: Path, model: str) -> list[dict]:
    directory = registry / model
    found = []
    for path in sorted(directory.glob("v*"), key=lambda p: int(p.name[1:])):
        meta = json.loads((path / "metadata.json").read_text())
        if "online" in meta:
            found.append(meta)
    return found

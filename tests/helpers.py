"""Helpers shared by the integration tests."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from mlsql.services.flink_dist.home import PYFLINK_PROCESS_VARIABLES

FLINK_TYPES = {"float64": "DOUBLE", "int64": "BIGINT", "int32": "INT", "object": "STRING",
               "bool": "BOOLEAN"}


def create_csv_table(session, name: str, frame: pd.DataFrame, directory: Path,
                     types: dict[str, str] | None = None) -> None:
    """Write `frame` to CSV and declare it as a Flink filesystem table named `name`."""
    path = directory / f"{name}.csv"
    frame.to_csv(path, index=False, header=False)
    types = types or {}
    columns = ", ".join(f"`{c}` {types.get(c, FLINK_TYPES[str(frame[c].dtype)])}"
                        for c in frame.columns)
    session.sql(f"CREATE TABLE `{name}` ({columns}) WITH ('connector' = 'filesystem', "
                f"'path' = '{path}', 'format' = 'csv', 'csv.null-literal' = '')")


# The JVM flags of every JVM the tests start (JVM_ARGS, read by PyFlink's launcher and by
# Flink's bin/ scripts), unless the caller sets JVM_ARGS. The suite's jobs are small and its
# two cores saturated: the JIT's second tier costs more than it returns. C1 alone cut a
# train-and-score script from 36 to 25 CPU-seconds (tests/benchmarks/jvm_flags.py). In two
# parallel runs (both with a poor module order), the integration tests took 22:02 with C1;
# the whole suite, 25:48 with C2, about a minute of it unit tests. A 30-feature distributed
# fit that C1 slows alone (93 to 168 s) ran as long under load either way (397 s, 375 s).
# The heap is capped so that four workers stay inside the machine's memory (the default, a
# quarter of it each, let one grow into the OOM killer). The serial collector: G1's concurrent
# threads cost CPU the saturated suite does not have (the script above: 15.8 CPU-seconds with
# G1, 15.2 serial; the suite's JVMs took 1,690 of its 2,800 CPU-seconds).
SUITE_JVM_ARGS = "-XX:TieredStopAtLevel=1 -Xmx2g -XX:+UseSerialGC"
os.environ.setdefault("JVM_ARGS", SUITE_JVM_ARGS)
# The same for the Kafka brokers the tests start (mlsql.services.kafka reads Kafka's variable).
os.environ.setdefault("KAFKA_JVM_PERFORMANCE_OPTS", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC")

# The environment this test run started with. PyFlink's in-process Python workers (loopback
# mode) update os.environ with the variables of the Flink job they serve, so children get
# this copy, not what the run's earlier jobs left behind.
_STARTING_ENVIRONMENT = dict(os.environ)


def subprocess_env(**extra: str) -> dict[str, str]:
    """The environment for a child process that starts its own Flink.

    Local PyFlink runs Python UDFs in the client process ("loopback" mode) and marks that
    process (PYFLINK_GATEWAY_DISABLED, PYTHON_LOOPBACK_SERVER_ADDRESS); a child inheriting
    the marks refuses to start a JVM, or sends its UDFs back into this process, whose
    environment they then overwrite. Drop them.
    """
    env = {k: v for k, v in _STARTING_ENVIRONMENT.items() if k not in PYFLINK_PROCESS_VARIABLES}
    return {**env, **extra}


# The columns of mixed_rows' tables: numbers with NULLs, a string with NULLs, a flag, a binary
# label y and a three-class string label k.
MIXED_TYPES = {"a": "DOUBLE", "b": "DOUBLE", "c": "STRING", "flag": "BOOLEAN", "y": "INT",
               "k": "STRING"}


def mixed_rows(seed: int, n: int) -> pd.DataFrame:
    """Training rows whose labels depend on every feature, with NULLs in a and c."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n),
                          "c": rng.choice(["x", "y", "z"], n), "flag": rng.random(n) < 0.4})
    logit = frame["a"] + (frame["c"] == "x") - 0.5 * frame["b"] + frame["flag"]
    frame["y"] = (logit + rng.normal(scale=0.5, size=n) > 0.6).astype(int)
    frame["k"] = np.where(frame["y"] == 1, "hi", np.where(frame["a"] > 0, "mid", "lo"))
    frame.loc[::7, "a"] = np.nan
    frame.loc[::11, "c"] = None
    return frame


def fresh_mixed_rows() -> pd.DataFrame:
    """Five unlabelled rows: NULL numbers, an unseen string, NULL string and flag."""
    return pd.DataFrame({"a": [None, 1.0, -2.0, 0.3, 5.0], "b": [0.1, None, 2.0, -1.0, 0.0],
                         "c": ["x", "never-seen", None, "z", "y"],
                         "flag": [True, None, False, True, False]})

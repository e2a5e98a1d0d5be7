"""Boosted trees (LightGBM and XGBoost) trained inside Flink tasks by the libraries' own
distributed training, for 'training_mode' = 'distributed'.

Two small aggregate queries first (the feature encoding, the classes), then one batch job:
the training rows are spread at random over N groups whose keys land on N different tasks
(shards.py); each task's pandas UDAF (udfs/collective_training.py) holds its share, and
the N of them train one model together, in XGBoost's communicator (the library's
RabitTracker runs here) or LightGBM's data-parallel network (the tasks meet at this
process's coordinator). Only the model, each task's losses and its metric sums come back: no
training row passes through this process. The version is the one single-machine training
publishes (the same files and predictor), so everything that scores it works unchanged.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from pyflink.table import DataTypes
from pyflink.table.udf import udf

from mlsql.core.progress import Step
from mlsql.errors import FlinkError, TrainingError
from mlsql.models import boosted_tree, xgboost
from mlsql.models.history import History
from mlsql.runtime import minicluster
from mlsql.runtime.environment import FlinkRuntime
from mlsql.runtime.flink_types import Column, table_columns
from mlsql.services.cluster import rest
from mlsql.syntax.dialect import quote_identifier
from mlsql.training.algorithms import class_codes
from mlsql.training.distributed.common import feature_inputs, row_source
from mlsql.training.distributed.coordinator import Coordinator
from mlsql.training.distributed.shards import shard_keys
from mlsql.training.extract import fetch
from mlsql.training.fit import DISTRIBUTED, Fit
from mlsql.training.label_column import label_expression, label_values
from mlsql.training.model_options import CLASSIFICATION, REGRESSION
from udfs import features, metric_sums
from udfs.collective_training import LIGHTGBM, XGBOOST, ShardTrainer

# How long the tasks may take to all arrive, and XGBoost's limit on one collective call.
TIMEOUT_SECONDS = 600
# Slots a cancelled job still holds, or a TaskManager that is (re)registering, come back
# within seconds; a cluster that is simply too small is refused after this.
SLOT_WAIT_SECONDS = 30
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@dataclass(frozen=True)
class _Library:
    name: str  # udfs.collective_training.XGBOOST or LIGHTGBM
    model_file: str
    fitted_file_key: str  # the predictor's key naming the model file
    threads_key: str


_LIBRARIES = {
    "boosted_tree_classifier": _Library(LIGHTGBM, boosted_tree.BOOSTER_FILE, "booster_file",
                                        "num_threads"),
    "boosted_tree_regressor": _Library(LIGHTGBM, boosted_tree.BOOSTER_FILE, "booster_file",
                                       "num_threads"),
    "xgboost_classifier": _Library(XGBOOST, xgboost.MODEL_FILE, "model_file", "nthread"),
    "xgboost_regressor": _Library(XGBOOST, xgboost.MODEL_FILE, "model_file", "nthread"),
}


def fit_trees(runtime: FlinkRuntime, query_sql: str, columns: list[Column], label: Column,
              label_type: str | None, options: dict[str, Any],
              progress: Callable[[str], None]) -> Fit:
    library = _LIBRARIES[options["model_type"]]
    task = CLASSIFICATION if options["model_type"].endswith("_classifier") else REGRESSION
    workers = options.get("num_workers") or default_workers(runtime)
    check_slots(runtime, workers, progress)
    batch = _batch_twin(runtime, workers)  # the job is bounded, whatever the session
    kinds = {c.name: c.feature_kind for c in columns}

    trackers: list[Any] = []  # XGBoost's, started once every task has arrived

    def merge(hellos: list[dict[str, Any]]) -> dict[str, Any]:
        """The feature encoding, the classes and the library's parameters, from every task's
        training rows; for XGBoost, its tracker's address."""
        training_rows = [h["rows"] - h["eval_rows"] for h in hellos]
        if not sum(training_rows):
            raise TrainingError("the training query returned no rows with a label to train on")
        if library.name == LIGHTGBM and 0 in training_rows:
            raise TrainingError(
                f"worker {training_rows.index(0) + 1}/{workers} received no training rows "
                f"({sum(training_rows):,} in all): LightGBM needs rows on every worker; set "
                "a smaller 'num_workers', or train this little data with 'training_mode' = "
                "'single'")
        spec = features.spec_from_sums([h["sums"] for h in hellos], kinds, features.ORDINAL,
                                       standardize=False)
        _check_finite(spec)
        classes = None
        if task == CLASSIFICATION:
            values = [v for h in hellos for v in h["labels"][0]]
            classes, _ = class_codes(label_values(pd.Series(values), label_type, task))
        params = (boosted_tree.lightgbm_params(options, classes) if library.name == LIGHTGBM
                  else xgboost.training_params(options, classes))
        params[library.threads_key] = _threads(runtime, workers)
        answer = {"spec": spec, "classes": classes, "params": params, "tracker": {}}
        if library.name == XGBOOST:
            trackers.append(_start_tracker(workers, host))
            answer["tracker"] = trackers[0].worker_args()
        return answer

    host = collective_host(runtime)
    coordinator = Coordinator(workers, host, TIMEOUT_SECONDS, merge)
    plan = {
        "library": library.name, "workers": workers, "shard_keys": shard_keys(workers),
        "task": task, "label_type": label_type, "kinds": kinds,
        "eval_fraction": options["eval_fraction"], "has_eval": options["eval_fraction"] > 0,
        "seed": options["seed"],
        "rounds": options["num_trees"], "model_file": library.model_file,
        "payload": {"format": 1, "task": task, "algorithm": library.name,
                    library.fitted_file_key: library.model_file,
                    "outputs": _outputs(task, label, label_type)},
        "coordinator": list(coordinator.address), "host": host, "timeout": TIMEOUT_SECONDS,
    }
    progress(f"distributed training: {workers} Flink tasks train {options['model_type']} "
             f"together ({library.name}'s collective), each on its share of the rows")
    try:
        results = _run(batch, plan, row_source(query_sql, label), feature_inputs(columns),
                       label_expression(label.name, task, label_type), coordinator, progress)
    finally:
        coordinator.close()
        for tracker in trackers:
            with contextlib.suppress(Exception):  # a failed training's tracker complains
                tracker.free()
    assert coordinator.answer is not None  # every task had it before training
    return _fit_from(results, plan, coordinator.answer, library)


def default_workers(runtime: FlinkRuntime) -> int:
    """The session's parallelism: parallelism.default, else Flink's local default (the
    number of CPUs)."""
    configured = runtime.options.get("parallelism.default") or \
        runtime.t_env.get_config().get("parallelism.default", "")
    return int(configured) if str(configured).strip().isdigit() and int(configured) > 0 \
        else (os.cpu_count() or 1)


def check_slots(runtime: FlinkRuntime, workers: int,
                progress: Callable[[str], None] = lambda _: None) -> None:
    """Every task of the training must run at once: refuse before starting when the cluster
    has fewer free task slots than workers. Slots that may come (a cancelled job's, or a
    TaskManager's while none is registered) are waited for, up to SLOT_WAIT_SECONDS; a
    cluster with fewer slots in all than workers is refused at once."""
    address = _rest_address(runtime)
    if address is None:  # Flink's per-job local executor sizes its cluster to the job
        return
    deadline = time.monotonic() + SLOT_WAIT_SECONDS
    waiting = False
    while True:
        try:
            overview = rest.Overview.read(address)
        except rest.Unreachable as error:
            raise TrainingError(f"cannot check the cluster's free task slots: {error}") from None
        if overview.slots_available >= workers:
            return
        too_small = 0 < overview.slots_total < workers
        if too_small or time.monotonic() >= deadline:
            break
        if not waiting:
            progress(f"waiting up to {SLOT_WAIT_SECONDS} s for {workers} free task slots "
                     f"(the cluster at {address} has {overview.slots_available} free of "
                     f"{overview.slots_total})")
            waiting = True
        time.sleep(0.5)
    raise TrainingError(
        f"distributed training with {workers} workers needs {workers} free task slots at "
        f"once (one per worker, all running together); the cluster at {address} has "
        f"{overview.slots_available} free of {overview.slots_total}"
        f"{'' if too_small else f' after {SLOT_WAIT_SECONDS} s'}. Set 'num_workers' to at "
        "most the free slots, or add TaskManagers or slots")


def collective_host(runtime: FlinkRuntime) -> str:
    """The address the tasks reach this process at: loopback for a local cluster, else the
    address this machine uses towards the JobManager."""
    address = _rest_address(runtime)
    if address is None or address.host in _LOOPBACK:
        return "127.0.0.1"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect((address.host, address.port))  # no packet is sent
        return probe.getsockname()[0]


def _rest_address(runtime: FlinkRuntime) -> rest.Address | None:
    options = runtime.options
    if options.get("execution.target", "local").lower() not in ("local", "minicluster"):
        return rest.Address(options["rest.address"], int(options.get("rest.port", 8081)))
    port = minicluster.started_port()
    if minicluster.mode() == minicluster.PER_JOB or port is None:
        return None
    return rest.Address(minicluster.HOST, port)


def _threads(runtime: FlinkRuntime, workers: int) -> int:
    """Each worker's threads: on a local cluster the CPUs shared among the workers; on a
    remote one the library's default (0: all of the TaskManager's machine)."""
    if _rest_address(runtime) is None or collective_host(runtime) == "127.0.0.1":
        return max(1, (os.cpu_count() or 1) // workers)
    return 0


def _check_finite(spec: dict[str, Any]) -> None:
    """A number column whose values overflow a double when summed (or are infinite) is named,
    as single-machine training names it, before any library meets the NaNs."""
    for column in spec["columns"]:
        if column["kind"] == features.NUMERIC and not (
                np.isfinite(column["mean"]) and np.isfinite(column["std"])):
            raise TrainingError(
                f"column {column['name']!r} has infinite values or values too large to "
                "average in double precision; filter or scale it in the query")


def _outputs(task: str, label: Column, label_type: str | None) -> list[dict[str, str]]:
    predicted = f"predicted_{label.name}"
    if task == REGRESSION:
        return [{"name": predicted, "type": "DOUBLE"}]
    return [{"name": predicted, "type": label_type}, {"name": "probability", "type": "DOUBLE"}]


def _start_tracker(workers: int, host: str) -> Any:
    from xgboost.tracker import RabitTracker

    tracker = RabitTracker(n_workers=workers, host_ip=host, sortby="task",
                           timeout=TIMEOUT_SECONDS)
    tracker.start()
    return tracker


def _batch_twin(runtime: FlinkRuntime, workers: int) -> FlinkRuntime:
    """The session in batch mode, `workers` tasks per operator, and Python workers that are
    processes of their own (one per task: each joins the collective, none is this one)."""
    return runtime.batch_twin({
        "parallelism.default": str(workers),
        "table.exec.resource.default-parallelism": str(workers),
        # The adaptive batch scheduler would pick fewer tasks for a small input.
        "execution.batch.adaptive.auto-parallelism.enabled": "false",
        # A lost task cannot rejoin a collective that has moved on: fail, do not retry.
        "restart-strategy.type": "none",
    })


def _run(twin: FlinkRuntime, plan: dict[str, Any], source: str, inputs: list[str],
         label_sql: str, coordinator: Coordinator,
         progress: Callable[[str], None]) -> list[dict[str, Any]]:
    """The training job. Each row goes to one of the shards at random, and each shard gets
    one end row more; a window COUNT over (shard, is_end) makes Flink route each shard to its
    task and sort the end row last, and ShardTrainer, chained after it, trains on the end
    row. Rows stream through (a group aggregate would hold a task's whole share in the JVM,
    twice: 6.7 GiB for 10M rows)."""
    workers = plan["workers"]
    function = f"__mlsql_train_shard_{uuid.uuid4().hex[:8]}"
    twin.t_env.create_temporary_function(
        function, udf(ShardTrainer(plan), result_type=DataTypes.STRING(), func_type="pandas"))
    keys = plan["shard_keys"]
    names = [quote_identifier(f"c{i}") for i in range(len(inputs))]
    shard, is_end, position, label, result = (
        quote_identifier(n) for n in ("shard", "is_end", "position", "label", "result"))
    rows = (f"SELECT {', '.join(f'{e} AS {n}' for e, n in zip(inputs, names, strict=True))}, "
            f"{label_sql} AS {label} FROM {source}")
    nulls = ", ".join(f"CAST(NULL AS {c.type})" for c in table_columns(twin.sql_query(rows)))
    ends = ", ".join(f"({k})" for k in keys)
    marked = (f"SELECT (ARRAY[{', '.join(map(str, keys))}])"
              f"[RAND_INTEGER({plan['seed']}, {workers}) + 1] AS {shard}, FALSE AS {is_end}, "
              f"{', '.join(names)}, {label} FROM ({rows}) "
              f"UNION ALL SELECT {shard}, TRUE, {nulls} FROM (VALUES {ends}) AS e({shard})")
    counted = (f"SELECT *, COUNT(*) OVER (PARTITION BY {shard} ORDER BY {is_end} ROWS BETWEEN "
               f"UNBOUNDED PRECEDING AND CURRENT ROW) AS {position} FROM ({marked})")
    query = (f"SELECT {result} FROM (SELECT {function}({shard}, {is_end}, {position}, "
             f"{', '.join(names)}, {label}) AS {result} FROM ({counted})) "
             f"WHERE {result} IS NOT NULL")
    watcher = _Watcher(coordinator, plan, progress)
    try:
        fetch(twin, query, poll=watcher.poll)
    except FlinkError as error:
        cause = coordinator.what_went_wrong()
        raise TrainingError("distributed training failed, and no version was published: "
                            + (f"{cause}; Flink reports: {error}" if cause else str(error))
                            ) from None
    finally:
        twin.t_env.drop_temporary_function(function)
    coordinator.wait_for_results(30)  # sent by each task just before it returned
    watcher.drain()
    if sorted(coordinator.results) != list(range(workers)):
        raise TrainingError(f"distributed training ended with {len(coordinator.results)} of "
                            f"{workers} workers' results, and no version was published")
    return [coordinator.results[rank] for rank in range(workers)]


class _Watcher:
    """Turns the coordinator's messages into progress while the job runs: the rows the tasks
    have received so far (each reports every few seconds), then the boosting rounds."""

    def __init__(self, coordinator: Coordinator, plan: dict[str, Any],
                 progress: Callable[[str], None]) -> None:
        self.coordinator = coordinator
        self.rounds = plan["rounds"]
        self.workers = plan["workers"]
        self.progress = progress
        self.started = time.monotonic()
        self.received: dict[int, int] = {}

    def poll(self) -> None:
        self.coordinator.check_stalled()
        self.drain()

    def drain(self) -> None:
        while not self.coordinator.messages.empty():
            message = self.coordinator.messages.get_nowait()
            if message.get("event") == "loading":
                self.received[message["rank"]] = message["rows"]
                total = sum(self.received.values())
                self.progress(Step(f"the training tasks have received {total:,} rows "
                                   f"({time.monotonic() - self.started:.0f} s)", "loading",
                                   total, None, "rows"))
            elif message.get("event") == "hello":
                self.progress(f"worker {message['rank'] + 1}/{self.workers} (process "
                              f"{message['pid']}) holds {message['rows']:,} rows, "
                              f"{message['eval_rows']:,} of them held out")
            elif message.get("event") == "round":
                done = message["done"]
                if done % max(1, self.rounds // 5) == 0 or done == self.rounds:
                    self.progress(Step(f"boosting: {done}/{self.rounds} trees", "boosting",
                                       done, self.rounds, "trees"))


def _fit_from(results: list[dict[str, Any]], plan: dict[str, Any], answer: dict[str, Any],
              library: _Library) -> Fit:
    first = results[0]
    train_rows = sum(r["train_rows"] for r in results)
    eval_rows = sum(r["eval_rows"] for r in results)
    sums_key = "eval_sums" if eval_rows else "train_sums"
    combine = metric_sums.combine_classification if plan["task"] == CLASSIFICATION \
        else metric_sums.combine_regression
    metrics = combine(r[sums_key] for r in results)
    fitted: dict[str, Any] = {"algorithm": library.name,
                              library.fitted_file_key: library.model_file,
                              "feature_importance": first["importance"]}
    if library.name == XGBOOST:
        fitted["feature_importance_type"] = "gain"
    if answer["classes"] is not None:
        fitted["classes"] = answer["classes"]
    fitted["distributed"] = {"library": library.name, "workers": plan["workers"],
                             "rows_per_worker": [r["train_rows"] + r["eval_rows"]
                                                 for r in results]}
    return Fit(answer["spec"], fitted, train_rows, eval_rows, DISTRIBUTED, metrics=metrics,
               history=_history(results), files={library.model_file: first["model"].encode()})


def _history(results: list[dict[str, Any]]) -> History:
    """Each round's losses over all rows: every task's mean weighted by its rows (XGBoost's
    are global already, and equal; LightGBM's are each task's own)."""
    history = History()
    for round_index in range(len(results[0]["history"])):
        losses = []
        for position, weight_key in ((0, "train_rows"), (1, "eval_rows")):
            pairs = [(r["history"][round_index][position], r[weight_key]) for r in results
                     if r["history"][round_index][position] is not None and r[weight_key]]
            weight = sum(w for _, w in pairs)
            losses.append(float(np.dot(*zip(*pairs, strict=True)) / weight) if pairs else None)
        history.record(round_index + 1, *losses)
    return history


TRAINERS = {name: fit_trees for name in _LIBRARIES}

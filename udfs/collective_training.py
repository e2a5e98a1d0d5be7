"""Boosted trees trained on Flink's workers by the library's own collective.

The planner (mlsql/training/distributed/boosted_trees.py) partitions the training rows into
one group per Flink task and aggregates each group with ShardTrainer, a pandas UDAF: every
task holds only its share, encodes it with the version's feature spec, and joins the others
in XGBoost's communicator (its RabitTracker runs in the planner) or LightGBM's data-parallel
network. All of them end with the same model. Each returns, as JSON, its rows, its per-round
losses and metric sums over its own held-out rows (udfs/metric_sums.py); the first also
returns the model file.

The planner's coordinator (a TCP server of JSON lines) is the rendezvous: a task says hello
with its process id and listening port, and is answered once every task has arrived (a
task that waits longer than the plan's timeout fails with the count that came), and the
first task reports each boosting round there, which the planner shows as progress.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from udfs import features, metric_sums
from udfs.predictors import Predictor
from udfs.split import eval_mask

XGBOOST = "xgboost"
LIGHTGBM = "lightgbm"


class WorkerError(RuntimeError):
    """A training task could not do its part; the message says why."""


class Coordinator:
    """This task's line to the planner's coordinator."""

    def __init__(self, address: tuple[str, int], timeout: float) -> None:
        self.timeout = timeout
        try:
            self._socket = socket.create_connection(address, timeout=timeout)
        except OSError as error:
            raise WorkerError(f"cannot reach the planner's coordinator at {address[0]}:"
                              f"{address[1]}: {error}") from None
        self._reader = self._socket.makefile("r", encoding="utf-8")

    def send(self, **message: Any) -> None:
        self._socket.sendall((json.dumps(message) + "\n").encode())

    def receive(self) -> dict[str, Any]:
        try:
            line = self._reader.readline()
        except TimeoutError:
            raise WorkerError(f"no answer from the planner's coordinator in "
                              f"{self.timeout:.0f} s") from None
        if not line:
            raise WorkerError("the planner's coordinator closed the connection")
        message = json.loads(line)
        if "error" in message:
            raise WorkerError(message["error"])
        return message

    def close(self) -> None:
        self._socket.close()


class ShardTrainer:
    """The pandas UDF each training task runs, one instance per task (its Python process):
    (shard key, is_end, position, feature columns..., label) -> NULL, and this task's result
    JSON on its end row.

    Flink sorts each task's rows by (shard, is_end), so its share arrives first, in batches
    that are kept as arrays, and its end row last: that call trains. `position` counts the
    partition's rows up to each (a window COUNT), so the end row says how many came before
    it. `plan` is JSON data (boosted_trees.py builds it)."""

    REPORT_EVERY_S = 5.0

    def __init__(self, plan: dict[str, Any]) -> None:
        self.plan = plan
        self._shard: int | None = None
        self._chunks: list[list[np.ndarray]] = []
        self._rows = 0
        self._coordinator: Coordinator | None = None
        self._reported = 0.0

    def __call__(self, shard: pd.Series, is_end: pd.Series, position: pd.Series,
                 *columns: pd.Series) -> pd.Series:
        results: list[str | None] = [None] * len(shard)
        ends = np.flatnonzero(is_end.to_numpy(dtype=bool))
        rows = len(shard) if not len(ends) else int(ends[0])
        try:
            if rows:
                self._keep(int(shard.iloc[0]), [c.to_numpy()[:rows] for c in columns])
            if len(ends):
                key, expected = int(shard.iloc[rows]), int(position.iloc[rows]) - 1
                self._keep(key, [])
                if expected != self._rows:
                    raise WorkerError(f"task for shard {key} received {self._rows:,} rows "
                                      f"before its end row, which counts {expected:,}")
                rank = self._rank(key)
                result = self._train(rank)
                self._coordinator.send(event="done", rank=rank, result=result)
                self._coordinator.close()
                results[rows] = json.dumps({"rank": rank})
        except Exception as error:  # the planner names this task and its error
            if self._coordinator is not None and self._shard is not None:
                with contextlib.suppress(OSError):
                    self._coordinator.send(event="failed", rank=self._rank(self._shard),
                                           pid=os.getpid(),
                                           error=f"{type(error).__name__}: {error}")
                    self._coordinator.close()
            raise
        return pd.Series(results, dtype=object)

    def _keep(self, shard: int, arrays: list[np.ndarray]) -> None:
        if self._shard is None:
            self._shard = shard
            self._chunks = [[] for _ in range(len(self.plan["kinds"]) + 1)]
            # A margin over the planner's own limit, so that its reason arrives first.
            self._coordinator = Coordinator(tuple(self.plan["coordinator"]),
                                            self.plan["timeout"] + 60)
        elif shard != self._shard:  # two groups on one task: it would wait for itself
            raise WorkerError(f"one training task received the rows of shards {self._shard} "
                              f"and {shard}; Flink's hash routing is not what "
                              "mlsql/training/distributed/shards.py expects")
        for chunks, array in zip(self._chunks, arrays, strict=False):
            chunks.append(array)
        self._rows += len(arrays[0]) if arrays else 0
        now = time.monotonic()
        if now - self._reported >= self.REPORT_EVERY_S:
            self._reported = now
            self._coordinator.send(event="loading", rank=self._rank(shard), pid=os.getpid(),
                                   rows=self._rows)

    def _rank(self, shard: int) -> int:
        return self.plan["shard_keys"].index(shard)

    def _train(self, rank: int) -> dict[str, Any]:
        columns = []
        for index, chunks in enumerate(self._chunks):  # one column at a time: little extra
            self._chunks[index] = []
            columns.append(np.concatenate(chunks) if chunks else np.zeros(0))
            del chunks
        return _train_shard(self.plan, rank, columns, self._coordinator)


def _train_shard(plan: dict[str, Any], rank: int, columns: list[np.ndarray],
                 coordinator: Coordinator) -> dict[str, Any]:
    kinds: dict[str, str] = plan["kinds"]
    frame = pd.DataFrame(dict(zip(kinds, columns[:-1], strict=True)), copy=False)
    label = columns[-1]
    del columns
    if plan["task"] == "classification" and plan["label_type"] == "STRING":
        label = label.astype(str).astype(object)
    held_out = eval_mask(frame, plan["eval_fraction"], plan["seed"])
    training = ~held_out
    # The feature encoding and the classes are fitted on every task's training rows: each
    # sends its sums, the planner answers with the spec (as single-machine training fits it).
    host = _own_address(plan)
    port = _free_port(host) if plan["library"] == LIGHTGBM else 0
    label_counts = pd.Series(label[training]).value_counts() \
        if plan["task"] == "classification" else pd.Series(dtype=np.int64)
    coordinator.send(event="hello", rank=rank, pid=os.getpid(), host=host, port=port,
                     rows=len(frame), eval_rows=int(held_out.sum()),
                     sums=features.column_sums(frame, kinds, training),
                     labels=[label_counts.index.tolist(), label_counts.tolist()])
    answer = coordinator.receive()  # once every task has said hello
    spec, classes = answer["spec"], answer["classes"]
    if classes is None:
        y = label.astype(np.float64)
        known = np.ones(len(y), dtype=bool)
    else:  # a held-out label no training row has cannot be scored (known_targets)
        codes = pd.Index(classes).get_indexer(label)
        y, known = codes.astype(np.float64), codes >= 0
    scored = held_out & known

    train = (features.encode(spec, [frame[n].to_numpy()[training] for n in kinds]),
             y[training])
    evaluation = (features.encode(spec, [frame[n].to_numpy()[scored] for n in kinds]),
                  y[scored])
    del frame, label, y
    history: list[list[float | None]] = []

    def report(train_loss: float | None, eval_loss: float | None) -> None:
        history.append([train_loss, eval_loss])
        if rank == 0:
            coordinator.send(event="round", done=len(history))

    payload = dict(plan["payload"], features=spec)
    if classes is not None:
        payload["classes"] = classes
    with tempfile.TemporaryDirectory(prefix="mlsql-shard-") as directory:
        model_path = Path(directory, plan["model_file"])
        if plan["library"] == XGBOOST:
            importance = _train_xgboost(plan, spec, answer["params"], answer["tracker"],
                                        rank, train, evaluation, report, model_path)
        else:
            importance = _train_lightgbm(plan, spec, answer["params"], answer["machines"],
                                         port, train, evaluation, report, model_path)
        predictor = Predictor(payload, directory)
        result: dict[str, Any] = {
            "rank": rank, "pid": os.getpid(), "train_rows": len(train[0]),
            "eval_rows": int(held_out.sum()), "history": history,
            "eval_sums": _sums(plan["task"], predictor, *evaluation)}
        if not len(evaluation[0]):
            result["train_sums"] = _sums(plan["task"], predictor, *train)
        if rank == 0:
            result["model"] = model_path.read_text(encoding="utf-8")
            result["importance"] = importance
    return result


def _train_xgboost(plan: dict[str, Any], spec: dict[str, Any], params: dict[str, Any],
                   tracker: dict[str, Any], rank: int,
                   train: tuple[np.ndarray, np.ndarray],
                   evaluation: tuple[np.ndarray, np.ndarray], report, model_path: Path
                   ) -> dict[str, float]:
    import xgboost
    from xgboost import collective

    categorical = set(features.categorical_indices(spec))
    types = ["c" if i in categorical else "q" for i in range(len(features.feature_names(spec)))]

    def matrix(x: np.ndarray, y: np.ndarray) -> Any:
        return xgboost.DMatrix(x, label=y, feature_types=types,
                               enable_categorical="c" in types)

    metric = params["eval_metric"]

    class Report(xgboost.callback.TrainingCallback):
        def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
            losses = {name: _squared_if_rmse(log[metric][-1], metric)
                      for name, log in evals_log.items()}
            report(losses.get("train"), losses.get("eval"))
            return False

    arguments = dict(tracker, dmlc_task_id=f"{rank:06d}",
                     dmlc_timeout=int(plan["timeout"]))
    with collective.CommunicatorContext(**arguments):
        dtrain = matrix(*train)
        evals = [(dtrain, "train")]
        if plan["has_eval"]:  # every task lists it, even with no held-out rows of its own
            evals.append((matrix(*evaluation), "eval"))
        booster = xgboost.train(params, dtrain, num_boost_round=plan["rounds"],
                                evals=evals, verbose_eval=False, callbacks=[Report()])
    booster.save_model(str(model_path))
    gains = booster.get_score(importance_type="total_gain")
    return {name: float(gains.get(f"f{i}", 0.0))
            for i, name in enumerate(features.feature_names(spec))}


def _train_lightgbm(plan: dict[str, Any], spec: dict[str, Any], params: dict[str, Any],
                    machines: str, port: int,
                    train: tuple[np.ndarray, np.ndarray],
                    evaluation: tuple[np.ndarray, np.ndarray], report, model_path: Path
                    ) -> dict[str, float]:
    import lightgbm

    params = dict(params, tree_learner="data", pre_partition=True,
                  num_machines=plan["workers"], machines=machines, local_listen_port=port,
                  time_out=max(1, int(plan["timeout"] // 60)))
    categorical = features.categorical_indices(spec) or "auto"
    dataset = lightgbm.Dataset(train[0], label=train[1], categorical_feature=categorical,
                               free_raw_data=True)
    valid_sets, valid_names = [dataset], ["train"]
    if plan["has_eval"] and len(evaluation[0]):  # metrics are each task's own: none is fine
        valid_sets.append(lightgbm.Dataset(evaluation[0], label=evaluation[1],
                                           categorical_feature=categorical,
                                           reference=dataset))
        valid_names.append("eval")

    def callback(env: Any) -> None:
        losses = {name: value for name, _, value, _ in env.evaluation_result_list}
        report(losses.get("train"), losses.get("eval"))

    booster = lightgbm.train(params, dataset, num_boost_round=plan["rounds"],
                             valid_sets=valid_sets, valid_names=valid_names,
                             callbacks=[callback])
    booster.free_network()
    booster.save_model(str(model_path))
    gains = booster.feature_importance(importance_type="gain")
    return dict(zip(features.feature_names(spec), (float(g) for g in gains),
                    strict=True))


def _sums(task: str, predictor: Predictor, x: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    if task == "regression":
        scores = predictor.scores(x) if len(x) else np.zeros(0)
        return metric_sums.regression_sums(y, scores)
    classes = len(predictor.classes)
    proba = predictor.scores(x) if len(x) else np.zeros((0, classes))
    return metric_sums.classification_sums(y.astype(np.int64), proba)


def _squared_if_rmse(value: float, metric: str) -> float:
    """The history's loss: log-loss as XGBoost reports it, mean squared error from rmse."""
    return float(value) ** 2 if metric == "rmse" else float(value)


def _own_address(plan: dict[str, Any]) -> str:
    """Where the other tasks reach this one: loopback on a local cluster, else this machine's
    address towards the planner."""
    if plan["host"] == "127.0.0.1":
        return plan["host"]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(tuple(plan["coordinator"]))  # no packet is sent
        return probe.getsockname()[0]


def _free_port(host: str) -> int:
    """A port free on this host now, for LightGBM to listen on (it binds it itself)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]

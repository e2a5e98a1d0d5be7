"""The parts of distributed tree training that need no Flink: metric sums that add up to
scikit-learn's metrics, the feature spec from per-shard sums, the shard keys, the
coordinator where the tasks meet (over real sockets), and the wait for free task slots."""

from __future__ import annotations

import http.server
import json
import socket
import threading
import time

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics

from mlsql.errors import TrainingError
from mlsql.services.cluster import rest
from mlsql.training.distributed import boosted_trees
from mlsql.training.distributed.coordinator import Coordinator
from mlsql.training.distributed.shards import flink_murmur_hash, shard_keys
from udfs import features, metric_sums


def _parts(n: int, parts: int) -> list[np.ndarray]:
    return np.array_split(np.random.default_rng(0).permutation(n), parts)


def test_binary_sums_add_up_to_scikit_learns_metrics():
    rng = np.random.default_rng(3)
    n = 20_000
    truth = (rng.random(n) < 0.02).astype(np.int64)  # a rare class, as fraud is
    p = 1 / (1 + np.exp(-(rng.normal(size=n) * 2 + truth * 5 - 6)))
    proba = np.column_stack([1 - p, p])
    ours = metric_sums.combine_classification(
        metric_sums.classification_sums(truth[i], proba[i]) for i in _parts(n, 3))
    predicted = (p > 0.5).astype(int)
    assert ours["accuracy"] == pytest.approx(metrics.accuracy_score(truth, predicted), abs=1e-12)
    assert ours["precision"] == pytest.approx(metrics.precision_score(truth, predicted),
                                              abs=1e-12)
    assert ours["recall"] == pytest.approx(metrics.recall_score(truth, predicted), abs=1e-12)
    assert ours["f1_score"] == pytest.approx(metrics.f1_score(truth, predicted), abs=1e-12)
    assert ours["log_loss"] == pytest.approx(metrics.log_loss(truth, proba), rel=1e-9)
    assert ours["roc_auc"] == pytest.approx(metrics.roc_auc_score(truth, p), abs=1e-5)


def test_multiclass_sums_are_macro_averages_over_the_classes_that_occur():
    rng = np.random.default_rng(4)
    n = 3_000
    truth = rng.integers(0, 4, n)
    truth[truth == 3] = 2  # class 3 never occurs as truth...
    proba = rng.dirichlet(np.ones(4), n)
    proba[:, 3] = 0.0  # ...nor as prediction: scikit-learn leaves it out of the average
    proba /= proba.sum(axis=1, keepdims=True)
    ours = metric_sums.combine_classification(
        metric_sums.classification_sums(truth[i], proba[i]) for i in _parts(n, 2))
    predicted = proba.argmax(axis=1)
    for name, score in (("precision", metrics.precision_score),
                        ("recall", metrics.recall_score), ("f1_score", metrics.f1_score)):
        assert ours[name] == pytest.approx(score(truth, predicted, average="macro"), abs=1e-12)
    assert ours["log_loss"] == pytest.approx(
        metrics.log_loss(truth, np.clip(proba, 1e-15, 1), labels=[0, 1, 2, 3]), rel=1e-6)
    assert "roc_auc" not in ours


def test_regression_sums_add_up_to_scikit_learns_metrics():
    rng = np.random.default_rng(5)
    truth = rng.normal(size=1_000) * 10
    predicted = truth + rng.normal(size=1_000)
    ours = metric_sums.combine_regression(
        metric_sums.regression_sums(truth[i], predicted[i]) for i in _parts(1_000, 4))
    assert ours["r2_score"] == pytest.approx(metrics.r2_score(truth, predicted), rel=1e-9)
    assert ours["mean_absolute_error"] == pytest.approx(
        metrics.mean_absolute_error(truth, predicted), rel=1e-9)
    assert ours["mean_squared_error"] == pytest.approx(
        metrics.mean_squared_error(truth, predicted), rel=1e-9)


def test_r2_keeps_its_digits_when_the_label_has_a_large_offset():
    rng = np.random.default_rng(7)
    truth = 1e8 + rng.normal(size=100_000)
    predicted = truth + rng.normal(scale=0.3, size=100_000)
    ours = metric_sums.combine_regression(
        metric_sums.regression_sums(truth[i], predicted[i]) for i in _parts(100_000, 3))
    assert ours["r2_score"] == pytest.approx(metrics.r2_score(truth, predicted), abs=1e-6)
    constant = np.full(10, 3.0)
    assert metric_sums.combine_regression(
        [metric_sums.regression_sums(constant, constant)])["r2_score"] == 1.0


def test_a_shard_without_rows_adds_nothing():
    empty = metric_sums.classification_sums(np.zeros(0, dtype=np.int64), np.zeros((0, 2)))
    full = metric_sums.classification_sums(np.array([0, 1]), np.array([[0.8, 0.2], [0.3, 0.7]]))
    assert metric_sums.combine_classification([empty, full]) == \
        metric_sums.combine_classification([full])
    assert metric_sums.combine_regression(
        [metric_sums.regression_sums(np.zeros(0), np.zeros(0))]) == {}


def test_the_spec_from_shard_sums_is_the_spec_of_all_rows():
    rng = np.random.default_rng(6)
    n = 5_000
    frame = pd.DataFrame({"x": rng.normal(size=n) * 3 + 1,
                          "s": rng.choice([f"c{i}" for i in range(300)], n)})
    frame.loc[::7, "x"] = np.nan
    frame.loc[::11, "s"] = None
    kinds = {"x": features.NUMERIC, "s": features.CATEGORICAL}
    whole = features.fit_spec(frame, kinds, features.ORDINAL, standardize=False)
    shares = [features.column_sums(frame.iloc[i], kinds) for i in _parts(n, 3)]
    merged = features.spec_from_sums(json.loads(json.dumps(shares)), kinds, features.ORDINAL,
                                     standardize=False)
    assert merged["columns"][0]["mean"] == pytest.approx(whole["columns"][0]["mean"],
                                                         rel=1e-12)
    assert merged["columns"][0]["std"] == pytest.approx(whole["columns"][0]["std"], rel=1e-9)
    counts = frame["s"].value_counts()
    cut = counts.iloc[features.MAX_CATEGORIES - 1]
    # Categories tied at the cut may be chosen either way; all above it are in both.
    sure = set(counts[counts > cut].index)
    assert sure <= set(merged["columns"][1]["categories"])
    assert len(merged["columns"][1]["categories"]) == features.MAX_CATEGORIES
    assert merged["columns"][1]["categories"] == sorted(merged["columns"][1]["categories"])


def test_shard_keys_reach_every_task_once():
    for tasks in range(1, 33):
        keys = shard_keys(tasks)
        assert sorted(flink_murmur_hash(k) % tasks for k in keys) == list(range(tasks))
    assert flink_murmur_hash(0) % 2 == flink_murmur_hash(1) % 2  # why keys are not 0..N-1


class _Task:
    """A training task's side of the coordinator protocol."""

    def __init__(self, address: tuple[str, int], rank: int) -> None:
        self.socket = socket.create_connection(address, timeout=10)
        self.lines = self.socket.makefile("r")
        self.rank = rank

    def send(self, **message) -> None:
        self.socket.sendall((json.dumps(message) + "\n").encode())

    def hello(self) -> None:
        self.send(event="hello", rank=self.rank, pid=1000 + self.rank, host="127.0.0.1",
                  port=7000 + self.rank, rows=10)

    def answer(self) -> dict:
        return json.loads(self.lines.readline())

    def close(self) -> None:
        self.lines.close()
        self.socket.close()


def test_the_coordinator_answers_once_every_task_has_arrived():
    seen = []

    def merge(hellos):
        seen.append([h["rank"] for h in hellos])
        return {"total": sum(h["rows"] for h in hellos)}

    coordinator = Coordinator(3, "127.0.0.1", 30, merge)
    try:
        tasks = [_Task(coordinator.address, rank) for rank in (2, 0, 1)]
        for task in tasks:
            task.hello()
        answers = [task.answer() for task in tasks]
        assert seen == [[0, 1, 2]]
        assert all(a == {"total": 30, "machines": "127.0.0.1:7000,127.0.0.1:7001,"
                                                  "127.0.0.1:7002"} for a in answers)
        tasks[0].send(event="done", rank=2, result={"rows": 10})
        tasks[0].close()
        tasks[2].send(event="failed", rank=1, error="XGBoostError: a peer went away")
        tasks[2].close()
        tasks[1].close()  # rank 0 goes away without a word: the cause, reported first
        deadline = time.monotonic() + 10
        while len(coordinator._lost) + len(coordinator._failed) < 2 and \
                time.monotonic() < deadline:
            time.sleep(0.05)
        assert coordinator.results == {2: {"rows": 10}}
        assert coordinator.what_went_wrong().startswith(
            "worker 1/3 (process 1000) ended before finishing its part")
    finally:
        coordinator.close()
    with pytest.raises(OSError):  # closed means no longer listening
        socket.create_connection(coordinator.address, timeout=2)


def test_a_task_that_fails_is_named_with_its_error():
    coordinator = Coordinator(1, "127.0.0.1", 30, lambda hellos: {})
    try:
        task = _Task(coordinator.address, 0)
        task.hello()
        task.answer()
        task.send(event="failed", rank=0, error="LightGBMError: bad things")
        task.close()
        deadline = time.monotonic() + 10
        while coordinator.what_went_wrong() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert coordinator.what_went_wrong() == "worker 1/1 failed: LightGBMError: bad things"
    finally:
        coordinator.close()


def test_tasks_that_do_not_all_arrive_are_told_why():
    coordinator = Coordinator(2, "127.0.0.1", 0.2, lambda hellos: {})
    try:
        task = _Task(coordinator.address, 0)
        task.hello()
        deadline = time.monotonic() + 10
        while coordinator.failure is None and time.monotonic() < deadline:
            coordinator.check_stalled()
            time.sleep(0.05)
        assert "only 1 of 2 training tasks started" in coordinator.failure
        assert task.answer() == {"error": coordinator.failure}
    finally:
        coordinator.close()


def test_a_merge_that_fails_stops_every_task_with_its_reason():
    def merge(hellos):
        raise ValueError("the training query returned no rows")

    coordinator = Coordinator(1, "127.0.0.1", 30, merge)
    try:
        task = _Task(coordinator.address, 0)
        task.hello()
        assert task.answer() == {"error": "the training query returned no rows"}
        assert coordinator.failure == "the training query returned no rows"
    finally:
        coordinator.close()


class _Overviews:
    """A JobManager's /overview, answering each request with the next of `slots` (free,
    total) and then the last one, over a real HTTP socket."""

    def __init__(self, slots: list[tuple[int, int]]) -> None:
        self.slots, self.asked = slots, 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                free, total = outer.slots[min(outer.asked, len(outer.slots) - 1)]
                outer.asked += 1
                body = json.dumps({"taskmanagers": int(total > 0), "slots-total": total,
                                   "slots-available": free, "jobs-running": 0}).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.address = rest.Address("127.0.0.1", self.server.server_address[1])


@pytest.fixture
def overviews(monkeypatch):
    made: list[_Overviews] = []

    def make(slots: list[tuple[int, int]]) -> _Overviews:
        made.append(_Overviews(slots))
        monkeypatch.setattr(boosted_trees, "_rest_address", lambda runtime: made[-1].address)
        return made[-1]

    yield make
    for server in made:
        server.server.shutdown()


def test_slots_on_their_way_are_waited_for(overviews):
    """No TaskManager registered yet (0 of 0), then a busy one: training starts once enough
    slots are free, and says that it waits."""
    cluster = overviews([(0, 0), (0, 0), (1, 4), (3, 4)])
    said: list[str] = []
    boosted_trees.check_slots(None, 2, said.append)
    assert cluster.asked == 4
    assert said == [f"waiting up to {boosted_trees.SLOT_WAIT_SECONDS} s for 2 free task slots "
                    f"(the cluster at {cluster.address} has 0 free of 0)"]


def test_a_cluster_too_small_is_refused_at_once(overviews):
    cluster = overviews([(2, 2)])
    with pytest.raises(TrainingError, match=r"needs 3 free task slots at once .* has 2 free "
                                            r"of 2\. Set 'num_workers'"):
        boosted_trees.check_slots(None, 3)
    assert cluster.asked == 1


def test_slots_that_stay_busy_are_refused_after_the_wait(overviews, monkeypatch):
    monkeypatch.setattr(boosted_trees, "SLOT_WAIT_SECONDS", 1)
    overviews([(1, 8)])
    started = time.monotonic()
    with pytest.raises(TrainingError, match=r"has 1 free of 8 after 1 s\. Set 'num_workers'"):
        boosted_trees.check_slots(None, 2)
    assert 1 <= time.monotonic() - started < 5

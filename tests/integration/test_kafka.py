"""The streaming fraud pipeline against a real Kafka broker (`mlsql kafka start`).

One broker and one trained model per module. The exactly-once test runs the example's own
score.sql (its threshold lowered so that every transaction yields an alert), kills the
whole scoring process mid-stream with SIGKILL, resumes it from its latest checkpoint, and
checks that every valid transaction was scored exactly once, with the scores of a bounded
ML_PREDICT over the same events, while bad records went to the dead-letter topic.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
from datetime import timedelta

import pandas as pd
import pytest

import mlsql
from mlsql.errors import FlinkError
from mlsql.services.kafka import LocalKafka
from mlsql.services.processes import free_port
from tests.helpers import subprocess_env
from tests.integration.kafka_helpers import (
    EXAMPLE,
    checkpoints,
    example_sql,
    kill_group,
    mlsql_background,
    read_json,
    run_mlsql,
    wait_for,
)

pytestmark = [pytest.mark.slow, pytest.mark.kafka]

sys.path.insert(0, str(EXAMPLE))
import producer  # noqa: E402  (the example's transaction generator)

HISTORY_DAYS = 8
CARDS = 300


@pytest.fixture(scope="module")
def trained(broker, tmp_path_factory):
    """History in the topic, the example's train.sql run on it by `mlsql run`."""
    bootstrap, port, _ = broker
    root = tmp_path_factory.mktemp("pipeline")
    stream = producer.TransactionStream(CARDS, seed=11)
    events = iter(stream)
    history = producer.produce(bootstrap, "transactions", events,
                               until=stream.clock + timedelta(days=HISTORY_DAYS))
    sql = example_sql(root / "sql", port, {"WHERE probability > 0.9": "WHERE probability >= 0"})
    registry = root / "registry"
    train = run_mlsql("run", "--registry", str(registry), "-i", str(sql / "tables.sql"),
                      "-i", str(sql / "features.sql"), str(sql / "train.sql"))
    assert train.returncode == 0, train.stderr[-3000:]
    assert "fraud_model" in train.stdout and "fraud_trees" in train.stdout
    return {"root": root, "sql": sql, "registry": registry, "events": events,
            "history": history, "bootstrap": bootstrap}


def test_broker_status_and_topics_created_on_first_use(broker):
    bootstrap, port, data = broker
    status = run_mlsql("kafka", "status", "--data", str(data))
    assert status.returncode == 0 and f"127.0.0.1:{port}" in status.stdout
    from confluent_kafka import Producer

    writer = Producer({"bootstrap.servers": bootstrap})
    for i in range(5):
        writer.produce("first_use", json.dumps({"i": i}).encode())
    assert writer.flush(30) == 0
    assert [r["i"] for r in read_json(bootstrap, "first_use", until=lambda r: len(r) == 5,
                                      timeout=30)] == list(range(5))


def test_status_of_a_stopped_broker(tmp_path):
    status = run_mlsql("kafka", "status", "--data", str(tmp_path))
    assert status.returncode == 3 and "not running" in status.stdout


def test_a_broker_that_is_down_is_reported_before_a_job_starts(tmp_path):
    port = free_port()  # nothing listens here
    session = mlsql.Session(registry=tmp_path / "registry")
    session.sql(f"CREATE TABLE t (x DOUBLE) WITH ('connector' = 'kafka', 'topic' = 't', "
                f"'properties.bootstrap.servers' = '127.0.0.1:{port}', 'format' = 'json');"
                "CREATE VIEW v AS SELECT x * 2 AS y FROM t")
    assert "kafka" in session.runtime.options["pipeline.jars"]
    with pytest.raises(FlinkError, match=rf"no broker answers at 127.0.0.1:{port}.*"
                                         rf"mlsql kafka start --port {port}"):
        session.sql("SELECT y FROM v")


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_a_record_that_does_not_read_is_named_by_partition_and_offset(broker, tmp_path, fmt):
    """Without 'json.ignore-parse-errors' a bad record fails the job: the error names the
    table in the statement and the record's topic, partition and offset."""
    from confluent_kafka import Producer

    bootstrap = broker[0]
    topic = f"bad_records_{fmt}"
    good = ['{"amount": 1.5, "card": "c1"}', '{"amount": 2.5, "card": "c2"}']
    bad = '{"amount": "n/a", "card": "c3"}'
    if fmt == "csv":
        good, bad = ["1.5,c1", "2.5,c2"], "n/a,c3"
    writer = Producer({"bootstrap.servers": bootstrap})
    for value in [*good, bad, *good]:
        writer.produce(topic, value.encode(), partition=0)
    assert writer.flush(30) == 0
    session = mlsql.Session(registry=tmp_path / "registry", mode="batch")
    session.sql(f"CREATE TABLE tx (amount DOUBLE, card STRING, seen AS PROCTIME()) WITH ("
                f"'connector' = 'kafka', 'topic' = '{topic}', 'properties.bootstrap.servers' = "
                f"'{bootstrap}', 'scan.startup.mode' = 'earliest-offset', "
                f"'scan.bounded.mode' = 'latest-offset', 'format' = '{fmt}')")
    with pytest.raises(FlinkError) as caught:
        session.sql("SELECT card,\n  amount FROM tx")
    message = str(caught.value)
    assert message.startswith(f"table tx at line 2, column 15: Kafka topic '{topic}', "
                              "partition 0, offset 2: field amount is 'n/a', which is not "
                              "DOUBLE"), message
    assert "(the topic's first record that does not read; Flink: " in message


def test_the_same_view_trains_and_scores(trained):
    session = mlsql.Session(registry=trained["registry"])
    described = session.sql("DESCRIBE MODEL fraud_model").to_string()
    assert "tx_count_10m" in described and "km_from_previous" in described
    metrics = session.registry.resolve("fraud_model").metadata["metrics"]
    assert metrics["roc_auc"] > 0.9  # the fraud is visible only through the features


BAD_RECORDS = [
    (b"{this is not json", "not a JSON object"),
    (b'{"tx_id": 900000001, "amount": 5.0, "event_time": "2026-10-05T00:00:00.000"}',
     "missing card_id"),
    (b'{"tx_id": 900000002, "card_id": "card-00001", "amount": 5.0}', "missing event_time"),
    (b'{"tx_id": 900000003, "card_id": "card-00001", "amount": "lots",'
     b' "event_time": "2026-10-05T00:00:00.000"}', "amount is not a number"),
]


def _live(bootstrap: str, events, count: int, rate: float, sent: list[dict],
          null_amount_at: int) -> None:
    """Valid live events at `rate`, with the bad records and one NULL amount among them."""
    from confluent_kafka import Producer

    writer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})
    started = time.monotonic()
    for i in range(count):
        event = next(events)
        if i == null_amount_at:
            event["amount"] = None
        if i % (count // len(BAD_RECORDS)) == 7:
            writer.produce("transactions", BAD_RECORDS[i // (count // len(BAD_RECORDS))][0])
        writer.produce("transactions", json.dumps(event).encode())
        sent.append(event)
        delay = started + (i + 1) / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        writer.poll(0)
    assert writer.flush(30) == 0


def test_every_event_is_scored_exactly_once_across_a_crash(trained):
    bootstrap, sql, root = trained["bootstrap"], trained["sql"], trained["root"]
    checkpoint_dir = root / "checkpoints"
    args = ["run", "--registry", str(trained["registry"]), "-D",
            "execution.checkpointing.interval=1 s", "-D",
            f"execution.checkpointing.dir={checkpoint_dir.as_uri()}",
            "-i", str(sql / "tables.sql"), "-i", str(sql / "features.sql"),
            str(sql / "score.sql")]
    first_log = root / "score-1.log"
    scorer = mlsql_background(*args, log=first_log)
    try:
        wait_for(lambda: checkpoints(checkpoint_dir), 180, "the first checkpoint", scorer,
                 first_log)
        live: list[dict] = []
        writer = threading.Thread(target=_live, args=(
            bootstrap, trained["events"], 4000, 250.0, live, 1234))
        writer.start()
        wait_for(lambda: len(live) > 1500 and checkpoints(checkpoint_dir)[-1:] >= [4], 120,
                 "live events and checkpoints", scorer, first_log)
        kill_group(scorer)  # the client, its mini-cluster and its open Kafka transactions
        before_restore = len(read_json(bootstrap, "alerts", timeout=5))
        second_log = root / "score-2.log"
        scorer = mlsql_background(*args[:-1], "--resume-from", str(checkpoint_dir),
                                  args[-1], log=second_log)
        writer.join()
        expected = trained["history"] + len(live)
        alerts = read_json(bootstrap, "alerts", until=lambda r: len(r) >= expected,
                           timeout=240)
        assert scorer.poll() is None, second_log.read_text()[-3000:]
        assert "resuming from" in second_log.read_text()
        # Read while the job runs: its dead-letter sink commits at its own pace.
        dead = read_json(bootstrap, "transactions_dead_letter",
                         until=lambda r: len(r) >= len(BAD_RECORDS), timeout=60)
    finally:
        kill_group(scorer)

    scored = pd.DataFrame(alerts)
    print(f"{expected} events; {before_restore} alerts visible when the job was killed; "
          f"{len(scored)} after the restore; "
          f"{len(read_json(bootstrap, 'alerts', timeout=5, committed=False))} records in "
          "the topic including aborted transactions")
    duplicated = scored[scored.duplicated("tx_id", keep=False)]
    assert duplicated.empty, f"scored twice: {duplicated.head()}"
    live_ids = {e["tx_id"] for e in live}
    missing = sorted(live_ids - set(scored["tx_id"]))
    assert not missing, f"not scored: {missing[:10]}"
    assert len(scored) == expected
    assert 0 < before_restore < expected
    assert (scored["model_name"] == "fraud_model").all()
    assert (scored["model_version"] == 1).all()
    null_amount = live[1234]["tx_id"]
    assert scored.set_index("tx_id").loc[null_amount, "probability"] >= 0  # imputed, scored

    assert sorted(d["reason"] for d in dead) == sorted(r for _, r in BAD_RECORDS)
    assert {d["payload"].encode() for d in dead} == {p for p, _ in BAD_RECORDS}

    # The same events, scored by a bounded ML_PREDICT over the same view.
    session = mlsql.Session(registry=trained["registry"])
    session.sql((sql / "tables.sql").read_text())
    session.sql((sql / "features.sql").read_text())
    session.sql("ALTER TABLE transactions SET ('scan.bounded.mode' = 'latest-offset')")
    bounded = session.sql("SELECT tx_id, probability FROM "
                          "ML_PREDICT(TABLE features, MODEL fraud_model)")
    merged = scored.merge(bounded, on="tx_id", suffixes=("_stream", "_bounded"))
    assert len(merged) == expected
    assert (merged["probability_stream"] - merged["probability_bounded"]).abs().max() < 1e-9


def test_the_streaming_demo_runs_end_to_end():
    """The README's streaming command, with less data and a broker port of its own."""
    port = free_port()
    demo = subprocess.run(
        [sys.executable, str(EXAMPLE / "run.py"), "--port", str(port), "--cards", "300",
         "--history-days", "6", "--seconds", "5", "--rate", "500"],
        capture_output=True, text=True, timeout=600, env=subprocess_env())
    assert demo.returncode == 0, demo.stderr[-3000:]
    alerts = [line for line in demo.stdout.splitlines() if line.strip().startswith("ALERT")]
    assert alerts and all("fraud_model$1" in line for line in alerts), demo.stdout[-2000:]
    assert "alerts over the history and the live stream" in demo.stderr
    # It says that it stops and how long that took, and it stopped the broker.
    assert re.search(r"stopped in [\d.]+ s \(the jobs [\d.]+ s, the broker [\d.]+ s\)",
                     demo.stderr), demo.stderr[-2000:]
    assert not LocalKafka(str(EXAMPLE / "data" / "kafka")).status().running
    # No noise: librdkafka's startup retries, Java traces of a closed class loader.
    assert "Coordinator load in progress" not in demo.stderr
    assert "closed classloader" not in demo.stderr + demo.stdout

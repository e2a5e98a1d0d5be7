"""The streaming fraud pipeline end to end: Kafka -> Flink features -> ML_PREDICT -> Kafka.

1. start a local Kafka broker (`mlsql kafka start`, fresh data under data/kafka),
2. write 30 simulated days of raw transactions to the `transactions` topic (producer.py),
3. `mlsql run -i tables.sql -i features.sql train.sql`: train on that history through the
   feature view,
4. `mlsql run -i tables.sql -i features.sql score.sql` in the background: score every
   transaction, alerts to the `alerts` topic exactly once (checkpoints every 2 s),
5. write live transactions at `--rate` events/s for `--seconds`,
6. read the alerts back (read_committed), print the last ones and the counts, stop
   everything.

With --online, step 3 is followed by `mlsql run ... online.sql` in the background: the model
`fraud_online` keeps learning from the stream (a version per day of event time, warm-started
from fraud_model), and step 4 scores with it, picking up each new version as it is published.

    python examples/fraud/streaming/run.py [--rate 1000] [--seconds 30] [--port 9092] [--online]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
SQL_FILES = ("tables.sql", "features.sql", "train.sql", "score.sql", "online.sql")
DEFAULT_ADDRESS = "127.0.0.1:9092"


def sql_for_port(port: int, online: bool = False) -> Path:
    """The example's SQL files, with the broker address changed when --port is not 9092 (and
    score.sql scoring with fraud_online, for --online)."""
    target = DATA / "sql"
    target.mkdir(parents=True, exist_ok=True)
    for name in SQL_FILES:
        text = (HERE / name).read_text().replace(DEFAULT_ADDRESS, f"127.0.0.1:{port}")
        if online and name == "score.sql":
            text = text.replace("fraud_model", "fraud_online")
        (target / name).write_text(text)
    return target


def await_first_version(registry: Path, model: str, job: subprocess.Popen,
                        timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not list((registry / model).glob("v*/metadata.json")):
        if job.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"{model} was not published; see the messages above")
        time.sleep(0.5)


def mlsql(*args: str, background: bool = False) -> subprocess.Popen | int:
    command = [sys.executable, "-m", "mlsql", *args]
    env = {k: v for k, v in os.environ.items() if k != "PYFLINK_GATEWAY_DISABLED"}
    if background:
        return subprocess.Popen(command, env=env, start_new_session=True)
    return subprocess.run(command, env=env).returncode


def stop_all(jobs: list[subprocess.Popen], grace: float = 10) -> None:
    """Stop the background `mlsql run`s and the broker, saying so and how long it took."""
    started = time.monotonic()
    print(f"stopping {len(jobs)} job(s) and the broker ...", file=sys.stderr, flush=True)
    for job in jobs:  # all at once: each cancels its Flink job on Ctrl-C
        if job.poll() is None:
            os.killpg(job.pid, signal.SIGINT)
    deadline = time.monotonic() + grace
    for job in jobs:
        try:
            job.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:  # the job's state is checkpointed: no loss
            os.killpg(job.pid, signal.SIGKILL)
            job.wait()
    jobs_stopped = time.monotonic()
    from mlsql.services.kafka import LocalKafka

    LocalKafka(str(DATA / "kafka")).stop()
    print(f"stopped in {time.monotonic() - started:.1f} s (the jobs "
          f"{jobs_stopped - started:.1f} s, the broker {time.monotonic() - jobs_stopped:.1f} s)",
          file=sys.stderr)


def read_alerts(bootstrap: str, idle_seconds: float = 8.0,
                first_timeout: float = 120.0) -> list[dict]:
    """Every committed alert, read until none has arrived for `idle_seconds` (after the
    first, which may take `first_timeout` while the job works through the history)."""
    from confluent_kafka import Consumer

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"demo-{time.time()}",
                         "auto.offset.reset": "earliest", "isolation.level": "read_committed",
                         "enable.auto.commit": False})
    consumer.subscribe(["alerts"])
    alerts, last = [], time.monotonic() + first_timeout - idle_seconds
    try:
        while time.monotonic() - last < idle_seconds:
            message = consumer.poll(0.5)
            if message is None or message.error():
                continue
            alerts.append(json.loads(message.value()))
            last = time.monotonic()
    finally:
        consumer.close()
    return alerts


def await_first_checkpoint(directory: Path, job: subprocess.Popen,
                           timeout: float = 180) -> None:
    """Wait until the scoring job runs: its first checkpoint is complete."""
    deadline = time.monotonic() + timeout
    while not list(directory.glob("*/chk-*/_metadata")):
        if job.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("the scoring job did not start; see its messages above")
        time.sleep(0.5)


def run(args: argparse.Namespace) -> int:
    started = time.monotonic()
    registry = ["--registry", str(DATA / "registry")]
    broker_args = ["--data", str(DATA / "kafka")]
    shutil.rmtree(DATA, ignore_errors=True)  # a fresh broker and registry each run
    print(f"models of this example: {DATA / 'registry'}", file=sys.stderr)
    sql = sql_for_port(args.port, args.online)
    bootstrap = f"127.0.0.1:{args.port}"
    if mlsql("kafka", "start", "--port", str(args.port), *broker_args) != 0:
        return 1
    scorer = learner = None
    try:
        import producer

        producer.main(["--bootstrap-servers", bootstrap, "--history-days",
                       str(args.history_days), "--cards", str(args.cards),
                       "--state", str(DATA / "producer-state.json")])
        step = time.monotonic()
        if mlsql("run", *registry, "-i", str(sql / "tables.sql"), "-i",
                 str(sql / "features.sql"), str(sql / "train.sql")) != 0:
            return 1
        print(f"training took {time.monotonic() - step:.1f} s", file=sys.stderr)

        if args.online:
            learner = mlsql("run", *registry, "-D", "execution.checkpointing.dir="
                            f"{(DATA / 'online-checkpoints').as_uri()}",
                            "-i", str(sql / "tables.sql"), "-i", str(sql / "features.sql"),
                            str(sql / "online.sql"), background=True)
            await_first_version(DATA / "registry", "fraud_online", learner)
        checkpoints = DATA / "checkpoints"
        scorer = mlsql("run", *registry, "-D",
                       f"execution.checkpointing.dir={checkpoints.as_uri()}",
                       "-i", str(sql / "tables.sql"), "-i", str(sql / "features.sql"),
                       str(sql / "score.sql"), background=True)
        await_first_checkpoint(checkpoints, scorer)
        producer.main(["--bootstrap-servers", bootstrap, "--rate", str(args.rate),
                       "--seconds", str(args.seconds), "--resume", "--cards", str(args.cards),
                       "--state", str(DATA / "producer-state.json")])
        alerts = read_alerts(bootstrap)
        print("\nthe last alerts (topic 'alerts', read_committed):")
        for alert in alerts[-10:]:
            print(f"  ALERT tx {alert['tx_id']:>7} card {alert['card_id']} amount "
                  f"{alert['amount']:>9.2f} p={alert['probability']:.3f} "
                  f"{alert['model_name']}${alert['model_version']}: {alert['reason']}")
        by_model = sum("fraud_model p=" in (a["reason"] or "") for a in alerts)
        by_amount = sum("x the card's median" in (a["reason"] or "") for a in alerts)
        print(f"\n{len(alerts):,} alerts over the history and the live stream ({by_model:,} "
              f"from the model, {by_amount:,} from the card's unusual amounts, "
              f"{by_model + by_amount - len(alerts):,} from both); the whole demo took "
              f"{time.monotonic() - started:.0f} s", file=sys.stderr)
        if args.online:
            versions = sorted({a["model_version"] for a in alerts})
            published = len(list((DATA / "registry" / "fraud_online").glob("v*")))
            print(f"fraud_online: {published} versions published; alerts scored by versions "
                  f"{', '.join(map(str, versions))}", file=sys.stderr)
        return 0 if alerts else 1
    finally:
        stop_all([job for job in (scorer, learner) if job is not None])


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=1000, help="live events per second")
    parser.add_argument("--seconds", type=float, default=30, help="live duration")
    parser.add_argument("--port", type=int, default=9092, help="the broker's port")
    parser.add_argument("--history-days", type=float, default=30,
                        help="simulated days of history to train on")
    parser.add_argument("--cards", type=int, default=2000)
    parser.add_argument("--online", action="store_true",
                        help="score with fraud_online, which keeps learning from the stream")
    sys.exit(run(parser.parse_args()))

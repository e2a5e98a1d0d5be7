"""A fraud model that watches itself: quality from late labels, drift, and retraining that
triggers itself, on a real Kafka broker, in accelerated event time.

1. start a local Kafka broker, train fraud_model version 1 on 30 days before the change;
2. `mlsql run monitor.sql` in the background: score every transaction (hot swap), the quality
   of each day's predictions once their labels are in (ML_EVALUATE_DELAYED, 30-day bound),
   each day's drift against the training rows (ML_VALIDATE_DATA_SKEW per window);
3. `mlsql retrain retrain.sql` in the background: the policy (recall < 0.5 AND DRIFT) checked
   every few seconds; it trains, gates and promotes;
4. write transactions and labels (1-30 days after each transaction) as they happen, one day
   of event time every --day-seconds; the fraud pattern changes on day --change-day;
5. print the timeline in event time and wall time, and the figures.

    python examples/fraud/monitoring/run.py [--days 250] [--day-seconds 1] [--port 9092]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / "data" / "monitoring"
sys.path.insert(0, str(HERE))

from transactions import START, labels, transactions  # noqa: E402

TOPICS = ("quality", "drift", "scored")
ALL_TOPICS = ("transactions", "labels", *TOPICS)


@dataclass
class Clock:
    """Event time as the producer has written it, against wall time since the start."""

    started: float = field(default_factory=time.time)
    event_day: float = 0.0

    def wall(self, at: float | None = None) -> float:
        return (time.time() if at is None else at) - self.started

    def stamp(self) -> str:
        return f"[wall {self.wall():6.1f} s | day {self.event_day:5.1f}]"


@dataclass
class Watch:
    """What the topics said, as it arrived (wall seconds, event day)."""

    drift_flag: tuple[float, float, dict] | None = None
    quality_fell: tuple[float, float, dict] | None = None
    recovered: tuple[float, float, dict] | None = None
    first_new_version: tuple[float, float, dict] | None = None
    quality_rows: list[dict] = field(default_factory=list)


def day_of(timestamp: str) -> float:
    return (pd.Timestamp(timestamp) - START) / pd.Timedelta(days=1)


def mlsql(*args: str, log: Path | None = None) -> subprocess.Popen | int:
    command = [sys.executable, "-m", "mlsql", *args]
    if log is None:
        return subprocess.run(command).returncode
    with log.open("w") as out:
        return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)


def produce(bootstrap: str, events: pd.DataFrame, clock: Clock, day_seconds: float,
            stop: threading.Event) -> None:
    """Send each record when its event time comes (one day per `day_seconds`)."""
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})
    begun = time.monotonic()
    for day, topic, payload in zip(events["day"], events["topic"], events["payload"],
                                   strict=True):
        wait = begun + day * day_seconds - time.monotonic()
        if wait > 0:
            producer.flush()
            if stop.wait(wait):
                break
        producer.produce(topic, payload)
        producer.poll(0)
        clock.event_day = day
    producer.flush()


def watch(bootstrap: str, clock: Clock, change_day: float, watched: Watch,
          stop: threading.Event, recovered: threading.Event) -> None:
    """Read quality, drift and scored as they come; print the moments that matter."""
    from confluent_kafka import Consumer

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"watch-{time.time()}",
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.subscribe(list(TOPICS))
    try:
        while not stop.is_set():
            message = consumer.poll(0.2)
            if message is None or message.error():
                continue
            row = json.loads(message.value())
            moment = (clock.wall(), clock.event_day, row)
            topic = message.topic()
            if topic == "drift" and row["is_anomaly"] and watched.drift_flag is None \
                    and day_of(row["window_start"]) >= change_day:
                watched.drift_flag = moment
                print(f"{clock.stamp()} drift flagged for day {day_of(row['window_start']):.0f}:"
                      f" {row['input']} {row['metric']} = {row['value']:.3f} (threshold "
                      f"{row['threshold']:g})", flush=True)
            elif topic == "quality":
                watched.quality_rows.append(row)
                _quality(row, moment, clock, change_day, watched, recovered)
            elif topic == "scored" and row["model_version"] != 1 \
                    and watched.first_new_version is None:
                watched.first_new_version = moment
                print(f"{clock.stamp()} version {row['model_version']} scores its first "
                      f"transaction (tx {row['tx_id']}, day {day_of(row['event_time']):.1f})",
                      flush=True)
    finally:
        consumer.close()


def _quality(row: dict, moment: tuple, clock: Clock, change_day: float,
             watched: Watch, stop: threading.Event) -> None:
    day = day_of(row["window_start"])
    recall = row["recall"]
    counts = (f"{row['labelled']} labelled, {row['late_labels']} late, "
              f"{row['unlabelled']} never")
    if row["model_version"] == 1 and day >= change_day and recall is not None \
            and recall < 0.5 and watched.quality_fell is None:
        watched.quality_fell = moment
        print(f"{clock.stamp()} quality fell: day {day:.0f}'s recall {recall:.2f} "
              f"(version 1; {counts})", flush=True)
    elif row["model_version"] != 1 and recall is not None and recall >= 0.5 \
            and watched.recovered is None:
        watched.recovered = moment
        stop.set()  # the story is told: the stream may end
        print(f"{clock.stamp()} quality recovered: day {day:.0f}'s recall {recall:.2f} "
              f"(version {row['model_version']}; {counts})", flush=True)


def events_by_time(days: float, per_day: int, change_day: float) -> pd.DataFrame:
    """Transactions and labels of the live stream as (day, topic, JSON) in event-time order."""
    tx = transactions(days, per_day, change_day, seed=2, first_id=1_000_000)
    label_rows = labels(tx, seed=3)
    label_rows = label_rows[label_rows["labelled_at"] < tx["event_time"].max()]

    def records(frame: pd.DataFrame, time_column: str, topic: str) -> pd.DataFrame:
        out = frame.copy()
        out[time_column] = out[time_column].dt.strftime("%Y-%m-%dT%H:%M:%S.%f").str[:-3]
        payload = out.drop(columns=["is_fraud"]) if topic == "transactions" else out
        return pd.DataFrame({"day": (frame[time_column] - START) / pd.Timedelta(days=1),
                             "topic": topic,
                             "payload": [json.dumps(r) for r in
                                         payload.to_dict("records")]})

    merged = pd.concat([records(tx, "event_time", "transactions"),
                        records(label_rows, "labelled_at", "labels")])
    return merged.sort_values("day", kind="stable", ignore_index=True)


def stop_all(jobs: list[subprocess.Popen]) -> None:
    for job in jobs:
        if job.poll() is None:
            os.killpg(job.pid, signal.SIGINT)
    for job in jobs:
        try:
            job.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(job.pid, signal.SIGKILL)
            job.wait()


def run(args: argparse.Namespace) -> int:
    shutil.rmtree(DATA, ignore_errors=True)
    DATA.mkdir(parents=True)
    registry, bootstrap = DATA / "registry", f"127.0.0.1:{args.port}"
    print(f"models of this example: {registry}; logs: {DATA}", file=sys.stderr)
    history = transactions(30, args.per_day, args.change_day, seed=1,
                           start=START - pd.Timedelta(days=30))
    history.to_csv(DATA / "history.csv", index=False, header=False,
                   date_format="%Y-%m-%d %H:%M:%S.%f")
    live = events_by_time(args.days, args.per_day, args.change_day)
    variables = ["--var", f"bootstrap={bootstrap}", "--var", f"data={DATA}"]
    if mlsql("kafka", "start", "--port", str(args.port), "--data", str(DATA / "kafka")) != 0:
        return 1
    jobs: list[subprocess.Popen] = []
    stop = threading.Event()
    try:
        create_topics(bootstrap)
        if mlsql("run", "--registry", str(registry), *variables,
                 str(HERE / "train.sql")) != 0:
            return 1
        stream_vars = [*variables, "--var", "mode=stream"]
        jobs.append(mlsql("run", "--registry", str(registry), *stream_vars, "-D",
                          "execution.checkpointing.interval=5 s", "-D",
                          f"execution.checkpointing.dir={(DATA / 'checkpoints').as_uri()}",
                          "-i", str(HERE / "tables.sql"), str(HERE / "monitor.sql"),
                          log=DATA / "monitor.log"))
        await_running(DATA / "checkpoints", jobs[0])
        jobs.append(mlsql("retrain", "--registry", str(registry), *variables, "--var",
                          "mode=bounded", "--interval", args.check_interval,
                          "-i", str(HERE / "tables.sql"), str(HERE / "retrain.sql"),
                          log=DATA / "retrain.log"))
        await_line(DATA / "retrain.log", "checking fraud_model", jobs[1])
        clock, watched = Clock(), Watch()
        print(f"{clock.stamp()} live stream: {args.per_day:,} transactions a day, one day "
              f"every {args.day_seconds:g} s; the fraud pattern changes on day "
              f"{args.change_day:g}", flush=True)
        recovered = threading.Event()  # set by the reader: the producer stops
        reader = threading.Thread(target=watch, args=(bootstrap, clock, args.change_day,
                                                      watched, stop, recovered), daemon=True)
        reader.start()
        service_log = threading.Thread(target=follow, args=(registry, clock, stop),
                                       daemon=True)
        service_log.start()
        produce(bootstrap, live, clock, args.day_seconds, recovered)
        if not recovered.is_set():
            time.sleep(5)  # the last rows in flight
        stop.set()
        reader.join(5)
        return summary(watched, registry, args.change_day, clock)
    finally:
        stop.set()
        began = time.monotonic()
        print(f"stopping {len(jobs)} process(es) and the broker ...", file=sys.stderr,
              flush=True)
        stop_all(jobs)
        from mlsql.services.kafka import LocalKafka

        LocalKafka(str(DATA / "kafka")).stop()
        print(f"stopped in {time.monotonic() - began:.1f} s", file=sys.stderr)


def create_topics(bootstrap: str) -> None:
    """One partition each, before any job reads them (a Kafka source fails on a topic that
    does not exist yet)."""
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.create_topics([NewTopic(t, 1, 1) for t in ALL_TOPICS]).values():
        future.result(30)


def await_running(checkpoints: Path, job: subprocess.Popen, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while not list(checkpoints.glob("*/chk-*/_metadata")):
        if job.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the monitoring jobs did not start; see {DATA / 'monitor.log'}")
        time.sleep(0.5)


def await_line(log: Path, text: str, job: subprocess.Popen, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while not (log.exists() and text in log.read_text()):
        if job.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the retraining service did not start; see {log}")
        time.sleep(0.5)


def follow(registry: Path, clock: Clock, stop: threading.Event) -> None:
    """Print the service's events as it records them, at the wall time each happened."""
    from mlsql.monitoring import events

    seen = 0
    while not stop.is_set():
        recorded = events.read(registry / "fraud_model")
        for event in recorded[seen:]:
            wall = clock.wall(pd.Timestamp(event.time).timestamp())
            versions = f"v{event.serving_version}" + (
                f" -> v{event.candidate_version}" if event.candidate_version else "")
            print(f"[wall {wall:6.1f} s | day {clock.event_day:5.1f}] service: {event.event} "
                  f"{versions}: {event.reason}", flush=True)
        seen = len(recorded)
        stop.wait(0.2)


def summary(watched: Watch, registry: Path, change_day: float, clock: Clock) -> int:
    from mlsql.monitoring import events

    recorded = events.read(registry / "fraud_model")
    print("\nfigures:")
    for what, moment, column, bound in (
            ("drift flagged", watched.drift_flag, "window_end", ""),
            ("quality fell", watched.quality_fell, "window_end",
             " + the 30-day label bound + a day for late labels")):
        if moment:
            emitted = day_of(moment[2][column]) + (31 if "quality" in what else 0)
            print(f"  {what}: the window ending {day_of(moment[2][column]) - change_day:.0f} "
                  f"day(s) after the change{bound}, in event time; the stream was "
                  f"{moment[1] - emitted:.1f} days past that when it reached the topic")
    triggered = next((e for e in recorded if e.event == "triggered"), None)
    promoted = next((e for e in recorded if e.event == "promoted"), None)
    if triggered and promoted and watched.first_new_version:
        at = clock.wall(pd.Timestamp(triggered.time).timestamp())
        print(f"  trigger to serving: {watched.first_new_version[0] - at:.1f} s of wall time "
              f"(promoted after {clock.wall(pd.Timestamp(promoted.time).timestamp()) - at:.1f}"
              " s; the running job's first row by the new version after that)")
    print(f"  service events: {', '.join(e.event for e in recorded) or 'none'} "
          "(ML_RETRAINING_EVENTS(MODEL fraud_model) lists them)")
    return 0 if promoted and watched.first_new_version and watched.recovered else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=float, default=250,
                        help="days of live event time at most (the stream ends once quality "
                             "has recovered)")
    parser.add_argument("--change-day", type=float, default=5,
                        help="the day the fraud pattern changes")
    parser.add_argument("--day-seconds", type=float, default=1.0,
                        help="wall seconds per day of event time")
    parser.add_argument("--per-day", type=int, default=200, help="transactions per day")
    parser.add_argument("--check-interval", default="3 s", help="the service's --interval")
    parser.add_argument("--port", type=int, default=9092, help="the broker's port")
    sys.exit(run(parser.parse_args()))

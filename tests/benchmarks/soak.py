"""A long run of the streaming fraud demo: memory, consumer lag and exactly-once over time.

    python tests/benchmarks/soak.py [--minutes 30] [--rate 2000] [--swap-every 60]
        [--history-days 3] [--out docs/soak.png]

What runs is the demo's (examples/fraud/streaming/run.py --online, less its printing): a
broker of its own (LocalKafka on a free port, in a temporary directory); train.sql run twice
on --history-days of history, so `fraud_model` has versions 1 and 2; then two `mlsql run`
processes on their mini-clusters, as the demo starts them: score.sql (every transaction
scored by the unpinned fraud_model, alerts to Kafka exactly once, checkpoints every 2 s;
its threshold lowered so that every transaction gets an alert and none can be lost unseen)
and online.sql (fraud_online learning from the same stream, a version per day of event
time). Live transactions follow at --rate events/s for --minutes, and every --swap-every
seconds the serving version of fraud_model flips between 1 and 2 (ALTER MODEL ... SET
default_version, as the registry API does it), which the scoring job picks up without a
restart.

Every 10 s it samples: the resident memory of each job's JVM (its mini-cluster), the JVM's
heap in use (old generation and survivors, `jstat -gc`), the resident memory of its Python
workers, the scoring job's consumer lag (the transactions topic's end offsets minus the
offsets Flink commits for the job's group at each checkpoint), and the alerts read so far
(read_committed). At the end: memory growth (the last five minutes against the five after
--warm-up minutes: medians of resident memory; for the heap, the minimum, its level after
collections: resident memory also grows while G1 commits heap toward its maximum, a quarter
of the machine's memory by default, and keeps it), the lag's median, maximum and last value, and
exactly-once (every transaction's alert present, none twice), the versions that scored, the
online versions published; the figures are drawn over time into --out.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from common import free_port, load

from mlsql.models.registry import Registry
from mlsql.services.kafka import LocalKafka

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "fraud" / "streaming"
sys.path.insert(0, str(EXAMPLE))
import producer  # noqa: E402  (the example's transaction generator)

EXAMPLE_ADDRESS = "127.0.0.1:9092"
SAMPLE_SECONDS = 10.0
GROUP = "mlsql-fraud"  # tables.sql's group for the scoring job's source
DEFAULT_OUT = REPO / "docs" / "soak.png"


@dataclass
class Sample:
    seconds: float
    memory_mib: dict[str, float]  # "scoring JVM", "scoring Python", "online JVM", ...
    lag: int
    alerts: int


@dataclass
class Alerts:
    """The alerts topic read with read_committed in a thread: counts per tx_id, versions."""

    bootstrap: str
    seen: dict[int, int] = field(default_factory=dict)
    versions: dict[int, int] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)

    def start(self) -> None:
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        from confluent_kafka import Consumer

        reader = Consumer({"bootstrap.servers": self.bootstrap, "group.id": "soak-alerts",
                           "auto.offset.reset": "earliest", "enable.auto.commit": False,
                           "isolation.level": "read_committed"})
        reader.subscribe(["alerts"])
        while not self._stop.is_set():
            for message in reader.consume(1000, timeout=0.5):
                if message.error():
                    continue
                alert = json.loads(message.value())
                self.seen[alert["tx_id"]] = self.seen.get(alert["tx_id"], 0) + 1
                version = alert["model_version"]
                self.versions[version] = self.versions.get(version, 0) + 1
        reader.close()

    def stop(self) -> None:
        self._stop.set()


@dataclass
class Newest:
    """The live transactions at the newest event time sent: the feature view's event-time
    windows emit them only once a later event moves the watermark past them."""

    time: str = ""
    ids: set[int] = field(default_factory=set)

    def see(self, event: dict) -> None:
        if event["event_time"] > self.time:
            self.time, self.ids = event["event_time"], set()
        self.ids.add(event["tx_id"])


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(stat.parent.name))
    found, todo = [], list(children.get(pid, []))
    while todo:
        child = todo.pop()
        found.append(child)
        todo += children.get(child, [])
    return found


def rss_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def heap_used_mib(pid: int) -> float:
    """The JVM's old generation and survivors in use (jstat -gc): its troughs, after each
    mixed collection, are the live data a leak would grow."""
    try:
        header, values = subprocess.run(["jstat", "-gc", str(pid)], capture_output=True,
                                        text=True, timeout=20).stdout.splitlines()[:2]
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return 0.0
    gc = dict(zip(header.split(), map(float, values.split()), strict=False))
    return (gc.get("OU", 0.0) + gc.get("S0U", 0.0) + gc.get("S1U", 0.0)) / 1024


def memory(jobs: dict[str, subprocess.Popen]) -> dict[str, float]:
    """Each job's JVM (its mini-cluster: resident, and its heap in use) and Python workers,
    in MiB."""
    figures = {}
    for name, job in jobs.items():
        jvm = heap = workers = 0.0
        for pid in descendants(job.pid):
            try:
                command = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if b"java" in command.split(b"\0")[0]:
                jvm += rss_mib(pid)
                heap += heap_used_mib(pid)
            elif b"pyflink" in command or b"beam_boot" in command:
                workers += rss_mib(pid)
        figures[f"{name} JVM"] = jvm
        figures[f"{name} JVM heap"] = heap
        figures[f"{name} Python"] = workers
    return figures


def lag(bootstrap: str) -> int:
    from confluent_kafka import Consumer, TopicPartition

    client = Consumer({"bootstrap.servers": bootstrap, "group.id": GROUP,
                       "enable.auto.commit": False})
    try:
        partitions = client.list_topics("transactions", timeout=10).topics["transactions"]
        wanted = [TopicPartition("transactions", p) for p in partitions.partitions]
        behind = 0
        for committed in client.committed(wanted, timeout=10):
            end = client.get_watermark_offsets(committed, timeout=10)[1]
            behind += end - max(committed.offset, 0)
        return behind
    finally:
        client.close()


def mlsql(*args: str, log: Path | None = None) -> subprocess.Popen:
    command = [sys.executable, "-m", "mlsql", *args]
    out = log.open("w") if log else subprocess.DEVNULL
    return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT,
                            start_new_session=True)


def finished(job: subprocess.Popen, what: str) -> None:
    if job.wait() != 0:
        raise SystemExit(f"{what} failed (exit {job.returncode})")


def stop(jobs: dict[str, subprocess.Popen]) -> None:
    for job in jobs.values():
        if job.poll() is None:
            os.killpg(job.pid, signal.SIGINT)
    for job in jobs.values():
        try:
            job.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(job.pid, signal.SIGKILL)


def growth(samples: list[Sample], key: str, warm_up: float) -> tuple[float, float, float]:
    """(baseline MiB, end MiB, growth): the five minutes after the warm-up against the last
    five; medians, and for a heap the minimum (its level after collections)."""
    after = [s for s in samples if s.seconds >= warm_up]
    window = max(1, int(300 / SAMPLE_SECONDS))
    level = min if key.endswith("heap") else statistics.median
    first = level(s.memory_mib[key] for s in after[:window])
    last = level(s.memory_mib[key] for s in after[-window:])
    return first, last, last / first - 1 if first else float("nan")


def draw(samples: list[Sample], swaps: list[float], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    minutes = [s.seconds / 60 for s in samples]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 6), sharex=True)
    for key in samples[0].memory_mib:
        top.plot(minutes, [s.memory_mib[key] for s in samples], label=key)
    top.set_ylabel("resident memory, MiB")
    top.legend(fontsize=8, ncol=2)
    bottom.plot(minutes, [s.lag for s in samples], color="tab:red")
    for swap in swaps:
        bottom.axvline(swap / 60, color="grey", alpha=0.2, linewidth=0.8)
    bottom.set_ylabel("consumer lag, records")
    bottom.set_xlabel("minutes (grey: a hot swap)")
    fig.suptitle("streaming demo soak: memory and lag")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)


def run(args: argparse.Namespace) -> int:
    root = Path(tempfile.mkdtemp(prefix="mlsql-soak-"))
    port = free_port(19_092)
    broker = LocalKafka(str(root / "kafka"))
    broker.start(port=port)
    bootstrap = f"127.0.0.1:{port}"
    sql = root / "sql"
    sql.mkdir()
    for name in ("tables.sql", "features.sql", "train.sql", "score.sql", "online.sql"):
        text = (EXAMPLE / name).read_text().replace(EXAMPLE_ADDRESS, bootstrap)
        (sql / name).write_text(text.replace("WHERE probability > 0.9 OR",
                                             "WHERE probability >= 0 OR"))
    registry = root / "registry"
    common = ["--registry", str(registry), "-i", str(sql / "tables.sql"),
              "-i", str(sql / "features.sql")]
    jobs: dict[str, subprocess.Popen] = {}
    alerts = Alerts(bootstrap)
    try:
        stream = producer.TransactionStream()
        events = iter(stream)
        history = producer.produce(bootstrap, "transactions", events,
                                   until=stream.clock + timedelta(days=args.history_days))
        for attempt in (1, 2):  # fraud_model versions 1 and 2
            finished(mlsql("run", *common, str(sql / "train.sql"),
                           log=root / f"train-{attempt}.log"), f"training {attempt}")
        print(f"history: {history:,} transactions; fraud_model versions 1 and 2 trained",
              flush=True)
        jobs["scoring"] = mlsql("run", *common, "-D", "execution.checkpointing.dir="
                                f"{(root / 'checkpoints').as_uri()}", str(sql / "score.sql"),
                                log=root / "score.log")
        jobs["online"] = mlsql("run", *common, str(sql / "online.sql"), log=root / "online.log")
        alerts.start()
        sent, newest = [0], Newest()
        live = threading.Thread(target=lambda: sent.__setitem__(0, producer.produce(
            bootstrap, "transactions", events, rate=args.rate,
            count=int(args.rate * args.minutes * 60), on_send=newest.see)), daemon=True)
        models = Registry(registry)
        started = time.monotonic()
        live.start()
        samples: list[Sample] = []
        swaps: list[float] = []
        version, next_swap = 1, args.swap_every
        while live.is_alive():
            time.sleep(SAMPLE_SECONDS)
            now = time.monotonic() - started
            for name, job in jobs.items():
                if job.poll() is not None:
                    raise SystemExit(f"the {name} job ended (exit {job.returncode}); see "
                                     f"{root / (name[:5] + '.log')}")
            if now >= next_swap:
                version = 3 - version
                models.set_default_version("fraud_model", version)
                swaps.append(now)
                next_swap += args.swap_every
            total = len(alerts.seen)
            samples.append(Sample(now, memory(jobs), lag(bootstrap), total))
            s = samples[-1]
            print(f"{now / 60:5.1f} min  lag {s.lag:7,}  alerts {total:10,}  " + "  ".join(
                f"{k} {v:6,.0f}" for k, v in s.memory_mib.items()) + " MiB", flush=True)
        live.join()
        expected = history + sent[0] - len(newest.ids)  # those wait for a later event
        deadline = time.monotonic() + 300
        while len(alerts.seen) < expected and time.monotonic() < deadline:
            time.sleep(1)
        drained = time.monotonic() - started - args.minutes * 60
    finally:
        alerts.stop()
        stop(jobs)
        broker.stop()

    missing = max(0, expected - len(alerts.seen))
    twice = sum(1 for count in alerts.seen.values() if count > 1)
    online = len(list((registry / "fraud_online").glob("v*")))
    lags = [s.lag for s in samples]
    print(f"\n{args.minutes} min at {args.rate:,} events/s: {sent[0]:,} live + {history:,} "
          f"history transactions; {len(swaps)} hot swaps; {load()}")
    print(f"alerts: {len(alerts.seen):,} of {expected:,} transactions (the {len(newest.ids)} at "
          f"the newest event time wait for the watermark), {missing:,} missing, "
          f"{twice:,} twice; by version {dict(sorted(alerts.versions.items()))}; the last "
          f"alert {drained:.0f} s after the last event was sent")
    print(f"consumer lag (records): median {statistics.median(lags):,.0f}, max {max(lags):,}, "
          f"last {lags[-1]:,}")
    for key in samples[0].memory_mib:
        first, last, change = growth(samples, key, args.warm_up * 60)
        print(f"{key:>15}: {first:7,.0f} MiB after the warm-up, {last:7,.0f} MiB at the end "
              f"({change:+.1%})")
    print(f"online versions published: {online}")
    draw(samples, swaps, args.out)
    print(f"drawn: {args.out}")
    return 0 if missing == 0 and twice == 0 else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--rate", type=float, default=2000)
    parser.add_argument("--swap-every", type=float, default=60, metavar="SECONDS")
    parser.add_argument("--history-days", type=float, default=3)
    parser.add_argument("--warm-up", type=float, default=3, metavar="MINUTES")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    return run(parser.parse_args())


if __name__ == "__main__":
    sys.exit(main())

"""Write raw card transactions as JSON to a Kafka topic, with fraud hidden in card histories.

Each record is one transaction as a card network would send it — no precomputed features:

    {"tx_id": 17, "card_id": "card-0042", "merchant_id": "m-0311", "category": "grocery",
     "amount": 23.9, "lat": 48.85, "lon": 2.35, "device_id": "dev-0042-0", "online": false,
     "event_time": "2026-11-01T09:14:03.250", "is_fraud": 0}

Fraud is visible only against the card's own history:
  - bursts: a stolen card makes 5-9 online purchases within a few minutes;
  - amounts 8-25x the card's usual, at the card's usual places;
  - impossible travel: a purchase thousands of km from the card's previous one, minutes later.

Time is simulated: 2,000 cards making about 3 purchases a day (6,000 events per simulated
day). `--history-days` writes that many days as fast as the broker takes them; `--rate N
--seconds S` then continues the same timeline, paced at N events per second of wall-clock
time (at 1,000 events/s a simulated day passes every 6 s). The Kafka record's timestamp is
the wall-clock time of sending; `event_time` is the transaction's own time.

    python producer.py --history-days 30                   # backfill, then exit
    python producer.py --rate 1000 --seconds 60 --resume   # live, after the history
"""

from __future__ import annotations

import argparse
import heapq
import json
import logging
import math
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

CITIES = [(48.86, 2.35), (51.51, -0.13), (40.71, -74.01), (35.68, 139.69), (52.52, 13.40),
          (41.90, 12.50), (40.42, -3.70), (37.77, -122.42), (-33.87, 151.21), (55.76, 37.62),
          (19.43, -99.13), (1.35, 103.82), (25.20, 55.27), (-23.55, -46.63), (45.46, 9.19),
          (50.85, 4.35), (59.33, 18.07), (43.65, -79.38), (34.05, -118.24), (28.61, 77.21)]
CATEGORIES = ["grocery", "fuel", "restaurant", "online_retail", "travel", "electronics",
              "pharmacy", "jewelry"]
START = datetime(2026, 10, 1, tzinfo=timezone.utc)
PURCHASES_PER_CARD_DAY = 3.0
FRAUD_RATES = {"burst": 0.0008, "amount": 0.0025, "travel": 0.0025}  # per regular event


@dataclass
class Card:
    card_id: str
    home: tuple[float, float]
    typical_amount: float
    device_id: str
    last_position: tuple[float, float]


class TransactionStream:
    """An endless, deterministic stream of transactions in event-time order."""

    def __init__(self, cards: int = 2000, seed: int = 7) -> None:
        self.rng = np.random.default_rng(seed)
        self.cards = [self._card(i) for i in range(cards)]
        self.events_per_second = cards * PURCHASES_PER_CARD_DAY / 86_400
        self.clock = START
        self.next_tx_id = 0
        self._scheduled: list[tuple[datetime, int, dict]] = []  # burst purchases to come

    def _card(self, i: int) -> Card:
        home = CITIES[int(self.rng.integers(len(CITIES)))]
        home = (home[0] + self.rng.normal(0, 0.05), home[1] + self.rng.normal(0, 0.05))
        return Card(f"card-{i:05d}", home, float(self.rng.lognormal(3.3, 0.6)),
                    f"dev-{i:05d}-0", home)

    def __iter__(self) -> Iterator[dict]:
        while True:
            gap = self.rng.exponential(1 / self.events_per_second)
            upcoming = self.clock + timedelta(seconds=gap)
            while self._scheduled and self._scheduled[0][0] <= upcoming:
                when, _, event = heapq.heappop(self._scheduled)
                self.clock = when
                yield self._emit(event)
            self.clock = upcoming
            yield self._emit(self._regular())

    def _regular(self) -> dict:
        card = self.cards[int(self.rng.integers(len(self.cards)))]
        kind = self.rng.random()
        burst, amount_fraud, travel = (FRAUD_RATES[k] for k in ("burst", "amount", "travel"))
        if kind < burst:
            self._schedule_burst(card)
            return self._purchase(card, fraud=True, category="electronics", online=True,
                                  amount_factor=float(self.rng.uniform(2, 6)), stolen=True)
        if kind < burst + amount_fraud:
            return self._purchase(card, fraud=True, amount_factor=float(
                self.rng.uniform(8, 25)), category=str(self.rng.choice(
                    ["electronics", "jewelry", "travel"])))
        if kind < burst + amount_fraud + travel:
            far = CITIES[int(self.rng.integers(len(CITIES)))]
            if _km(far, card.last_position) < 2000:
                far = (-far[0], far[1] + 120 if far[1] < 60 else far[1] - 120)
            return self._purchase(card, fraud=True, position=far)
        return self._purchase(card, fraud=False)

    def _schedule_burst(self, card: Card) -> None:
        offset = 0.0
        for _ in range(int(self.rng.integers(4, 9))):
            offset += float(self.rng.uniform(10, 60))
            event = self._purchase(card, fraud=True, category=str(self.rng.choice(
                ["electronics", "online_retail"])), online=True, stolen=True,
                amount_factor=float(self.rng.uniform(2, 6)))
            when = self.clock + timedelta(seconds=offset)
            heapq.heappush(self._scheduled, (when, id(event), event))

    def _purchase(self, card: Card, *, fraud: bool, category: str | None = None,
                  online: bool | None = None, amount_factor: float = 1.0,
                  position: tuple[float, float] | None = None, stolen: bool = False) -> dict:
        rng = self.rng
        online = bool(rng.random() < 0.3) if online is None else online
        if position is None:
            position = (card.home if online else
                        (card.home[0] + rng.normal(0, 0.03), card.home[1] + rng.normal(0, 0.03)))
        amount = card.typical_amount * float(rng.lognormal(0, 0.35)) * amount_factor
        return {
            "card": card, "position": position,
            "merchant_id": f"m-{int(rng.integers(5000)):04d}",
            "category": category or str(rng.choice(CATEGORIES[:4] + CATEGORIES[6:7])),
            "amount": round(amount, 2),
            "device_id": f"dev-x{int(rng.integers(10**6)):06d}" if stolen else card.device_id,
            "online": online, "is_fraud": int(fraud),
        }

    def _emit(self, event: dict) -> dict:
        card: Card = event.pop("card")
        position = event.pop("position")
        card.last_position = position
        self.next_tx_id += 1
        return {"tx_id": self.next_tx_id, "card_id": card.card_id, **event,
                "lat": round(position[0], 4), "lon": round(position[1], 4),
                "event_time": self.clock.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]}


def _km(a: tuple[float, float], b: tuple[float, float]) -> float:
    la1, lo1, la2, lo2 = map(math.radians, (*a, *b))
    h = math.sin((la2 - la1) / 2) ** 2 + math.cos(la1) * math.cos(la2) * math.sin(
        (lo2 - lo1) / 2) ** 2
    return 2 * 6371 * math.asin(math.sqrt(h))


class _StartupRetries(logging.Filter):
    """librdkafka's 'Coordinator load in progress: retrying' while a new broker loads its
    transaction state: a retry that always succeeds, not a warning the demo's user can act on."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "load in progress" not in record.getMessage()


def _client_log() -> logging.Logger:
    log = logging.getLogger("fraud.producer.kafka")
    if not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.addFilter(_StartupRetries())
        log.addHandler(handler)
        log.propagate = False
    return log


def produce(bootstrap: str, topic: str, events: Iterator[dict], *, count: int | None = None,
            until: datetime | None = None, rate: float | None = None,
            on_send=None) -> int:
    """Send events until `count` are sent or event time reaches `until`; paced at `rate`
    events/s when given. Returns how many were sent."""
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0 if rate else 20,
                         "enable.idempotence": True, "logger": _client_log()})
    sent, started = 0, time.monotonic()
    for event in events:
        if until is not None and event["event_time"] >= until.strftime("%Y-%m-%dT%H:%M:%S"):
            break
        if rate:
            delay = started + sent / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        producer.produce(topic, json.dumps(event).encode(), key=event["card_id"].encode())
        if on_send:
            on_send(event)
        sent += 1
        if sent % 10_000 == 0:
            producer.poll(0)
        if count is not None and sent >= count:
            break
    remaining = producer.flush(30)
    if remaining:
        raise RuntimeError(f"{remaining} records were not delivered to {bootstrap}")
    return sent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bootstrap-servers", default="127.0.0.1:9092")
    parser.add_argument("--topic", default="transactions")
    parser.add_argument("--cards", type=int, default=2000)
    parser.add_argument("--history-days", type=float, default=0,
                        help="simulated days to write as fast as possible")
    parser.add_argument("--rate", type=float, default=1000, help="live events per second")
    parser.add_argument("--seconds", type=float, default=0, help="live duration")
    parser.add_argument("--state", type=Path, default=Path("data/producer-state.json"),
                        help="where --resume finds how far the history went")
    parser.add_argument("--resume", action="store_true",
                        help="continue the timeline after the events already written")
    args = parser.parse_args(argv)

    stream = TransactionStream(args.cards)
    events = iter(stream)
    already = json.loads(args.state.read_text())["sent"] if args.resume else 0
    for _ in range(already):  # replay the deterministic timeline to where it stopped
        next(events)
    total = already
    if args.history_days:
        until = stream.clock + timedelta(days=args.history_days)
        started = time.monotonic()
        sent = produce(args.bootstrap_servers, args.topic, events, until=until)
        total += sent
        print(f"wrote {sent:,} transactions ({args.history_days:g} simulated days) to "
              f"{args.topic} in {time.monotonic() - started:.1f} s", file=sys.stderr)
    if args.seconds:
        sent = produce(args.bootstrap_servers, args.topic, events,
                       count=int(args.rate * args.seconds), rate=args.rate)
        total += sent
        print(f"wrote {sent:,} live transactions at {args.rate:g}/s to {args.topic}",
              file=sys.stderr)
    args.state.parent.mkdir(parents=True, exist_ok=True)
    args.state.write_text(json.dumps({"sent": total}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

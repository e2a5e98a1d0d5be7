"""What a model's retraining service did and why: one JSON line per event in
<registry>/<model>/retraining.jsonl, listed by ML_RETRAINING_EVENTS(MODEL m).

triggered  the policy's condition held (reason: the terms that held)
deferred   it held, but the last training is more recent than retrain.min_interval
trained    a new version was published (not serving yet unless promoted)
failed     the training failed; the serving version keeps serving (reason: the error)
promoted   the new version beat the serving one on the gate and serves now
refused    it did not; it stays a candidate and the serving version keeps serving
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from udfs.model_store import now_iso

EVENTS_FILE = "retraining.jsonl"
KINDS = ("triggered", "deferred", "trained", "failed", "promoted", "refused")


@dataclass(frozen=True)
class Event:
    event: str  # one of KINDS
    reason: str
    serving_version: int | None = None
    candidate_version: int | None = None
    serving_score: float | None = None  # the gate metric on the gate data
    candidate_score: float | None = None
    evidence: str | None = None  # the windows a trigger read
    time: str = ""  # ISO-8601, UTC; set when appended

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def append(model_dir: Path, event: Event) -> Event:
    """Append one line in one write (O_APPEND), so concurrent writers never interleave."""
    stamped = Event(**{**event.to_json(), "time": event.time or now_iso()})
    line = (json.dumps(stamped.to_json(), sort_keys=True) + "\n").encode()
    descriptor = os.open(model_dir / EVENTS_FILE, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(descriptor, line)
    finally:
        os.close(descriptor)
    return stamped


def utc_text(iso: str) -> str:
    """An event's time as Flink reads a TIMESTAMP(3) literal, in UTC."""
    stamp = dt.datetime.fromisoformat(iso).astimezone(dt.timezone.utc)
    return stamp.strftime("%Y-%m-%d %H:%M:%S.") + f"{stamp.microsecond // 1000:03d}"


def read(model_dir: Path) -> list[Event]:
    path = model_dir / EVENTS_FILE
    if not path.exists():
        return []
    events = []
    for line in path.read_text().splitlines():
        try:
            events.append(Event(**json.loads(line)))
        except (ValueError, TypeError):  # a line cut by a crash mid-write: skip it
            continue
    return events

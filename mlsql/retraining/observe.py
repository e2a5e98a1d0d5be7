"""What the retraining condition judges: the latest window of the quality and drift tables."""

from __future__ import annotations

import time
from typing import Any

import pandas as pd

from mlsql.errors import MlsqlError
from mlsql.models.registry import ModelVersion
from mlsql.monitoring.policy import Observations, Policy
from mlsql.planner.bounded import is_bounded
from mlsql.session import Session


def observe(session: Session, policy: Policy, serving: ModelVersion) -> Observations:
    quality, quality_note = None, "no quality table"
    if policy.quality_table:
        rows = _latest(read_table(session, policy.quality_table, "retrain.quality_table"),
                       serving.version)
        quality = rows[0] if rows else None
        quality_note = f"no quality window of version {serving.version} yet"
    drift: tuple[dict[str, Any], ...] = ()
    if policy.drift_table:
        drift = tuple(_latest(read_table(session, policy.drift_table, "retrain.drift_table"),
                              None))
    return Observations(quality, drift, _age_seconds(serving), quality_note,
                        "no drift window yet")


def read_table(session: Session, source: str, option: str) -> pd.DataFrame:
    """All rows of a bounded table, view or query."""
    query = as_query(source)
    if not is_bounded(session.runtime, query):
        raise MlsqlError(f"{option} {source!r} is unbounded (a stream); the service reads it "
                         "as a bounded table: give the Kafka table 'scan.bounded.mode' = "
                         "'latest-offset', or write the rows to a filesystem table")
    frame = session.sql(query)
    assert isinstance(frame, pd.DataFrame)
    return frame


def as_query(source: str) -> str:
    """A table or view name as a query; a query as written."""
    words = source.lstrip("( \n").split(None, 1)
    return source if words and words[0].upper() in ("SELECT", "WITH", "VALUES") \
        else f"SELECT * FROM {source}"


def _latest(frame: pd.DataFrame, version: int | None) -> list[dict[str, Any]]:
    """The rows of the latest window (of `version`, when the table has a model_version)."""
    if version is not None and "model_version" in frame.columns:
        frame = frame[frame["model_version"] == version]
    if "window_end" in frame.columns and len(frame):
        frame = frame[frame["window_end"] == frame["window_end"].max()]
    return [{k: (None if _missing(v) else v) for k, v in row.items()}
            for row in frame.to_dict("records")]


def _missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _age_seconds(serving: ModelVersion) -> float:
    created = pd.Timestamp(serving.metadata["created_at"])
    return time.time() - created.timestamp()


def evidence(seen: Observations) -> str | None:
    """The windows the verdict read (None without windows): a trigger on the same windows as
    the last one is not repeated (EVERY aside), so one drop in quality trains once."""
    parts = [f"{name} window ending {row['window_end']}"
             for name, row in (("quality", seen.quality),
                               ("drift", seen.drift[0] if seen.drift else None))
             if row is not None and row.get("window_end") is not None]
    return "; ".join(parts) or None

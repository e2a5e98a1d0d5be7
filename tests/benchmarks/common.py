"""Shared pieces of the benchmark scripts: timing, medians, the summary line."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def timed(run: Callable[[], object]) -> float:
    return timed_value(run)[0]


def timed_value(run: Callable[[], T]) -> tuple[float, T]:
    started = time.perf_counter()
    value = run()
    return time.perf_counter() - started, value


def median_rate(rows: int, seconds: list[float]) -> float:
    return rows / statistics.median(seconds)


def summary(name: str, **figures: float | int | str) -> str:
    parts = [f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in figures.items()]
    return f"{name}: {' '.join(parts)}"


def datagen_table(session, name: str, rows: int, features: int, label: bool = True) -> None:
    """A bounded datagen table; a label learnable from the features, if asked."""
    columns = ", ".join(f"f{i} DOUBLE" for i in range(features))
    bounds = ", ".join(f"'fields.f{i}.min' = '0', 'fields.f{i}.max' = '1'"
                       for i in range(features))
    computed = ", label AS CASE WHEN f0 + f1 > 1.0 THEN 1 ELSE 0 END" if label else ""
    session.sql(f"CREATE TABLE {name} ({columns}{computed}) WITH ('connector' = 'datagen', "
                f"'number-of-rows' = '{rows}', 'rows-per-second' = '1000000000', {bounds})")

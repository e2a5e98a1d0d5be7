"""Where the suite's wall time goes: with MLSQL_TEST_TIMELINE=<file> set, each pytest process
(every xdist worker) appends one line per test phase, `worker module phase start end`, so
that a parallel run's schedule can be read back (`python -m tests.timeline <file>`) and
conftest.SLOWEST_FIRST kept in the order the modules really take."""

from __future__ import annotations

import os
import sys
from collections import defaultdict
from pathlib import Path

import pytest

TIMELINE = os.environ.get("MLSQL_TEST_TIMELINE")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    yield
    if TIMELINE:
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        module = item.module.__name__.rsplit(".", 1)[-1]
        with open(TIMELINE, "a") as out:
            out.write(f"{worker} {module} {call.when} {call.start:.3f} {call.stop:.3f}\n")


def summarize(path: str, every_module: bool = False) -> None:
    """Print when each worker finished and what it ran last, the longest modules, and with
    `every_module` each worker's modules in order (seconds from the first test's start)."""
    spans: dict[tuple[str, str], list[float]] = {}
    for line in Path(path).read_text().splitlines():
        worker, module, _phase, start, stop = line.split()
        span = spans.setdefault((worker, module), [float(start), float(stop)])
        span[0], span[1] = min(span[0], float(start)), max(span[1], float(stop))
    origin = min(start for start, _ in spans.values())
    by_worker: dict[str, list[tuple[float, float, str]]] = defaultdict(list)
    for (worker, module), (start, stop) in spans.items():
        by_worker[worker].append((start - origin, stop - origin, module))
    for worker in sorted(by_worker):
        ran = sorted(by_worker[worker])
        start, stop, module = max(ran, key=lambda span: span[1])
        print(f"{worker}: {len(ran)} modules, done at {stop:.0f} s; the last, {module}, "
              f"from {start:.0f} s")
        for start, stop, module in ran if every_module else ():
            print(f"  {start:7.0f} {stop:7.0f} {stop - start:6.0f}  {module}")
    costs = sorted(((stop - start, module) for (_, module), (start, stop) in spans.items()),
                   reverse=True)
    print("longest modules, seconds: " + ", ".join(f"{module} {cost:.0f}"
                                                   for cost, module in costs[:15]))


if __name__ == "__main__":
    summarize(sys.argv[1], every_module="--all" in sys.argv[2:])

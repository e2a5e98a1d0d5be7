"""The script parser against 100,000 generated and mutated scripts (issue 29).

Valid scripts come from mlsql's grammar (tests/parser_grammar.py) and must parse to the
statements it says; mutated ones (real Flink statements from the corpus, the README and the
examples, and generated scripts, each mutated one to four times: tokens inserted, deleted,
swapped, duplicated, quote and comment openers, unicode, very long identifiers, deep nesting,
truncation) may parse or raise SqlSyntaxError with a line and column inside the text, and
nothing else, within a per-case limit of CPU time (on a shared machine a wall-clock limit
flags the load; the parse times printed are wall-clock, the clock fine enough for them).

The draws come from a seeded random.Random, one per case, not hypothesis: 100,000 hypothesis
examples would spend most of their time in its engine, and `--case N` reruns case N alone.
The CI tests (tests/unit/test_parser_fuzz.py) draw from the same grammar through hypothesis.

    .venv/bin/python -m tests.benchmarks.fuzz_parser [--cases 100000] [--seed 0] [--case N]

Prints cases run, valid scripts parsed, errors by type, median and max parse time and every
failure with its text; exits 1 on any failure.
"""

from __future__ import annotations

import argparse
import collections
import signal
import statistics
import sys
import time
from dataclasses import dataclass, field

from mlsql.errors import SqlSyntaxError
from mlsql.frontend.parser import parse_script
from tests import parser_grammar as grammar

VALID_SHARE = 30  # percent of the cases that are unmutated generated scripts
TIME_LIMIT_S = 2.0  # CPU seconds


class Hang(Exception):
    pass


def _on_alarm(signum: int, frame: object) -> None:
    raise Hang(f"no answer within {TIME_LIMIT_S} CPU seconds")


@dataclass
class Tally:
    outcomes: collections.Counter = field(default_factory=collections.Counter)
    seconds: list[float] = field(default_factory=list)
    failures: list[tuple[int, str, str]] = field(default_factory=list)  # case, what, text
    slowest: tuple[float, str] = (0.0, "")


def run_case(case: int, draw: grammar.RandomDraw, seeds: list[str], tally: Tally) -> None:
    generated = grammar.script(draw) if draw.integer(1, 100) <= VALID_SHARE else None
    text = generated.text if generated else grammar.mutated(draw, seeds)
    signal.setitimer(signal.ITIMER_PROF, TIME_LIMIT_S)
    started = time.perf_counter()
    try:
        parsed = parse_script(text)
        outcome = "valid script parsed" if generated else "mutated, parsed"
        if generated:
            grammar.check_parsed(generated, parsed)
    except SqlSyntaxError as error:
        outcome = "SqlSyntaxError" + (" (valid script!)" if generated else "")
        if generated:
            tally.failures.append((case, f"valid script refused: {error.message}", text))
        try:
            grammar.check_error(error, text)
        except AssertionError as outside:
            outcome = "SqlSyntaxError outside the text"
            tally.failures.append((case, f"{outcome} {outside}: {error.message}", text))
    except AssertionError as error:
        outcome = "AssertionError"
        tally.failures.append((case, f"{type(error).__name__}: {error}", text))
    except (Exception, Hang) as error:  # any other error is the finding
        outcome = type(error).__name__
        tally.failures.append((case, f"{outcome}: {error}", text))
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
    seconds = time.perf_counter() - started
    tally.outcomes[outcome] += 1
    tally.seconds.append(seconds)
    if seconds > tally.slowest[0]:
        tally.slowest = (seconds, text)


def report(tally: Tally, cases: int, wall: float) -> None:
    print(f"cases run: {cases:,} in {wall:.1f} s ({time.process_time():.1f} CPU seconds)")
    for outcome, count in tally.outcomes.most_common():
        print(f"  {outcome}: {count:,}")
    seconds = sorted(tally.seconds)
    print(f"parse time: median {statistics.median(seconds) * 1e3:.3f} ms, "
          f"p99 {seconds[int(len(seconds) * 0.99)] * 1e3:.2f} ms, max {seconds[-1] * 1e3:.1f} ms")
    slowest_text = tally.slowest[1]
    print(f"slowest case ({len(slowest_text):,} characters): {slowest_text[:160]!r}")
    print(f"failures: {len(tally.failures)}")
    for case, what, text in tally.failures[:50]:
        print(f"--- case {case}: {what[:300]}\n{text[:2000]!r}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--case", type=int, help="run this one case again (its number)")
    args = parser.parse_args(argv)
    sys.setrecursionlimit(1000)  # the default: a deep recursion must show, not be absorbed
    signal.signal(signal.SIGPROF, _on_alarm)
    seeds = grammar.real_statements()
    print(f"{len(seeds)} real Flink statements to mutate")
    numbers = [args.case] if args.case is not None else range(args.cases)
    tally = Tally()
    started = time.perf_counter()
    for case in numbers:  # a draw per case: any case runs again alone from its number
        run_case(case, grammar.RandomDraw(args.seed * 1_000_003 + case), seeds, tally)
    report(tally, len(numbers), time.perf_counter() - started)
    return 1 if tally.failures else 0


if __name__ == "__main__":
    sys.exit(main())

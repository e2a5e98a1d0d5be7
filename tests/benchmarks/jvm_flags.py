"""What the test suite's JVM flags for child processes save: one small train-and-score
script, run as a child process with PyFlink's default JVM and with the flags tests/helpers.py
gives the children of a test (JVM_ARGS, SUITE_JVM_ARGS).

    python tests/benchmarks/jvm_flags.py [--repeats 3] [--flags "-XX:TieredStopAtLevel=1"]
                                         [--archive]

With --archive: the same flags without and with the class archive `mlsql install` builds.

Side by side, alternating, medians of --repeats: the script's wall time and the CPU time of
the whole machine while it ran (the JVM is not a reaped child of the script, so the machine's
counters are read; run it on an otherwise idle machine). The script starts a Session, trains
a logistic regression and a 10-tree boosted model on 2,000 rows, scores them by compiled SQL,
the UDF and the JVM scorer, and evaluates: the shape of a typical integration test.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

from common import busy_cpu_seconds, load, summary

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.helpers import SUITE_JVM_ARGS, subprocess_env  # noqa: E402

SCRIPT = """
import pathlib, tempfile
import mlsql
from tests.helpers import MIXED_TYPES, create_csv_table, mixed_rows
root = pathlib.Path(tempfile.mkdtemp())
session = mlsql.Session(registry=root / "registry", mode="batch")
create_csv_table(session, "train", mixed_rows(1, 2000), root, types=MIXED_TYPES)
session.sql("CREATE MODEL lr WITH ('model_type' = 'logistic_reg', 'label' = 'y') "
            "AS SELECT a, b, c, flag, y FROM train")
session.sql("CREATE MODEL gb WITH ('model_type' = 'boosted_tree_classifier', 'label' = 'y', "
            "'num_trees' = '10') AS SELECT a, b, c, flag, y FROM train")
for execution in ("sql", "udf", "jvm"):
    scored = session.sql("SELECT * FROM ML_PREDICT(TABLE train, MODEL lr, "
                         f"DESCRIPTOR(a, b, c, flag), MAP['execution', '{execution}'])")
    assert len(scored) == 2000
assert len(session.sql("SELECT * FROM ML_EVALUATE(TABLE train, MODEL gb)")) == 1
"""


def run_once(jvm_args: str | None, archive: bool = False) -> tuple[float, float]:
    # The script imports tests.helpers, which fills an unset JVM_ARGS with the suite's flags:
    # the default JVM gets a flag that changes nothing instead.
    env = subprocess_env(PYTHONPATH=str(REPO), JVM_ARGS=jvm_args or "-Xshare:auto",
                         MLSQL_CLASS_ARCHIVE="on" if archive else "off")
    cpu, started = busy_cpu_seconds(), time.perf_counter()
    subprocess.run([sys.executable, "-c", SCRIPT], env=env, check=True, cwd=REPO,
                   capture_output=True)
    return time.perf_counter() - started, busy_cpu_seconds() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--flags", default=SUITE_JVM_ARGS)
    parser.add_argument("--archive", action="store_true",
                        help="compare --flags without and with the class archive `mlsql "
                             "install` builds (mlsql/runtime/class_archive.py)")
    args = parser.parse_args()
    default: list[tuple[float, float]] = []
    flagged: list[tuple[float, float]] = []
    for _ in range(args.repeats):
        default.append(run_once(args.flags if args.archive else None))
        flagged.append(run_once(args.flags, archive=args.archive))
    names = ((f"{args.flags}, no class archive", f"{args.flags}, class archive")
             if args.archive else ("default JVM", args.flags))
    for name, runs in zip(names, (default, flagged), strict=True):
        print(summary(name, wall_s=statistics.median(w for w, _ in runs),
                      cpu_s=statistics.median(c for _, c in runs)))
    pairs = list(zip(flagged, default, strict=True))
    print(summary("ratio flagged/default", wall=statistics.median(f[0] / d[0] for f, d in pairs),
                  cpu=statistics.median(f[1] / d[1] for f, d in pairs)), f"({load()})")


if __name__ == "__main__":
    main()

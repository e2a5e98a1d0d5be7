"""A class-data-sharing archive for the JVM that PyFlink starts in every mlsql process.

That JVM loads about 16,000 classes (Flink's planner, runtime and mini-cluster) before the
first statement runs, parsing and verifying each one. A dynamic CDS archive (JDK 13+) holds
them already parsed: `mlsql install` runs a small workload in a child process, then asks
its JVM to write the classes it loaded (`jcmd <pid> VM.cds dynamic_dump`, JDK 17's way).
Every later JVM that PyFlink starts maps the archive: about 12,000 classes come from it, and
a train-and-score script costs 3–5 CPU-seconds less (tests/benchmarks/jvm_flags.py --archive).

The archive is used only where it was built for the same PyFlink jars and java binary.
A JVM that cannot use it (another JDK, another classpath: a Kafka broker or a SQL client
inheriting JVM_ARGS) starts as it would without it; its warning is switched off.
`MLSQL_CLASS_ARCHIVE=off` disables it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from mlsql.errors import MlsqlError
from mlsql.services.flink_dist.home import pyflink_home
from mlsql.services.jars.resolve import cache_root

SWITCH = "MLSQL_CLASS_ARCHIVE"
ARCHIVE_FLAG = "-XX:SharedArchiveFile="
QUIET = ("-Xlog:cds=off", "-Xlog:cds+dynamic=off")  # a JVM that cannot map it says nothing

# What the archive is made from: a session that plans, trains, scores (compiled SQL, the
# Python UDF, the JVM scorer) and evaluates in batch, then runs a streaming query: the
# classes most mlsql processes load.
WORKLOAD = """
import pathlib, subprocess, sys, tempfile
import mlsql
from pyflink.java_gateway import get_gateway
root = pathlib.Path(tempfile.mkdtemp(prefix="mlsql-class-archive-"))
session = mlsql.Session(registry=root / "registry", mode="batch")
session.sql("CREATE TABLE t (a DOUBLE, b DOUBLE, y INT) WITH ('connector' = 'datagen', "
            "'number-of-rows' = '200', 'fields.a.min' = '-1', 'fields.a.max' = '1', "
            "'fields.b.min' = '-1', 'fields.b.max' = '1', 'fields.y.min' = '0', "
            "'fields.y.max' = '1')")
session.sql("CREATE MODEL m WITH ('model_type' = 'logistic_reg', 'label' = 'y') "
            "AS SELECT a, b, y FROM t")
session.sql("CREATE MODEL g WITH ('model_type' = 'boosted_tree_classifier', 'label' = 'y', "
            "'num_trees' = '5') AS SELECT a, b, y FROM t")
for execution in ("sql", "udf", "jvm"):
    session.sql("SELECT * FROM ML_PREDICT(TABLE t, MODEL m, "
                f"MAP['execution', '{execution}'])")
session.sql("SELECT * FROM ML_EVALUATE(TABLE t, MODEL g)")
session.sql("SET 'execution.runtime-mode' = 'streaming'")
session.sql("SELECT a FROM t WHERE a > 0")
pid = get_gateway().jvm.java.lang.ProcessHandle.current().pid()
done = subprocess.run([sys.argv[1], str(pid), "VM.cds", "dynamic_dump", sys.argv[2]],
                      capture_output=True, text=True)
sys.exit(0 if done.returncode == 0 and "error" not in done.stdout.lower()
         else done.stdout + done.stderr)
"""


def _java() -> Path | None:
    home = os.environ.get("JAVA_HOME")
    java = Path(home) / "bin" / "java" if home else None
    if java is None or not java.exists():
        found = shutil.which("java")
        java = Path(found) if found else None
    return java.resolve() if java else None


def _stamp(path: Path) -> str:
    status = path.stat()
    return f"{path}:{status.st_size}:{status.st_mtime_ns}"


def archive_path() -> Path | None:
    """Where the archive for this PyFlink and this JDK lives; None without a java.

    The JVM maps an archive only while every jar it was made from has the size and time it
    had then (a reinstalled PyFlink has new ones), so the name holds a digest of those; the
    part before it names the PyFlink installation, whose older archives `build` removes."""
    java = _java()
    if java is None:
        return None
    home = pyflink_home().resolve()
    jars = sorted(home.rglob("*.jar"))
    installation = hashlib.sha256(str(home).encode()).hexdigest()[:8]
    files = hashlib.sha256("|".join(_stamp(f) for f in [java, *jars]).encode()).hexdigest()
    return cache_root() / "class-archive" / f"pyflink-{installation}-{files[:12]}.jsa"


def use_if_built() -> None:
    """Before this process starts its JVM: let it map the archive, if one was built."""
    arguments = os.environ.get("JVM_ARGS", "")
    if os.environ.get(SWITCH, "").lower() in ("off", "0", "false") or ARCHIVE_FLAG in arguments:
        return
    archive = archive_path()
    if archive is None or not archive.exists():
        return
    os.environ["JVM_ARGS"] = " ".join([arguments, f"{ARCHIVE_FLAG}{archive}", *QUIET]).strip()


def build(progress: Callable[[str], None]) -> Path:
    """The archive, built by running WORKLOAD in a child process (about 40 s) unless it
    exists; MlsqlError if this JDK cannot write one."""
    archive, java = archive_path(), _java()
    if archive is None or java is None:
        raise MlsqlError("no java found (JAVA_HOME or the PATH) to build a class archive for")
    if archive.exists():
        return archive
    jcmd = shutil.which("jcmd", path=str(java.parent)) or shutil.which("jcmd")
    if jcmd is None:
        raise MlsqlError("the JDK has no jcmd, which writes the class archive")
    progress("building the JVM class archive (a short training and scoring run) ...")
    archive.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".building-", dir=archive.parent) as work:
        staging = Path(work) / archive.name
        env = {key: value for key, value in os.environ.items() if key != "JVM_ARGS"}
        env["JVM_ARGS"] = f"{os.environ.get('JVM_ARGS', '')} -XX:+RecordDynamicDumpInfo".strip()
        env[SWITCH] = "off"
        done = subprocess.run([sys.executable, "-c", WORKLOAD, jcmd, str(staging)],
                              capture_output=True, text=True, env=env, cwd=work)
        if done.returncode != 0 or not staging.exists():
            raise MlsqlError("building the JVM class archive failed: "
                             + (done.stdout + done.stderr).strip()[-2000:])
        staging.replace(archive)
    for older in archive.parent.glob(f"{archive.name.rsplit('-', 1)[0]}-*.jsa"):
        if older != archive:  # made from jars this installation no longer has (130 MB each)
            older.unlink(missing_ok=True)
    return archive

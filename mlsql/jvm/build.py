"""Compile mlsql's Java scorers into `<cache>/jvm/mlsql-jvm-<digest>.jar`.

Nothing is downloaded: `javac` compiles `src/` against PyFlink's own `lib/` jars (Flink's
table API, and the Jackson that flink-dist shades), and the jar is written with `zipfile`.
The digest covers the sources, the resources and the Flink version, so an upgrade of either
builds a new jar; a jar is written under a temporary name and renamed, so an interrupted
build never leaves a half jar behind. Where there is no JDK the build says so once and
ML_PREDICT scores tree models with the Python UDF.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path

from mlsql.errors import MlsqlError
from mlsql.services.flink_dist.home import flink_version, pyflink_home
from mlsql.services.jars.resolve import cache_root

SOURCES = Path(__file__).with_name("src")
RESOURCES = Path(__file__).with_name("resources")
# The jars javac compiles against: they are on the classpath of every Flink process.
CLASSPATH_JARS = ("flink-table-api-java-uber-*.jar", "flink-dist-*.jar")
JAVA_RELEASE = "11"  # PyFlink 2.x runs on Java 11 or later


class JvmUnavailable(MlsqlError):
    """No JDK to build the scorers with: the caller falls back to the Python UDF."""


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def digest() -> str:
    sha = hashlib.sha256(flink_version().encode())
    for root in (SOURCES, RESOURCES):
        for path in _files(root):
            sha.update(str(path.relative_to(root)).encode())
            sha.update(path.read_bytes())
    return sha.hexdigest()[:12]


def jar_path() -> Path:
    return cache_root() / "jvm" / f"mlsql-jvm-{digest()}.jar"


def javac() -> str | None:
    """The JDK's javac: $JAVA_HOME/bin/javac, else the PATH's."""
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "javac").exists():
        return str(Path(home) / "bin" / "javac")
    return shutil.which("javac")


@functools.cache
def scorer_jar() -> Path:
    """The built jar, building it the first time (a few seconds); JvmUnavailable without a
    JDK, MlsqlError if the sources do not compile."""
    target = jar_path()
    if target.exists():
        return target
    compiler = javac()
    if compiler is None:
        raise JvmUnavailable("no JDK (javac) found on the PATH or in $JAVA_HOME, so mlsql's "
                             "JVM scorers cannot be built")
    classpath = os.pathsep.join(str(jar) for pattern in CLASSPATH_JARS
                                for jar in sorted((pyflink_home() / "lib").glob(pattern)))
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".mlsql-jvm-", dir=target.parent) as work:
        classes = Path(work) / "classes"
        command = [compiler, "--release", JAVA_RELEASE, "-nowarn", "-encoding", "UTF-8",
                   "-cp", classpath, "-d", str(classes),
                   *(str(p) for p in _files(SOURCES) if p.suffix == ".java")]
        completed = subprocess.run(command, capture_output=True, text=True)
        if completed.returncode != 0:
            raise MlsqlError("compiling mlsql's JVM scorers failed:\n"
                             + (completed.stdout + completed.stderr).strip()[-3000:])
        staging = Path(work) / "mlsql-jvm.jar"
        with zipfile.ZipFile(staging, "w", zipfile.ZIP_DEFLATED) as jar:
            jar.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\r\n\r\n")
            for root in (classes, RESOURCES):
                for path in _files(root):
                    jar.write(path, path.relative_to(root).as_posix())
        staging.replace(target)
    return target

"""Resolve a bundle of jars (a profile of mlsql/jars/pom.xml) into mlsql's cache.

Maven does the work: it downloads from Maven Central, checks every file against the
repository's checksums (`--strict-checksums` makes a mismatch an error) and copies the jars
into `<cache>/jars/<bundle>-<version>/`. A bundle is resolved once; a marker file written
after the copy tells a complete directory from an interrupted one. Nothing is resolved at
test time that `.ci/run` (`mlsql kafka install`) did not resolve first.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from mlsql.errors import MlsqlError

POM = Path(__file__).with_name("pom.xml")
_COMPLETE = ".complete"


@dataclass(frozen=True)
class Bundle:
    name: str          # the pom profile
    version_property: str

    @property
    def version(self) -> str:
        match = re.search(rf"<{re.escape(self.version_property)}>([^<]+)<", POM.read_text())
        if not match:
            raise MlsqlError(f"{POM} has no <{self.version_property}> property")
        return match.group(1)

    @property
    def directory(self) -> Path:
        return cache_root() / "jars" / f"{self.name}-{self.version}"

    def is_resolved(self) -> bool:
        return (self.directory / _COMPLETE).exists()

    def jars(self) -> list[Path]:
        return sorted(self.directory.glob("*.jar"))


BUNDLES = {
    "kafka-broker": Bundle("kafka-broker", "kafka.version"),
    "kafka-connector": Bundle("kafka-connector", "flink.kafka.connector.version"),
}


def bundle(name: str) -> Bundle:
    return BUNDLES[name]


def cache_root() -> Path:
    """$MLSQL_CACHE, else ~/.mlsql/cache."""
    return Path(os.environ.get("MLSQL_CACHE", Path.home() / ".mlsql" / "cache"))


def resolve(name: str, progress=None) -> list[Path]:
    """The bundle's jars, resolving them with Maven the first time."""
    target = bundle(name)
    if target.is_resolved():
        return target.jars()
    mvn = shutil.which("mvn")
    if mvn is None:
        raise MlsqlError(
            f"resolving {name} {target.version} from Maven Central needs Maven (`mvn`) on "
            "the PATH; install it (e.g. `apt-get install maven`) and run `mlsql kafka "
            "install`")
    if progress:
        progress(f"resolving {name} {target.version} from Maven Central into "
                 f"{target.directory}")
    target.directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=target.directory.parent))
    command = [mvn, "--batch-mode", "--quiet", "--strict-checksums", "-f", str(POM),
               "-P", name, "dependency:copy-dependencies", "-DincludeScope=runtime",
               f"-DoutputDirectory={staging}"]
    completed = subprocess.run(command, capture_output=True, text=True)
    if completed.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        output = (completed.stdout + completed.stderr).strip().splitlines()
        errors = [line for line in output if "[ERROR]" in line][:5] or output[-5:]
        raise MlsqlError(f"Maven could not resolve {name} {target.version}:\n  "
                         + "\n  ".join(errors))
    (staging / _COMPLETE).write_text(target.version)
    shutil.rmtree(target.directory, ignore_errors=True)
    staging.rename(target.directory)
    return target.jars()

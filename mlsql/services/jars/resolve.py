"""Resolve a bundle of jars (a profile of mlsql/services/jars/pom.xml) into mlsql's cache.

Maven does the work: it downloads from Maven Central, checks every file against the
repository's checksums (`--strict-checksums` makes a mismatch an error) and copies the jars
into `<cache>/jars/<bundle>-<version>/`. A bundle is resolved once; a marker file written
after the copy tells a complete directory from an interrupted one. Nothing is resolved at
test time that `.ci/run` (`mlsql kafka install`) did not resolve first.
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from mlsql.core.paths import user_path
from mlsql.errors import MlsqlError

POM = Path(__file__).with_name("pom.xml")
_COMPLETE = ".complete"


@dataclass(frozen=True)
class Bundle:
    name: str          # the pom profile
    version_property: str

    @property
    def version(self) -> str:
        version = _pom_properties().get(self.version_property)
        if version is None:
            raise MlsqlError(f"{POM} has no <{self.version_property}> property")
        return version

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
    "sql-gateway": Bundle("sql-gateway", "flink.version"),
    "jdbc-driver": Bundle("jdbc-driver", "flink.jdbc.driver.version"),
    "flink-ml-lib": Bundle("flink-ml-lib", "flink.ml.version"),
}


@functools.cache
def _pom_properties() -> dict[str, str]:
    """The pom's <properties>, read once (a bundle's version is asked for on every path)."""
    block = re.search(r"<properties>(.*?)</properties>", POM.read_text(), re.S)
    return dict(re.findall(r"<([\w.]+)>([^<]+)</\1>", block.group(1) if block else ""))


def bundle(name: str) -> Bundle:
    return BUNDLES[name]


def cache_root() -> Path:
    """$MLSQL_CACHE, else ~/.mlsql/cache."""
    return user_path("MLSQL_CACHE", "cache")


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

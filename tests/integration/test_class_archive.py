"""`mlsql install`'s class archive, mapped by the JVM of a real `mlsql run`: most of Flink's
classes come from it, and none with the switch off."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mlsql.runtime import class_archive
from tests.helpers import subprocess_env

pytestmark = pytest.mark.slow
MLSQL = Path(sys.executable).with_name("mlsql")
SCRIPT = ("SET 'execution.runtime-mode' = 'batch';\n"
          "CREATE TABLE t (a DOUBLE) WITH ('connector' = 'datagen', 'number-of-rows' = '10');\n"
          "SELECT COUNT(*) AS n FROM t;\n")


def _classes_from_the_archive(tmp_path: Path, switch: str) -> tuple[int, int, str]:
    """(classes mapped from the archive, classes loaded in all, the script's output)."""
    log = tmp_path / f"classes-{switch}.log"
    script = tmp_path / "count.sql"
    script.write_text(SCRIPT)
    env = subprocess_env(JVM_ARGS=f"-XX:TieredStopAtLevel=1 -Xlog:class+load=info:file={log}")
    env[class_archive.SWITCH] = switch
    done = subprocess.run([str(MLSQL), "run", "--registry", str(tmp_path / "registry"),
                           str(script)], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = log.read_text().splitlines()
    return sum("shared objects file (top)" in line for line in lines), len(lines), done.stdout


def test_a_jvm_maps_the_archive_mlsql_install_builds(tmp_path):
    archive = class_archive.build(lambda message: None)  # CI's `mlsql install` built it
    assert archive.exists() and archive.stat().st_size > 10_000_000
    mapped, loaded, output = _classes_from_the_archive(tmp_path, "on")
    assert mapped > 0.5 * loaded, (mapped, loaded)
    assert "[warning]" not in output and "10" in output
    mapped_off, _, _ = _classes_from_the_archive(tmp_path, "off")
    assert mapped_off == 0

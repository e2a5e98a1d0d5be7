"""When a process's JVM maps mlsql's class archive: only one built for this PyFlink and this
java, never twice, never against the switch or a flag the caller gave."""

from __future__ import annotations

import pytest

from mlsql.errors import MlsqlError
from mlsql.runtime import class_archive


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MLSQL_CACHE", str(tmp_path))
    monkeypatch.delenv(class_archive.SWITCH, raising=False)
    monkeypatch.setenv("JVM_ARGS", "-Xmx2g")
    return tmp_path


def _built() -> str:
    archive = class_archive.archive_path()
    archive.parent.mkdir(parents=True)
    archive.write_bytes(b"")
    return str(archive)


def test_nothing_changes_until_an_archive_is_built(cache, monkeypatch):
    class_archive.use_if_built()
    assert class_archive.archive_path().parent.parent == cache
    assert class_archive.os.environ["JVM_ARGS"] == "-Xmx2g"


def test_a_built_archive_is_added_once_with_its_warnings_off(cache):
    archive = _built()
    class_archive.use_if_built()
    class_archive.use_if_built()
    assert class_archive.os.environ["JVM_ARGS"] == (
        f"-Xmx2g -XX:SharedArchiveFile={archive} -Xlog:cds=off -Xlog:cds+dynamic=off")


@pytest.mark.parametrize("setting", [("switch", "off"), ("flag", "-XX:SharedArchiveFile=/x")])
def test_the_switch_or_the_callers_own_archive_wins(cache, monkeypatch, setting):
    _built()
    kind, value = setting
    if kind == "switch":
        monkeypatch.setenv(class_archive.SWITCH, value)
    else:
        monkeypatch.setenv("JVM_ARGS", value)
    before = class_archive.os.environ["JVM_ARGS"]
    class_archive.use_if_built()
    assert class_archive.os.environ["JVM_ARGS"] == before


def test_another_java_has_an_archive_of_its_own(cache, monkeypatch, tmp_path):
    first = class_archive.archive_path()
    java = tmp_path / "jdk" / "bin" / "java"
    java.parent.mkdir(parents=True)
    java.write_text("")
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "jdk"))
    assert class_archive.archive_path() != first


def test_a_jdk_without_jcmd_is_a_clear_error(cache, monkeypatch):
    monkeypatch.setattr(class_archive.shutil, "which", lambda *args, **kwargs: None)
    (cache / "java").write_text("")
    monkeypatch.setattr(class_archive, "_java", lambda: cache / "java")
    with pytest.raises(MlsqlError, match="no jcmd"):
        class_archive.build(lambda message: None)


def test_a_reinstalled_pyflink_has_an_archive_of_its_own(cache, monkeypatch, tmp_path):
    home = tmp_path / "pyflink"
    (home / "lib").mkdir(parents=True)
    jar = home / "lib" / "flink-dist.jar"
    jar.write_bytes(b"one")
    monkeypatch.setattr(class_archive, "pyflink_home", lambda: home)
    first = class_archive.archive_path()
    jar.write_bytes(b"other")  # the JVM would refuse an archive made from the first jar
    second = class_archive.archive_path()
    assert second != first
    assert first.name.rsplit("-", 1)[0] == second.name.rsplit("-", 1)[0]  # same installation

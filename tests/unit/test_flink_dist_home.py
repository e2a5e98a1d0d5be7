"""FlinkDist set up by several processes at once, while its files are read."""

from __future__ import annotations

import multiprocessing
import time

import yaml

from mlsql.services.flink_dist.home import FlinkDist, pyflink_home


def _set_up_repeatedly(cache: str, seconds: float) -> None:
    import os

    os.environ["MLSQL_CACHE"] = cache
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        FlinkDist("shared", {"rest.port": 8081})


def test_concurrent_set_ups_never_show_a_partial_file_or_fail(tmp_path, monkeypatch):
    monkeypatch.setenv("MLSQL_CACHE", str(tmp_path))
    dist = FlinkDist("shared", {"rest.port": 8081})
    context = multiprocessing.get_context("fork")
    writers = [context.Process(target=_set_up_repeatedly, args=(str(tmp_path), 3.0))
               for _ in range(3)]
    for writer in writers:
        writer.start()
    reads = 0
    while any(writer.is_alive() for writer in writers):
        settings = yaml.safe_load((dist.conf_dir / "config.yaml").read_text())
        assert settings["rest.port"] == 8081
        jars = {p.name for p in dist.opt_dir.glob("*.jar")}
        assert jars == {p.name for p in (pyflink_home() / "opt").glob("*.jar")}
        reads += 1
    assert [writer.exitcode for writer in writers] == [0, 0, 0]
    assert reads > 10
    assert not [p for p in dist.conf_dir.iterdir() if p.name.startswith(".")]

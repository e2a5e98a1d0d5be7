"""Extraction progress counts the lines Flink has written, while files move around."""

from __future__ import annotations

import os

from mlsql.training.extract import _LineCounter


def test_counts_new_lines_only_and_survives_moves(tmp_path):
    staging = tmp_path / ".staging_1" / "task-0-attempt-0"
    staging.mkdir(parents=True)
    part = staging / "part-0"
    part.write_text("1,a\n2,b\n")
    counter = _LineCounter(str(tmp_path))
    assert counter.lines() == 2
    with part.open("a") as handle:
        handle.write("3,c\n")
    assert counter.lines() == 3
    os.rename(part, tmp_path / "part-0")  # Flink's commit
    (tmp_path / ".staging_1" / "task-0-attempt-0").rmdir()
    assert counter.lines() == 3
    assert counter.lines() == 3  # nothing counted twice

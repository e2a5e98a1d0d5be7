"""The fraud examples train into a registry of their own, inside an ignored directory, emptied
at each run: a second run publishes version 1 again and leaves the work tree clean."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "fraud"
sys.path.insert(0, str(EXAMPLES))

import generate  # noqa: E402


def test_each_run_gets_an_empty_registry_that_git_ignores(capsys):
    first = Path(generate.example_registry("unit_test", None))
    (first / "fraud_model" / "v1").mkdir(parents=True)
    second = Path(generate.example_registry("unit_test", None))
    try:
        assert first == second == EXAMPLES / "data" / "registries" / "unit_test"
        assert list(second.iterdir()) == []
        assert f"models of this example: {second}" in capsys.readouterr().err
        ignored = subprocess.run(["git", "check-ignore", "-q", str(second)], cwd=EXAMPLES)
        assert ignored.returncode == 0
    finally:
        second.rmdir()


def test_a_chosen_registry_is_used_as_it_is(tmp_path):
    chosen = tmp_path / "mine"
    chosen.mkdir()
    (chosen / "keep").write_text("x")
    assert generate.example_registry("unit_test", str(chosen)) == str(chosen)
    assert (chosen / "keep").exists()

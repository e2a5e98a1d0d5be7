"""A version whose files are not as published is refused with the file named; staging
directories of dead writers are cleaned up. Files only: no Flink."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from mlsql.errors import DamagedModelError
from mlsql.models.registry import Registry
from mlsql.planner.manage import show_models
from mlsql.syntax import ir
from udfs import model_store
from udfs.model_store import DamagedVersion, check_version

PREDICTOR = {"format": 1, "task": "regression", "algorithm": "linear", "features": {},
             "outputs": [{"name": "predicted_value", "type": "DOUBLE"}]}


def _publish(registry: Registry, name: str = "m") -> int:
    with registry.new_version(name) as staged:
        (staged.path / "metadata.json").write_text(json.dumps({
            "name": name, "model_type": "linear_reg", "task": "regression", "inputs": [],
            "outputs": PREDICTOR["outputs"], "metrics": {}, "created_at": "now"}))
        (staged.path / "predictor.json").write_text(json.dumps(PREDICTOR))
        (staged.path / "model.txt").write_text("tree\n" * 100)
    assert staged.version is not None
    return staged.version


@pytest.fixture
def registry(tmp_path):
    return Registry(tmp_path / "registry")


def test_a_published_version_has_a_manifest_and_checks_clean(registry):
    _publish(registry)
    path = registry.resolve("m").path
    manifest = json.loads((path / "files.json").read_text())
    assert set(manifest["files"]) == {"metadata.json", "predictor.json", "model.txt"}
    check_version(path)


@pytest.mark.parametrize(("damage", "message"), [
    (lambda p: (p / "model.txt").write_text("tree\n" * 50), r"model.txt has 250 bytes where "
                                                           r"500 were published"),
    (lambda p: (p / "model.txt").write_text("TREE\n" * 100), r"model.txt was changed after "
                                                            r"it was published"),
    (lambda p: (p / "model.txt").unlink(), r"model.txt is missing"),
    (lambda p: (p / "files.json").write_text("{}"), r"files.json lists no files"),
    (lambda p: (p / "files.json").write_text('{"format": 1, "fi'), r"files.json is not "
                                                                  r"readable JSON"),
])
def test_a_damaged_file_is_named(registry, damage, message):
    _publish(registry)
    path = registry.resolve("m").path
    damage(path)
    with pytest.raises(DamagedVersion, match=message):
        check_version(path)
    with pytest.raises(DamagedModelError, match=rf"model 'm' version 1 is damaged: .*{message}"):
        registry.resolve("m")


def test_without_a_manifest_the_json_and_the_format_are_still_checked(registry):
    _publish(registry)
    path = registry.resolve("m").path
    (path / "files.json").unlink()  # as a version published before manifests
    check_version(path)
    (path / "predictor.json").write_text(json.dumps({**PREDICTOR, "format": 2}))
    with pytest.raises(DamagedVersion, match=r"written by a newer mlsql \(format 2"):
        check_version(path)
    (path / "predictor.json").write_text("{}")
    with pytest.raises(DamagedVersion, match=r"predictor.json has no 'task', 'outputs', "
                                             r"'algorithm', 'features'"):
        check_version(path)
    (path / "metadata.json").write_text("[1, 2")
    with pytest.raises(DamagedVersion, match=r"metadata.json is not readable JSON"):
        check_version(path)


def test_show_models_lists_a_damaged_model_and_drop_removes_its_version(registry):
    _publish(registry, "good")
    _publish(registry, "m")
    _publish(registry, "m")
    (registry.root / "m" / "v2" / "model.txt").write_text("")
    listing = show_models(ir.ShowModels(), registry).set_index("model")
    assert listing.loc["good", "model_type"] == "linear_reg"
    assert listing.loc["m", "model_type"] == "(damaged)"
    assert "model.txt has 0 bytes" in listing.loc["m", "metrics"]
    registry.drop("m", 2)
    assert registry.resolve("m").version == 1


def test_staging_directories_of_dead_writers_are_removed(registry):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    staging = registry.root / model_store.STAGING
    for name, owner in (("dead", f"{os.uname().nodename} {dead}"),
                        ("alive", f"{os.uname().nodename} {os.getpid()}"),
                        ("other-host", f"elsewhere {os.getpid()}")):
        (staging / name).mkdir(parents=True)
        (staging / name / ".owner").write_text(owner)
    (staging / "old-unowned").mkdir()
    hours_ago = time.time() - 2 * 3600
    os.utime(staging / "old-unowned", (hours_ago, hours_ago))
    removed = model_store.remove_abandoned_staging(registry.root)
    assert sorted(p.name for p in removed) == ["dead", "old-unowned"]
    assert sorted(p.name for p in staging.iterdir()) == ["alive", "other-host"]

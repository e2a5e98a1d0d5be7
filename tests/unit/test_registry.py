import json

import pytest

from mlsql.errors import MlsqlError, ModelNotFoundError
from mlsql.models.registry import METADATA_FILE, Registry


def _publish(registry, name, note):
    with registry.new_version(name) as staged:
        (staged.path / METADATA_FILE).write_text(json.dumps({"note": note}))
    return staged.version


def test_versions_are_numbered_and_latest_serves(tmp_path):
    registry = Registry(tmp_path)
    assert _publish(registry, "m", "first") == 1
    assert _publish(registry, "m", "second") == 2
    assert registry.versions("m") == [1, 2]
    assert registry.resolve("m").metadata == {"note": "second", "version": 2}
    assert registry.resolve("m", 1).metadata["note"] == "first"


def test_a_failure_mid_write_leaves_no_version(tmp_path):
    registry = Registry(tmp_path)
    _publish(registry, "m", "good")
    with pytest.raises(RuntimeError), registry.new_version("m") as staged:
        (staged.path / METADATA_FILE).write_text("{}")
        raise RuntimeError("training crashed")
    assert registry.versions("m") == [1]
    assert registry.resolve("m").metadata["note"] == "good"
    assert list((tmp_path / ".staging").iterdir()) == []


def test_unknown_models_and_versions(tmp_path):
    registry = Registry(tmp_path)
    _publish(registry, "fraud_model", "x")
    with pytest.raises(ModelNotFoundError, match="did you mean 'fraud_model'"):
        registry.resolve("fraud_modle")
    with pytest.raises(ModelNotFoundError, match="no version 5"):
        registry.resolve("fraud_model", 5)


def test_drop_a_version_then_the_model(tmp_path):
    registry = Registry(tmp_path)
    _publish(registry, "m", "a")
    _publish(registry, "m", "b")
    registry.drop("m", 2)
    assert registry.resolve("m").version == 1
    registry.drop("m")
    assert registry.model_names() == []
    with pytest.raises(ModelNotFoundError):
        registry.drop("m")


def test_invalid_names_are_refused(tmp_path):
    with pytest.raises(MlsqlError, match="invalid model name"), \
            Registry(tmp_path).new_version("../escape"):
        pass


def test_like_filters_names(tmp_path):
    registry = Registry(tmp_path)
    for name in ("fraud_a", "fraud_b", "churn"):
        _publish(registry, name, name)
    assert [m.name for m in registry.list("fraud%")] == ["fraud_a", "fraud_b"]


def test_default_version_and_rename(tmp_path):
    registry = Registry(tmp_path)
    for note in ("a", "b", "c"):
        _publish(registry, "m", note)
    registry.set_default_version("m", 2)
    assert registry.resolve("m").version == 2
    assert registry.resolve("m", 3).version == 3
    registry.drop("m", 2)  # dropping the default falls back to the latest
    assert registry.resolve("m").version == 3
    registry.rename("m", "m_old")
    assert registry.model_names() == ["m_old"] and registry.versions("m_old") == [1, 3]
    _publish(registry, "other", "x")
    with pytest.raises(MlsqlError, match="exists"):
        registry.rename("m_old", "other")
    with pytest.raises(ModelNotFoundError):
        registry.set_default_version("m_old", 2)


def test_latest_ignores_the_default_version(tmp_path):
    registry = Registry(tmp_path)
    for note in ("a", "b", "c"):
        _publish(registry, "m", note)
    registry.set_default_version("m", 2)
    assert registry.resolve("m").version == 2
    assert registry.resolve("m", latest=True).version == 3


def _publish_many(root: str, count: int, writer: int) -> list[int]:
    registry = Registry(root)
    return [_publish(registry, "shared", f"{writer}-{i}") for i in range(count)]


def test_processes_publishing_at_once_get_distinct_versions(tmp_path):
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(4) as pool:
        results = pool.starmap(_publish_many, [(str(tmp_path), 25, w) for w in range(4)])
    numbers = [v for result in results for v in result]
    assert sorted(numbers) == list(range(1, 101))
    registry = Registry(tmp_path)
    notes = {registry.resolve("shared", v).metadata["note"] for v in numbers}
    assert len(notes) == 100  # every version is one writer's whole version
    assert registry.model_info("shared")["name"] == "shared"
    assert not list((tmp_path / "shared").glob(".model.json*"))  # no partial left behind
    assert len(list((tmp_path / "shared" / ".numbers").iterdir())) == 100


def _resolve_at(registry, name):
    from mlsql.planner.predict import resolve_model
    from mlsql.syntax.ir import ModelRef, Position

    class Context:
        pass

    context = Context()
    context.registry = registry
    return resolve_model(ModelRef(name, None, Position(3, 14)), context)


def test_a_corrupt_metadata_file_is_reported_with_the_model_and_position(tmp_path):
    registry = Registry(tmp_path)
    version = _publish(registry, "m", "good")
    (tmp_path / "m" / f"v{version}" / METADATA_FILE).write_text("{not json")
    with pytest.raises(MlsqlError) as raised:
        _resolve_at(registry, "m")
    message = str(raised.value)
    assert "model 'm' version 1 is damaged: " in message and "metadata.json" in message
    assert message.endswith("(at line 3, column 14)")


def test_an_unknown_model_keeps_its_class_and_gets_the_position_as_a_field(tmp_path):
    registry = Registry(tmp_path)
    _publish(registry, "fraud_model", "x")
    with pytest.raises(ModelNotFoundError) as raised:
        _resolve_at(registry, "fraud_modle")
    assert "did you mean 'fraud_model'" in str(raised.value)
    assert str(raised.value).endswith("(at line 3, column 14)")
    assert str(raised.value.position) == "line 3, column 14"

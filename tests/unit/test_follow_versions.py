"""The hot-swapping ML_PREDICT function (udfs.predict) when its task starts or restarts: it
scores with the model's serving version from the first row, whatever version the job was
planned with. Files only: no Flink."""

from __future__ import annotations

import pandas as pd

from mlsql.models.registry import Registry
from tests.unit.test_registry_crashes import publish
from udfs.predict import VERSION_FIELD, FollowVersions, ModelPredictFunction

INPUTS = (("x", "numeric"),)
OUTPUTS = (("predicted_value", "DOUBLE"),)


def _function(registry: Registry, planned: int) -> ModelPredictFunction:
    follow = FollowVersions(str(registry.root / "m"), latest=False, refresh_seconds=3600,
                            inputs=INPUTS, outputs=OUTPUTS)
    return ModelPredictFunction(str(registry.root / "m" / f"v{planned}"), planned, follow)


def _scored(function: ModelPredictFunction) -> tuple[float, int]:
    frame = function.eval(pd.Series([1.0]))
    return frame["predicted_value"].iloc[0], frame[VERSION_FIELD].iloc[0]


def test_a_restarted_task_scores_with_the_serving_version_from_its_first_row(tmp_path):
    registry = Registry(tmp_path / "registry")
    publish(registry, "m", serial=10)  # scores 2x + 10
    publish(registry, "m", serial=20)  # version 2: the serving one
    function = _function(registry, planned=1)
    function.open(None)
    assert _scored(function) == (22.0, 2)  # before: version 1 until the next refresh


def test_a_dropped_planned_version_does_not_stop_a_restart(tmp_path):
    registry = Registry(tmp_path / "registry")
    publish(registry, "m", serial=10)
    publish(registry, "m", serial=20)
    registry.drop("m", 1)
    assert not (registry.root / "m" / "v1").exists()
    function = _function(registry, planned=1)
    function.open(None)  # before: load_predictor(v1) failed, so every restart failed
    assert _scored(function) == (22.0, 2)


def test_an_incompatible_serving_version_leaves_the_planned_one_scoring(tmp_path):
    registry = Registry(tmp_path / "registry")
    publish(registry, "m", serial=10)
    version = publish(registry, "m", serial=20)
    metadata = registry.root / "m" / f"v{version}" / "metadata.json"
    metadata.write_text(metadata.read_text().replace('"name": "x"', '"name": "y"'))
    function = _function(registry, planned=1)
    function.open(None)
    assert _scored(function) == (12.0, 1)

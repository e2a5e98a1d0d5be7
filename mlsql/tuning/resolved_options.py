"""CREATE MODEL's OPTIONS parsed once: the model type, its checked values and the tuner."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mlsql.models.base import ModelType
from mlsql.training.model_options import parse_options
from mlsql.tuning.plan import split_options
from mlsql.tuning.tuner import Tuner, tuner


@dataclass(frozen=True)
class ModelOptions:
    model_type: ModelType
    values: dict[str, Any]  # every option of the model type, defaults filled in
    tuner: Tuner | None  # None without tuning options


def resolve_options(option_map: Mapping[str, str]) -> ModelOptions:
    """Checks every option (tuning ones included) before any job; OptionError otherwise."""
    split = split_options(option_map)  # the search space apart
    model_type, values = parse_options(split.rest)
    return ModelOptions(model_type, values, tuner(split, model_type, values))

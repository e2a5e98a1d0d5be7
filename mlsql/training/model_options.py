"""The options CREATE MODEL accepts, per model type, parsed and checked before any job runs.

Each model type declares its own options (mlsql.models); the common ones are here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mlsql.errors import OptionError, did_you_mean
from mlsql.models import model_type as find_model_type
from mlsql.models import model_types
from mlsql.models.base import (
    ANOMALY,
    CLASSIFICATION,
    CLUSTERING,
    REGRESSION,
    TIME_SERIES,
    UNSUPERVISED,
    ModelType,
)
from mlsql.models.option_spec import DISTRIBUTED_ROWS, Option, fraction, kind

COMMON = (
    Option("model_type", str, None, "the algorithm (required)"),
    Option("label", str, None, "the column to predict (required except for unsupervised "
                               "model types: clustering and anomaly detection)"),
    Option("eval_fraction", fraction, 0.2, "share of rows held out for evaluation"),
    Option("seed", int, 42, "seed for the evaluation split and the algorithm"),
)

_ALIASES = {"input_label_cols": "label", "data_split_eval_fraction": "eval_fraction"}


def parse_options(raw: Mapping[str, str]) -> tuple[ModelType, dict[str, Any]]:
    """Validate CREATE MODEL's options; returns the model type and every option's value."""
    raw = {_ALIASES.get(k, k): v for k, v in raw.items()}
    if "model_type" not in raw:
        raise OptionError("CREATE MODEL needs 'model_type' in its options, one of: "
                          + ", ".join(model_types()))
    model_type = find_model_type(raw["model_type"])
    type_name = model_type.name
    # Online models are scored prequentially, on each window before it trains them.
    common = [o for o in COMMON if not (model_type.online and o.name == "eval_fraction")]
    known = {o.name: o for o in (*common, *model_type.options)}
    values: dict[str, Any] = {}
    for key, text in raw.items():
        if key not in known:
            raise OptionError(f"unknown option {key!r} for model_type {type_name}"
                              f"{did_you_mean(key, known)}; accepted: {', '.join(known)}")
        try:
            values[key] = known[key].parse(text)
        except ValueError as error:
            detail = str(error) if "must" in str(error) else f"expected {kind(known[key])}"
            raise OptionError(f"option {key!r} = {text!r}: {detail}") from None
    for option in known.values():
        values.setdefault(option.name, option.default)
    values["model_type"] = type_name
    if model_type.task == TIME_SERIES:
        if values["label"] is not None:
            raise OptionError(f"{type_name} forecasts 'time_series_data_col': remove the "
                              "'label' option")
    elif model_type.task in UNSUPERVISED:
        if values["label"] is not None:
            raise OptionError(f"{type_name} is unsupervised: remove the 'label' option")
    elif values["label"] is None:
        raise OptionError(f"model_type {type_name} needs a 'label' option naming the column "
                          "to predict")
    return model_type, values


__all__ = ["ANOMALY", "CLASSIFICATION", "CLUSTERING", "COMMON", "DISTRIBUTED_ROWS",
           "REGRESSION", "UNSUPERVISED", "ModelType", "Option", "parse_options"]

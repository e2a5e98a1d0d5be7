"""The options CREATE MODEL accepts, per model type, parsed and checked before any job runs."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from mlsql.durations import parse_duration
from mlsql.errors import OptionError, did_you_mean

CLASSIFICATION = "classification"
REGRESSION = "regression"
CLUSTERING = "clustering"


@dataclass(frozen=True)
class Option:
    name: str
    parse: Callable[[str], Any]
    default: Any
    help: str


def _fraction(text: str) -> float:
    value = float(text)
    if not 0.0 <= value < 1.0:
        raise ValueError("must be at least 0 and below 1")
    return value


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise ValueError("must be a positive integer")
    return value


def _non_negative_float(text: str) -> float:
    value = float(text)
    if value < 0:
        raise ValueError("must not be negative")
    return value


def _training_mode(text: str) -> str:
    if text.lower() not in ("auto", "single", "distributed"):
        raise ValueError("must be 'auto', 'single' (rows fitted in Python) or 'distributed' "
                         "(computed by Flink aggregates)")
    return text.lower()


def _positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise ValueError("must be positive")
    return value


def _decay(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise ValueError("must be between 0 (forget the past) and 1 (remember it all)")
    return value


def _optimizer(text: str) -> str:
    if text.lower() not in ("ftrl", "sgd"):
        raise ValueError("must be 'ftrl' (FTRL-Proximal) or 'sgd'")
    return text.lower()


def _update_every(text: str) -> float:
    seconds = parse_duration(text)
    if seconds < 1 or seconds != int(seconds):
        raise ValueError("must be a whole number of seconds, at least '1 s'")
    return seconds


def _class_weight(text: str) -> str | None:
    if text.lower() not in ("none", "balanced"):
        raise ValueError("must be 'none' or 'balanced'")
    return None if text.lower() == "none" else "balanced"


COMMON = (
    Option("model_type", str, None, "the algorithm (required)"),
    Option("label", str, None, "the column to predict (required except for kmeans)"),
    Option("eval_fraction", _fraction, 0.2, "share of rows held out for evaluation"),
    Option("seed", int, 42, "seed for the evaluation split and the algorithm"),
)
# Model types that can also train inside Flink (mlsql.training.distributed).
DISTRIBUTED_ROWS = 5_000_000
_DISTRIBUTABLE = (
    Option("training_mode", _training_mode, "auto",
           "'single': rows fitted in Python; 'distributed': computed by Flink aggregates; "
           "'auto': distributed above distributed_above_rows"),
    Option("distributed_above_rows", _positive_int, DISTRIBUTED_ROWS,
           "row count above which 'auto' trains in Flink"),
)
_TREES = (
    Option("num_trees", _positive_int, 100, "boosting rounds"),
    Option("learning_rate", _non_negative_float, 0.1, "shrinkage per tree"),
    Option("num_leaves", _positive_int, 31, "leaves per tree"),
    Option("max_depth", int, -1, "tree depth limit (-1: none)"),
    Option("min_data_in_leaf", _positive_int, 20, "rows a leaf needs at least"),
)


# Online model types: a continuous job updates the model every `update_every` of event time.
_ONLINE = (
    Option("update_every", _update_every, 60.0,
           "event time between updates (each a TUMBLE window), e.g. '1 minute'"),
    Option("time_column", str, None,
           "the query's event-time column (default: its one column with a watermark)"),
    Option("global_batch_size", _positive_int, 32, "rows per mini-batch update"),
    Option("initial_model", str, None,
           "warm start from a version of a compatible model: 'm' or 'm$3'"),
)
_ONLINE_LINEAR = (
    *_ONLINE,
    Option("optimizer", _optimizer, "ftrl", "'ftrl' (FTRL-Proximal) or 'sgd'"),
    Option("alpha", _positive_float, 0.5, "FTRL: learning-rate scale"),
    Option("beta", _non_negative_float, 1.0, "FTRL: learning-rate smoothing"),
    Option("l1_reg", _non_negative_float, 0.0, "L1 penalty (FTRL)"),
    Option("l2_reg", _non_negative_float, 0.0, "L2 penalty"),
    Option("learning_rate", _positive_float, 0.1, "SGD: step size"),
)


@dataclass(frozen=True)
class ModelType:
    name: str
    task: str
    options: tuple[Option, ...]
    online: bool = False


MODEL_TYPES: dict[str, ModelType] = {
    m.name: m for m in (
        ModelType("logistic_reg", CLASSIFICATION, (
            Option("max_iter", _positive_int, 200, "solver iterations"),
            Option("l2_reg", _non_negative_float, 1.0, "L2 penalty (scikit-learn's 1/C)"),
            Option("class_weight", _class_weight, None, "'balanced' reweights rare classes"),
            *_DISTRIBUTABLE,
        )),
        ModelType("linear_reg", REGRESSION, (
            Option("l2_reg", _non_negative_float, 0.0, "L2 penalty (ridge alpha)"),
            *_DISTRIBUTABLE,
        )),
        ModelType("boosted_tree_classifier", CLASSIFICATION, _TREES),
        ModelType("boosted_tree_regressor", REGRESSION, _TREES),
        ModelType("kmeans", CLUSTERING, (
            Option("num_clusters", _positive_int, 8, "number of clusters"),
            Option("max_iter", _positive_int, 300, "Lloyd iterations"),
            *_DISTRIBUTABLE,
        )),
        ModelType("online_logistic_reg", CLASSIFICATION, _ONLINE_LINEAR, online=True),
        ModelType("online_linear_reg", REGRESSION, _ONLINE_LINEAR, online=True),
        ModelType("online_kmeans", CLUSTERING, (
            *_ONLINE,
            Option("num_clusters", _positive_int, 2, "number of clusters"),
            Option("decay_factor", _decay, 0.0,
                   "weight kept by the past at each mini-batch (Flink ML's decayFactor)"),
        ), online=True),
    )
}

_ALIASES = {"input_label_cols": "label", "data_split_eval_fraction": "eval_fraction"}


def parse_options(raw: Mapping[str, str]) -> tuple[ModelType, dict[str, Any]]:
    """Validate CREATE MODEL's options; returns the model type and every option's value."""
    raw = {_ALIASES.get(k, k): v for k, v in raw.items()}
    if "model_type" not in raw:
        raise OptionError("CREATE MODEL needs 'model_type' in its options, one of: "
                          + ", ".join(MODEL_TYPES))
    type_name = raw["model_type"].lower()
    if type_name not in MODEL_TYPES:
        raise OptionError(f"unknown model_type {raw['model_type']!r}"
                          f"{did_you_mean(type_name, MODEL_TYPES)}; one of: "
                          + ", ".join(MODEL_TYPES))
    model_type = MODEL_TYPES[type_name]
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
            detail = str(error) if "must" in str(error) else f"expected {_kind(known[key])}"
            raise OptionError(f"option {key!r} = {text!r}: {detail}") from None
    for option in known.values():
        values.setdefault(option.name, option.default)
    values["model_type"] = type_name
    if model_type.task == CLUSTERING:
        if values["label"] is not None:
            raise OptionError(f"{type_name} is unsupervised: remove the 'label' option")
    elif values["label"] is None:
        raise OptionError(f"model_type {type_name} needs a 'label' option naming the column "
                          "to predict")
    return model_type, values


def _kind(option: Option) -> str:
    names = {int: "an integer", float: "a number", _positive_int: "a positive integer",
             _fraction: "a number in [0, 1)", _non_negative_float: "a non-negative number",
             _positive_float: "a positive number",
             _update_every: "a whole number of seconds such as '1 minute'"}
    return names.get(option.parse, "a valid value")

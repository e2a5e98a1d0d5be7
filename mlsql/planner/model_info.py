"""ML_FEATURE_IMPORTANCE(MODEL m) and ML_TRAINING_INFO(MODEL m): what a model's versions
store, as tables; no job runs.

Feature importance: what the fitted payload records per encoded feature (LightGBM: its total
gain, 'gain'; another model type may name its own importance_type); for coefficient models
(linear and logistic regression) the magnitude of each encoded feature's coefficient on the
standardized feature ('standardized_coefficient'; a multi-class model's mean over classes, a
string column's one-hot entries as `column=value`).

Training info: a row per version and iteration from the version's recorded history
(mlsql.models.history); an online model's version gives one row (its update number and
prequential loss as eval_loss); a version trained before histories were kept, one row with
NULL loss.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from mlsql.errors import MlsqlError
from mlsql.models.history import LOSS_METRIC
from mlsql.models.registry import ModelVersion
from mlsql.planner.context import PlanContext
from mlsql.planner.predict import resolve_model
from mlsql.planner.values import table_subquery
from mlsql.syntax import ir
from udfs import features
from udfs.predictors import PREDICTOR_FILE

IMPORTANCE_COLUMNS = [("feature", "STRING"), ("importance", "DOUBLE"),
                      ("importance_type", "STRING")]
TRAINING_INFO_COLUMNS = [("version", "INT"), ("iteration", "INT"), ("loss", "DOUBLE"),
                         ("eval_loss", "DOUBLE"), ("duration_ms", "BIGINT"),
                         ("training_seconds", "DOUBLE"), ("options", "STRING")]


def feature_importance_subquery(call: ir.AnalysisCall, context: PlanContext) -> str:
    model = resolve_model(call.model, context)
    payload = json.loads((model.path / PREDICTOR_FILE).read_text())
    try:
        rows = feature_importance(payload, str(model.path))
    except ValueError as error:
        raise MlsqlError(f"model {model.name!r} ({model.metadata['model_type']})"
                         f" {error}", at=call.where) from None
    return table_subquery(context, "__mlsql_importance", IMPORTANCE_COLUMNS, rows)


def feature_importance(payload: dict[str, Any], directory: str) -> list[tuple[str, float, str]]:
    """(feature, importance, importance_type), the most important first.

    What the fitted payload says: a "feature_importance" dict (encoded feature -> value, of
    kind "feature_importance_type", default 'gain'), or a "coef" matrix (linear models)."""
    algorithm = payload.get("algorithm")
    if payload.get("task") == "imported":
        raise ValueError("has no feature importance: it was imported, trained elsewhere")
    importance = isinstance(payload.get("feature_importance"), dict) or algorithm == "lightgbm"
    coefficients = payload.get("coef") is not None and payload.get("task") in (
        "classification", "regression")
    if not (importance or coefficients):
        raise ValueError("has no feature importance: it is defined for models whose fit "
                         "records one per feature (e.g. boosted trees) and for coefficient "
                         "models (linear and logistic regression)")
    spec = payload["features"]
    names = features.feature_names(spec)
    if importance:
        gains = payload.get("feature_importance") or _booster_gains(payload, directory, names)
        values = np.array([gains.get(n, 0.0) for n in names], dtype=np.float64)
        kind = payload.get("feature_importance_type", "gain")
    else:
        coef = np.abs(np.asarray(payload["coef"], dtype=np.float64))
        if not spec["standardize"]:
            coef = coef * _encoded_std(spec)
        values, kind = coef.mean(axis=0), "standardized_coefficient"
    order = np.argsort(-values, kind="stable")
    return [(names[i], float(values[i]), kind) for i in order]


def _booster_gains(payload: dict[str, Any], directory: str, names: list[str]) -> dict[str, float]:
    import lightgbm

    booster = lightgbm.Booster(model_file=f"{directory}/{payload['booster_file']}")
    return dict(zip(names, booster.feature_importance(importance_type="gain").tolist(),
                    strict=True))


def _encoded_std(spec: dict[str, Any]) -> np.ndarray:
    """Each encoded feature's training standard deviation (1 for one-hot entries)."""
    return np.concatenate([
        [c["std"]] if c["kind"] == features.NUMERIC else np.ones(len(c["categories"]))
        for c in spec["columns"]])


def training_info_subquery(call: ir.AnalysisCall, context: PlanContext) -> str:
    ref = call.model
    resolved = resolve_model(ref, context)
    if ref.pinned or ref.latest:
        versions = [resolved]
    else:  # the model: every version
        versions = [context.registry.resolve(ref.name, v)
                    for v in context.registry.versions(ref.name)]
    rows = [row for version in versions for row in training_info(version)]
    return table_subquery(context, "__mlsql_training_info", TRAINING_INFO_COLUMNS, rows)


def training_info(model: ModelVersion) -> list[tuple[Any, ...]]:
    """The TRAINING_INFO_COLUMNS rows of one version."""
    meta = model.metadata
    options = json.dumps(meta.get("options", {}), sort_keys=True, default=str)
    training = meta.get("training") or {}
    seconds = training.get("seconds")
    history = training.get("history")
    if not history:
        online = meta.get("online")
        loss = (meta.get("metrics") or {}).get(LOSS_METRIC.get(meta.get("task"), ""))
        history = [{"iteration": online.get("update") if online else None, "loss": None,
                    "eval_loss": loss if online else None, "duration_ms": None}]
    return [(model.version, h["iteration"], h["loss"], h["eval_loss"], h["duration_ms"],
             seconds, options) for h in history]


ANALYSES = {ir.FEATURE_IMPORTANCE: feature_importance_subquery,
            ir.TRAINING_INFO: training_info_subquery}

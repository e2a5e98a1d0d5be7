"""SHOW MODELS, DESCRIBE MODEL and DROP MODEL, answered from the registry."""

from __future__ import annotations

import json

import pandas as pd

from mlsql import ir
from mlsql.errors import ModelNotFoundError
from mlsql.planner.context import PlanContext
from mlsql.planner.predict import resolve_model
from mlsql.registry import Registry


def show_models(statement: ir.ShowModels, registry: Registry) -> pd.DataFrame:
    rows = []
    for model in registry.list(statement.like):
        meta = model.metadata
        rows.append({
            "model": model.name,
            "version": model.version,
            "versions": len(registry.versions(model.name)),
            "model_type": meta["model_type"],
            "label": (meta.get("label") or {}).get("name"),
            "inputs": len(meta["inputs"]),
            "metrics": ", ".join(f"{k}={v:.4g}" for k, v in meta["metrics"].items()),
            "created_at": meta["created_at"],
        })
    columns = ["model", "version", "versions", "model_type", "label", "inputs", "metrics",
               "created_at"]
    return pd.DataFrame(rows, columns=columns)


def describe_model(statement: ir.DescribeModel, context: PlanContext) -> pd.DataFrame:
    """One row per fact: `section`, `name`, `value`, readable as a table or as CSV/JSON."""
    model = resolve_model(statement.model, context)
    meta = model.metadata
    rows = [("model", "name", model.name), ("model", "version", model.version),
            ("model", "model_type", meta["model_type"]),
            ("model", "created_at", meta["created_at"]),
            ("model", "path", str(model.path))]
    if meta.get("label"):
        rows.append(("label", meta["label"]["name"], meta["label"]["type"]))
    rows += [("input", i["name"], i["type"]) for i in meta["inputs"]]
    rows += [("output", o["name"], o["type"]) for o in meta["outputs"]]
    rows += [(f"metric ({meta['metrics_on']})", k, round(v, 6))
             for k, v in meta["metrics"].items()]
    rows += [("option", k, json.dumps(v) if not isinstance(v, str) else v)
             for k, v in meta["options"].items()]
    rows += [("rows", k, v) for k, v in meta["rows"].items()]
    for version in context.registry.versions(model.name):
        other = context.registry.resolve(model.name, version).metadata
        marker = " (serving)" if version == model.version else ""
        rows.append(("version", str(version), f"{other['created_at']}{marker}"))
    rows.append(("query", "AS", meta["query"]))
    frame = pd.DataFrame(rows, columns=["section", "name", "value"])
    frame["value"] = frame["value"].astype(str)
    return frame


def drop_model(statement: ir.DropModel, registry: Registry) -> None:
    ref = statement.model
    try:
        registry.drop(ref.name, ref.version)
    except ModelNotFoundError:
        if not statement.if_exists:
            raise

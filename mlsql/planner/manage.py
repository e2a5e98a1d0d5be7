"""SHOW MODELS, DESCRIBE MODEL and DROP MODEL, answered from the registry."""

from __future__ import annotations

import json

import pandas as pd

from mlsql.errors import ModelNotFoundError, OptionError, did_you_mean
from mlsql.models.registry import ModelVersion, Registry
from mlsql.monitoring import policy
from mlsql.planner.context import PlanContext
from mlsql.planner.predict import resolve_model
from mlsql.syntax import ir
from mlsql.syntax.dialect import quote_identifier, quote_literal
from mlsql.syntax.secrets import mask_sql
from mlsql.syntax.sensitive import mask_options

ALTERABLE = ("default_version",)


def show_models(statement: ir.ShowModels, registry: Registry) -> pd.DataFrame:
    rows = []
    for model in registry.list(statement.like):
        meta = model.metadata
        if "damaged" in meta:
            rows.append({"model": model.name, "version": model.version,
                         "versions": len(registry.versions(model.name)),
                         "model_type": "(damaged)", "metrics": meta["damaged"]})
            continue
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
    rows += [("transform", item["name"], item["expression"])
             for item in (meta.get("transform") or {}).get("items", [])]
    rows += [("output", o["name"], o["type"]) for o in meta["outputs"]]
    rows += [(f"metric ({meta['metrics_on']})", k, round(v, 6))
             for k, v in meta["metrics"].items()]
    rows += [("option", k, json.dumps(v) if not isinstance(v, str) else v)
             for k, v in mask_options(meta["options"]).items()]
    rows += [("rows", k, v) for k, v in meta["rows"].items()]
    for version in context.registry.versions(model.name):
        other = context.registry.resolve(model.name, version).metadata
        marker = " (serving)" if version == model.version else ""
        rows.append(("version", str(version), f"{other['created_at']}{marker}"))
    rows.append(("query", "AS", mask_sql(meta["query"])))  # stored before it was masked
    retraining = context.registry.model_info(model.name).get("retraining") or {}
    rows += [("retraining", policy.PREFIX + k, v) for k, v in retraining.items()]
    frame = pd.DataFrame(rows, columns=["section", "name", "value"])
    frame["value"] = frame["value"].astype(str)
    return frame


def show_create_model(statement: ir.ShowCreateModel, context: PlanContext) -> pd.DataFrame:
    """A statement that trains the same model again (a new version, same options), its
    sensitive option values masked."""
    model = resolve_model(statement.model, context)
    meta = model.metadata
    if meta["task"] == "imported":  # the import statement itself recreates it
        return pd.DataFrame({"statement": [mask_sql(meta["query"])]})
    return pd.DataFrame({"statement": [mask_sql(training_statement(model, meta["query"]))]})


def training_statement(model: ModelVersion, query: str) -> str:
    """CREATE MODEL for a new version of `model`: its TRANSFORM and options, over `query`."""
    options = dict(model.metadata["options"])
    ordered = {"model_type": options.pop("model_type"), **options}
    rendered = ",\n      ".join(f"{quote_literal(k)} = {quote_literal(_option_text(v))}"
                                for k, v in ordered.items())
    return (f"CREATE MODEL {quote_identifier(model.name)}\n{_transform_clause(model.metadata)}"
            f"WITH ({rendered})\nAS {query}")


def _transform_clause(meta: dict) -> str:
    """TRANSFORM (...) as written: training again fits it again on the query's rows."""
    items = (meta.get("transform") or {}).get("items")
    if not items:
        return ""
    written = ",\n           ".join(
        item["written"] if item["written"] == item["name"] or
        item["written"] == quote_identifier(item["name"]) else
        f"{item['written']} AS {quote_identifier(item['name'])}" for item in items)
    return f"TRANSFORM ({written})\n"


def alter_model(statement: ir.AlterModel, registry: Registry) -> None:
    name = statement.model.name
    if statement.if_exists and not registry.exists(name):
        return
    if statement.rename_to is not None:
        registry.rename(name, statement.rename_to)
        return
    settings = dict(statement.set_options)
    _check_keys(settings, "set")
    _check_keys(dict.fromkeys(statement.reset_options, ""), "reset")
    if "default_version" in settings:
        value = settings["default_version"]
        if not value.isdigit():
            raise OptionError(f"default_version must be a version number, not {value!r}")
        registry.set_default_version(name, int(value))
    if "default_version" in statement.reset_options:
        registry.set_default_version(name, None)
    _alter_retraining(name, settings, statement.reset_options, registry)


def _check_keys(keys: dict[str, str], verb: str) -> None:
    for key in keys:
        if key not in ALTERABLE and not key.startswith(policy.PREFIX) \
                and key != policy.PREFIX.rstrip("."):
            known = [*ALTERABLE, *(policy.PREFIX + o for o in policy.OPTIONS)]
            raise OptionError(f"ALTER MODEL cannot {verb} {key!r}{did_you_mean(key, known)}; "
                              f"{verb}table: default_version and the retraining policy's "
                              f"{policy.PREFIX}* options")


def _alter_retraining(name: str, settings: dict[str, str], resets: tuple[str, ...],
                      registry: Registry) -> None:
    """Merge the statement's retrain.* options into the stored policy; RESET ('retrain')
    drops the policy, RESET ('retrain.x') one option. The result must be a whole policy."""
    given = policy.policy_options(settings)
    dropped = policy.policy_options(dict.fromkeys(resets, ""))
    if not given and not dropped and policy.PREFIX.rstrip(".") not in resets:
        return
    if policy.PREFIX.rstrip(".") in resets:
        registry.set_retraining(name, None)
        return
    stored = registry.model_info(name).get("retraining") or {}
    merged = {k: v for k, v in {**stored, **given}.items() if k not in dropped}
    checked = policy.Policy.from_options(merged)
    _check_gate_metric(checked, registry.resolve(name))
    registry.set_retraining(name, merged)


def _check_gate_metric(checked: policy.Policy, serving: ModelVersion) -> None:
    metrics = serving.metadata.get("metrics") or {}
    metric = checked.gate_metric
    if metric is not None and metric not in metrics:
        raise policy.PolicyError(
            f"retrain.gate_metric {metric!r} is not a metric of model {serving.name!r}"
            f"{did_you_mean(metric, metrics)}; its metrics: {', '.join(metrics)}")


def _option_text(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def drop_model(statement: ir.DropModel, registry: Registry) -> None:
    ref = statement.model
    try:
        registry.drop(ref.name, ref.version)
    except ModelNotFoundError:
        if not statement.if_exists:
            raise

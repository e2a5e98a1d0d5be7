"""CREATE MODEL m INPUT (...) OUTPUT (...) WITH ('provider' = ...): register a model trained
elsewhere as a registry version, its file copied in, loaded once to check it works."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlsql.errors import MlsqlError, OptionError, SchemaError, did_you_mean
from mlsql.models.registry import METADATA_FILE, now_iso
from mlsql.runtime.flink_types import NUMERIC_ROOTS, STRING_ROOTS, to_data_type
from mlsql.syntax import ir
from mlsql.version import __version__
from udfs.predictors import PREDICTOR_FILE, ImportedPredictor

_OPTIONS = {"onnx": {"path"}, "lightgbm": {"path"}, "xgboost": {"path"},
            "python": {"class"}}
_TYPE_ROOTS = {"INT": "INTEGER", "STRING": "VARCHAR"}
_RUNTIME_PACKAGES = {"onnx": "onnxruntime", "xgboost": "xgboost-cpu"}


def import_model(statement: ir.ImportModel, context) -> pd.DataFrame:
    options = statement.option_map
    provider = options["provider"].lower()
    context.policy.check_provider(provider)
    required = _OPTIONS[provider]
    known = {"provider", *required}
    for key in options:
        if key not in known:
            raise OptionError(f"unknown option {key!r} for provider {provider}"
                              f"{did_you_mean(key, known)}; accepted: {', '.join(sorted(known))}")
    for key in required:
        if key not in options:
            raise OptionError(f"provider {provider} needs the option {key!r}")
    registry = context.registry
    if statement.if_not_exists and registry.exists(statement.name):
        return pd.DataFrame({"model": [statement.name], "status": ["exists, skipped"]})
    inputs = [_input(name, type_text, provider) for name, type_text in statement.inputs]
    outputs = [_output(name, type_text) for name, type_text in statement.outputs]
    if not inputs or not outputs:
        raise SchemaError(f"model {statement.name!r} needs an INPUT and an OUTPUT column list")

    with registry.new_version(statement.name) as staged:
        payload: dict[str, Any] = {"format": 1, "task": "imported", "algorithm": provider,
                                   "inputs": inputs, "outputs": outputs}
        if provider == "python":
            payload["class"] = options["class"]
        else:
            source = context.policy.check_model_file(
                Path(options["path"].removeprefix("file://")))
            if not source.is_file():
                raise MlsqlError(f"model file {source} not found (provider {provider})")
            payload["file"] = f"model{source.suffix}"
            shutil.copyfile(source, staged.path / payload["file"])
        (staged.path / PREDICTOR_FILE).write_text(json.dumps(payload, indent=2))
        _check_loads(payload, staged.path, provider)
        (staged.path / METADATA_FILE).write_text(json.dumps({
            "name": statement.name, "model_type": f"import:{provider}", "task": "imported",
            "label": None, "inputs": inputs, "outputs": outputs, "options": options,
            "query": statement.text, "metrics": {}, "metrics_on": "none", "rows": {},
            "created_at": now_iso(), "mlsql_version": __version__}, indent=2))
    context.progress(f"imported {statement.name} version {staged.version} ({provider})")
    return pd.DataFrame({"model": [statement.name], "version": [staged.version],
                         "model_type": [f"import:{provider}"]})


def _input(name: str, type_text: str, provider: str) -> dict[str, str]:
    root = _root(type_text)
    if root in NUMERIC_ROOTS:
        kind = "numeric"
    elif root in STRING_ROOTS and provider == "python":
        kind = "categorical"
    else:
        raise SchemaError(f"input {name!r} has type {type_text}: provider {provider} takes "
                          "numeric inputs" + (" or strings" if provider == "python" else ""))
    return {"name": name, "type": type_text, "kind": kind}


def _output(name: str, type_text: str) -> dict[str, str]:
    spelled = type_text.upper()
    try:
        to_data_type(spelled)
    except ValueError:
        raise SchemaError(f"output {name!r} has type {type_text}: use BOOLEAN, an integer "
                          "type, FLOAT, DOUBLE or STRING") from None
    return {"name": name, "type": spelled}


def _root(type_text: str) -> str:
    word = type_text.upper().split("(")[0].split()[0]
    return _TYPE_ROOTS.get(word, word)


def _check_loads(payload: dict[str, Any], directory: Path, provider: str) -> None:
    """Load the model and score one row of zeros, so a broken import fails now."""
    try:
        predictor = ImportedPredictor(payload, str(directory))
        zeros = [np.zeros(1) if i["kind"] == "numeric" else np.array([""], dtype=object)
                 for i in payload["inputs"]]
        predictor.predict(zeros)
    except ImportError as error:
        package = _RUNTIME_PACKAGES.get(provider, provider)
        raise MlsqlError(f"provider {provider} needs {package}: pip install "
                         f"'mlsql[providers]' ({error})") from None
    except Exception as error:
        raise MlsqlError(f"cannot use the {provider} model: {type(error).__name__}: "
                         f"{error}") from None

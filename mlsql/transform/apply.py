"""A model version's stored TRANSFORM applied to a table of raw columns, for ML_PREDICT,
ML_EVALUATE and the analysis functions: the table becomes

    (SELECT *, <item SQL> AS `__mlsql_transform_<column>`, ... FROM t)

and the model's inputs are read from those columns, so t's own columns pass through
unchanged whatever their names."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mlsql.errors import SchemaError, Site, did_you_mean
from mlsql.models.registry import ModelVersion
from mlsql.runtime.flink_types import Column
from mlsql.syntax.dialect import quote_identifier
from mlsql.transform.document import output_columns

PREFIX = "__mlsql_transform_"
_ROOTS = {"numeric": "DOUBLE", "categorical": "VARCHAR"}


@dataclass(frozen=True)
class Transformed:
    table_sql: str  # the table with the transform's columns added
    columns: list[Column]  # the table's columns and the added ones
    renames: dict[str, str]  # model column (input or label) -> the added column


def has_transform(model: ModelVersion) -> bool:
    return bool(model.metadata.get("transform"))


def apply_transform(model: ModelVersion, table_sql: str, columns: list[Column], where: Site,
                    runtime: Any, with_label: bool = False) -> Transformed | None:
    """None for a model without a TRANSFORM. Every raw column the needed items read must be
    in `columns`: a missing one is an error naming it, before any job."""
    document = model.metadata.get("transform")
    if not document:
        return None
    meta = model.metadata
    wanted = {i["name"]: i for i in meta["inputs"]}
    label = meta.get("label") or {}
    if with_label and label:
        wanted[label["name"]] = {"name": label["name"], "type": label["type"],
                                 "kind": "label"}
    available = {c.name for c in columns}
    added: list[str] = []
    extra: list[Column] = []
    renames: dict[str, str] = {}
    for item in document["items"]:
        if not any(name in wanted for name in item["columns"]):
            continue
        for column in item["reads"]:
            if column not in available:
                role = ("its label" if label and item["columns"] == [label["name"]]
                        else "its inputs")
                raise SchemaError(
                    f"column {column!r} not found in {table_sql}; model "
                    f"{model.name!r} computes {role} from it in its TRANSFORM "
                    f"({item['written']} AS {item['name']}){did_you_mean(column, available)}",
                    at=where)
        for name, sql in output_columns(item["expression"], item["name"], runtime):
            if name not in wanted:
                continue
            internal = PREFIX + name
            added.append(f"{sql} AS {quote_identifier(internal)}")
            spec = wanted[name]
            root = _ROOTS.get(spec["kind"]) or spec["type"].split("(")[0]
            extra.append(Column(internal, spec["type"], "INTEGER" if root == "INT" else root))
            renames[name] = internal
    missing = [name for name in wanted if name not in renames and name in (
        i["name"] for i in meta["inputs"])]
    if missing:
        raise SchemaError(f"model {model.name!r}'s TRANSFORM makes no column "
                          f"{missing[0]!r}", at=where)
    source = f"(SELECT *, {', '.join(added)} FROM {table_sql})"
    return Transformed(source, [*columns, *extra], renames)

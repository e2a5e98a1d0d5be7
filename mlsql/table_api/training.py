"""`session.create_model("m", table, model_type=..., label=..., **options)`: CREATE MODEL
... AS SELECT over a PyFlink Table, through the same training code as the SQL statement."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd
from pyflink.table import Table

from mlsql.errors import MlsqlError, OptionError
from mlsql.runtime.job_handle import JobHandle
from mlsql.syntax.dialect import quote_identifier, quote_literal
from mlsql.table_api.binding import Session, session_of, table_views


def create_model(session: Session, name: str, table: Table, *, model_type: str,
                 label: str | None = None, transform: Sequence[str] | None = None,
                 **options: object) -> pd.DataFrame | JobHandle | None:
    """Train model `name` (a new version) on `table`'s rows. `transform`: TRANSFORM items
    as SQL text (`"ML_STANDARD_SCALER(amount) OVER () AS amount_z"`, `"is_fraud"`); other
    keyword arguments are the model type's options (`num_trees=100`). Returns the training
    summary as CREATE MODEL does (a streaming job's handle for an online model type)."""
    if session_of(table, "create_model") is not session:
        raise MlsqlError("create_model: the Table belongs to another Session")
    with table_views(session, {"training": table}, "create_model") as views:
        statement = create_model_sql(name, f"SELECT * FROM {views['training']}", model_type,
                                     label, transform, options)
        return session.sql(statement)


def create_model_sql(name: str, query: str, model_type: str, label: str | None,
                     transform: Sequence[str] | None, options: Mapping[str, object]) -> str:
    written = ", ".join(f"{quote_literal(key)} = {quote_literal(text)}"
                        for key, text in option_texts(model_type, label, options).items())
    # One item a line: a `--` comment in an item ends with its line.
    items = ", ".join(f"{item}\n" for item in transform or ())
    clause = f"\nTRANSFORM ({items})" if transform else ""
    return f"CREATE MODEL {quote_identifier(name)}{clause}\nWITH ({written})\nAS {query}"


def option_texts(model_type: str, label: str | None,
                 options: Mapping[str, object]) -> dict[str, str]:
    """CREATE MODEL's options, as the statement's WITH (...) holds them."""
    every = {"model_type": model_type, **({"label": label} if label is not None else {}),
             **options}
    return {key: option_text(key, value) for key, value in every.items()}


def option_text(key: str, value: object) -> str:
    """A Python option value as CREATE MODEL's option text: str as is, bool true/false,
    numbers, and lists as '[a, b]' (hidden_units)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple) and all(isinstance(v, int | float | str)
                                               for v in value):
        return "[" + ", ".join(str(v) for v in value) + "]"
    raise OptionError(f"option {key!r}: a {type(value).__name__} has no option text (give "
                      "a str, bool, number or list)")

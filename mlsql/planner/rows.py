"""What the plan-time analysis functions share: a table argument's column by name, and a
query's rows fetched with Flink's error shown at the call."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from mlsql.errors import FlinkError, MlsqlError, SchemaError, Site, did_you_mean
from mlsql.planner.context import PlanContext
from mlsql.runtime.flink_errors import to_flink_error
from mlsql.runtime.flink_types import Column
from mlsql.syntax import ir
from mlsql.training.extract import fetch


def argument_column(columns: Mapping[str, Column], ref: ir.ColumnRef,
                    call: ir.AnalysisCall) -> Column:
    """The column a DESCRIPTOR names, or an error at it naming the closest."""
    column = columns.get(ref.name)
    if column is None:
        raise SchemaError(f"column {ref.name!r} is not in {call.table_sql}"
                          f"{did_you_mean(ref.name, columns)}",
                          at=Site(call.function, ref.position))
    return column


def fetch_rows(context: PlanContext, sql: str, where: Site) -> pd.DataFrame:
    """`sql`'s rows (one job); a failed job is a FlinkError at `where`."""
    try:
        return fetch(context.runtime, sql)
    except MlsqlError:
        raise
    except Exception as error:
        raise FlinkError(to_flink_error(error).message, at=where) from None

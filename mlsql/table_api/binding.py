"""Which Session a PyFlink Table belongs to, and a Table's SQL name for the length of one
statement's planning."""

from __future__ import annotations

import contextlib
import itertools
import re
from collections.abc import Iterator
from typing import Any, Protocol

from pyflink.table import Table

from mlsql.errors import FlinkError, MlsqlError, SqlSyntaxError
from mlsql.frontend.parser import parse_one
from mlsql.planner.context import PlanContext
from mlsql.runtime.environment import FlinkRuntime
from mlsql.runtime.flink_errors import to_flink_error, without_positions
from mlsql.syntax import ir
from mlsql.syntax.dialect import quote_identifier


class Session(Protocol):
    """What the Table API uses of an mlsql.Session (which imports this package: the Table
    API names no Session class, so the two never import each other)."""
    runtime: FlinkRuntime
    context: PlanContext

    @property
    def table_env(self) -> Any: ...

    @property
    def in_statement_set(self) -> bool: ...

    def plan(self, parsed: ir.FlinkStatement) -> str: ...

    def sql(self, text: str) -> Any: ...


_VIEW_NUMBERS = itertools.count(1)


def session_of(table: object, function: str) -> Session:
    if not isinstance(table, Table):
        raise MlsqlError(f"{function} takes a pyflink.table.Table, not a "
                         f"{type(table).__name__} (a DataFrame becomes one with "
                         "session.table_env.from_pandas(frame))")
    session = getattr(table._t_env, "_mlsql_owner", None)
    if session is None:
        raise MlsqlError(f"{function}: this Table belongs to no mlsql Session's "
                         "TableEnvironment; make it from session.table_env (from_path, "
                         "from_pandas, sql_query, ...)")
    if not session.runtime.owns(table._t_env):
        raise MlsqlError(f"{function}: this Table was made before SET "
                         "'execution.runtime-mode' changed its Session's mode, which "
                         "replaces the TableEnvironment: make it again")
    return session


@contextlib.contextmanager
def table_views(session: Session, tables: dict[str, Table],
                function: str) -> Iterator[dict[str, str]]:
    """Each table as a temporary view (name -> quoted view name) while a statement is
    planned; Flink resolves views when it plans, so the returned Table outlives them.
    Errors name `function` and the Table, not the generated statement's view and places."""
    t_env = session.runtime.t_env
    names: dict[str, str] = {}
    try:
        for key, table in tables.items():
            view = f"__mlsql_table_{next(_VIEW_NUMBERS)}"
            t_env.create_temporary_view(view, table)
            names[key] = view
        yield {key: quote_identifier(view) for key, view in names.items()}
    except MlsqlError as error:
        # Its positions point into the statement generated here, which the user never saw.
        located = error.located(None)
        message = str(located) if not isinstance(error, SqlSyntaxError) else error.message
        if isinstance(error, FlinkError):
            message = without_positions(message)
        for key, view in names.items():
            message = re.sub(_VIEW_NAME.format(view=view), f"the {key} Table", message)
        raise _retitled(located, f"{function}: {message}") from None
    finally:
        for view in names.values():
            t_env.drop_temporary_view(view)


# A view's name as Flink or mlsql may write it: quoted or not, qualified or not.
_VIEW_NAME = r"(`?default_catalog`?\.`?default_database`?\.)?`?{view}`?(?!\d)"


def _retitled(error: MlsqlError, message: str) -> MlsqlError:
    """`error` (its class and fields kept) saying `message`, at no subject or position."""
    error.message, error.subject, error.position = message, None, None
    error.args = (message,)
    return error.with_traceback(None)


def planned_query(session: Session, sql: str) -> Table:
    """A query holding ML calls, rewritten by the session's planner, as a lazy Table."""
    parsed = parse_one(sql)
    if not isinstance(parsed, ir.FlinkStatement):
        raise MlsqlError(f"not a query: {sql[:60]}")
    try:
        text = session.plan(parsed)
        return session.runtime.sql_query(text)
    except MlsqlError:
        raise
    except Exception as error:
        raise to_flink_error(error) from None
    finally:
        if not session.in_statement_set:  # its INSERTs read the plan-time views
            session.context.drop_plan_views()

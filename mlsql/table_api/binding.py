"""Which Session a PyFlink Table belongs to, and a Table's SQL name for the length of one
statement's planning."""

from __future__ import annotations

import contextlib
import itertools
import re
import weakref
from collections.abc import Iterator
from typing import TYPE_CHECKING

from pyflink.table import Table

from mlsql import ir
from mlsql.dialect import quote_identifier
from mlsql.errors import MlsqlError, SqlSyntaxError
from mlsql.flink_errors import to_flink_error
from mlsql.parser import parse_one

if TYPE_CHECKING:
    from mlsql.session import Session

_SESSIONS: weakref.WeakSet[Session] = weakref.WeakSet()
_VIEW_NUMBERS = itertools.count(1)


def register(session: Session) -> None:
    """Called by every Session, so its Tables can find it."""
    _SESSIONS.add(session)


def session_of(table: object, function: str) -> Session:
    if not isinstance(table, Table):
        raise MlsqlError(f"{function} takes a pyflink.table.Table, not a "
                         f"{type(table).__name__} (a DataFrame becomes one with "
                         "session.table_env.from_pandas(frame))")
    for session in list(_SESSIONS):
        if session.runtime.owns(table._t_env):
            return session
    raise MlsqlError(
        f"{function}: this Table belongs to no mlsql Session's TableEnvironment; make it "
        "from session.table_env (from_path, from_pandas, sql_query, ...). A Session "
        "replaces its TableEnvironment when SET 'execution.runtime-mode' changes the mode: "
        "Tables made before that change must be made again")


@contextlib.contextmanager
def table_views(session: Session, tables: dict[str, Table],
                function: str) -> Iterator[dict[str, str]]:
    """Each table as a temporary view (name -> quoted view name) while a statement is
    planned; Flink resolves views when it plans, so the returned Table outlives them.
    Errors name `function` and the Table, not the generated statement's view and columns."""
    t_env = session.runtime.t_env
    names: dict[str, str] = {}
    try:
        for key, table in tables.items():
            view = f"__mlsql_table_{next(_VIEW_NUMBERS)}"
            t_env.create_temporary_view(view, table)
            names[key] = view
        yield {key: quote_identifier(view) for key, view in names.items()}
    except MlsqlError as error:
        if isinstance(error, SqlSyntaxError):
            raise
        message = _POSITION.sub("", str(error))
        for key, view in names.items():
            message = message.replace(quote_identifier(view), f"the {key} Table")
        raise type(error)(f"{function}: {message}") from None
    finally:
        for view in names.values():
            t_env.drop_temporary_view(view)


# "(at line 1, column 57)", "at line 1, column 32: ": places in the SQL written here.
_POSITION = re.compile(r" ?\(at line \d+, column \d+\)| ?at line \d+, column \d+(: )?")


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
        session.context.drop_plan_views()

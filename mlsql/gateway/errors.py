"""Errors in the shape Flink's SQL Gateway sends them, so its clients show them as usual.

Flink's REST handlers answer a failed request with `{"errors": [...]}`: a request the
handler cannot parse gets 400 and one message; a failure inside the service gets 500,
"Internal server error." and the server-side stack trace, from which Flink's SQL client and
JDBC driver show the innermost `Caused by:` line. We send our message there, whole, so a
user sees mlsql's error (with its line, column and caret) and not a Java trace.
"""

from __future__ import annotations

from dataclasses import dataclass

_SERVICE_EXCEPTION = "org.apache.flink.table.gateway.api.utils.SqlGatewayException"


@dataclass
class RestError(Exception):
    status: int
    errors: list[str]

    def body(self) -> dict[str, list[str]]:
        return {"errors": self.errors}


def bad_request(message: str) -> RestError:
    return RestError(400, [f"org.apache.flink.runtime.rest.handler.RestHandlerException: "
                           f"{message}"])


def not_found(path: str) -> RestError:
    return RestError(404, [f"Not found: {path}"])


def service_error(summary: str, cause: BaseException | str) -> RestError:
    """A 500 whose root cause is `cause`: an exception (its class and message) or a text."""
    if isinstance(cause, BaseException):
        kind = type(cause)
        root = f"{kind.__module__}.{kind.__qualname__}: {cause}"
    else:
        root = cause
    trace = (f"<Exception on server side:\n{_SERVICE_EXCEPTION}: {summary}\n"
             f"\tat mlsql.gateway\nCaused by: {root}\n\tat mlsql.gateway\n\n"
             "End of exception on server side>")
    return RestError(500, ["Internal server error.", trace])

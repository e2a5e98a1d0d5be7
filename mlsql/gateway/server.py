"""The REST front end: Flink SQL Gateway's REST API (versions V1-V4), routed to sessions.

It holds no JVM: every statement runs in its session's worker process (sessions.py). What it
answers itself: the API versions, the gateway's info, heartbeats, and errors for requests it
cannot parse, in the shapes Flink's own gateway uses (see errors.py).
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import ssl
import sys
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from mlsql.gateway.errors import RestError, bad_request, not_found, service_error
from mlsql.gateway.sessions import Sessions
from mlsql.gateway.tls import session_options
from mlsql.services.flink_dist import flink_version

API_VERSIONS = ("V1", "V2", "V3", "V4")
_VERSION_PREFIX = re.compile(r"^/(v\d+)(/.*)$", re.IGNORECASE)
_SESSION = r"sessions/(?P<session>[^/]+)"
_OPERATION = _SESSION + r"/operations/(?P<operation>[^/]+)"


@dataclass
class Request:
    method: str
    version: str      # "v4"
    path: str         # without the version prefix, e.g. "sessions/<id>/statements"
    query: dict[str, list[str]]
    body: dict[str, Any]
    params: dict[str, str]


Handler = Callable[["Gateway", Request], Any]
_ROUTES: list[tuple[str, re.Pattern[str], Handler, str]] = []


def route(method: str, pattern: str, body_name: str = "EmptyRequestBody"):
    def register(handler: Handler) -> Handler:
        _ROUTES.append((method, re.compile(f"^{pattern}$"), handler, body_name))
        return handler
    return register


class Gateway:
    def __init__(self, sessions: Sessions) -> None:
        self.sessions = sessions

    def dispatch(self, method: str, raw_path: str, raw_body: bytes) -> tuple[int, Any]:
        try:
            return 200, self._dispatch(method, raw_path, raw_body)
        except RestError as error:
            return error.status, error.body()
        except Exception as error:  # a bug of ours must not take the server down
            return 500, service_error("Request failed.", error).body()

    def _dispatch(self, method: str, raw_path: str, raw_body: bytes) -> Any:
        url = urlsplit(raw_path)
        match = _VERSION_PREFIX.match(url.path)
        # An unversioned path means the newest version, as in Flink 2.2's gateway.
        version, path = (match.group(1).lower(), match.group(2)) if match else ("v4", url.path)
        if version.upper() not in API_VERSIONS:
            raise not_found(url.path)
        path = path.strip("/")
        for route_method, pattern, handler, body_name in _ROUTES:
            found = pattern.match(path)
            if found and route_method == method:
                params = found.groupdict()
                for name in ("session", "operation"):
                    if name in params:
                        _check_handle(name, params[name])
                request = Request(method, version, path, parse_qs(url.query),
                                  _body(raw_body, body_name), params)
                return handler(self, request)
        raise not_found(url.path)


def _check_handle(name: str, value: str) -> None:
    try:
        uuid.UUID(value)
    except ValueError:
        raise bad_request(f"Bad request, could not parse parameters: Cannot resolve path "
                          f"parameter ({name}_handle) from value \"{value}\".") from None


def _body(raw: bytes, body_name: str) -> dict[str, Any]:
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):  # not JSON, not UTF-8, nested past Python's stack
        body = None
    if not isinstance(body, dict):
        raise bad_request(f"Request did not match expected format {body_name}.")
    return body


def _text(request: Request, key: str, body_name: str) -> str:
    value = request.body.get(key)
    if not isinstance(value, str):
        raise bad_request(f"Request did not match expected format {body_name}.")
    return value


# -- handlers --------------------------------------------------------------------------------

@route("GET", "api_versions")
def api_versions(gateway: Gateway, request: Request) -> Any:
    return {"versions": list(API_VERSIONS)}


@route("GET", "info")
def info(gateway: Gateway, request: Request) -> Any:
    return {"productName": "Apache Flink", "version": flink_version()}


@route("POST", "sessions", "OpenSessionRequestBody")
def open_session(gateway: Gateway, request: Request) -> Any:
    properties = request.body.get("properties") or {}
    if not isinstance(properties, dict):
        raise bad_request("Request did not match expected format OpenSessionRequestBody.")
    # A client's own TLS keys and passwords (Flink's clients send their whole configuration)
    # are no session's business.
    handle = gateway.sessions.open(session_options({str(k): str(v)
                                                    for k, v in properties.items()}))
    return {"sessionHandle": handle}


@route("GET", _SESSION)
def session_config(gateway: Gateway, request: Request) -> Any:
    return _call(gateway, request, {"kind": "config"})


@route("DELETE", _SESSION)
def close_session(gateway: Gateway, request: Request) -> Any:
    gateway.sessions.close(request.params["session"])
    return {"status": "CLOSED"}


@route("POST", _SESSION + "/heartbeat")
def heartbeat(gateway: Gateway, request: Request) -> Any:
    gateway.sessions.get(request.params["session"]).touch()
    return {}


@route("POST", _SESSION + "/configure-session", "ConfigureSessionRequestBody")
def configure_session(gateway: Gateway, request: Request) -> Any:
    statement = _text(request, "statement", "ConfigureSessionRequestBody")
    return _call(gateway, request, {"kind": "configure", "statement": statement})


@route("GET", _SESSION + "/complete-statement", "CompleteStatementRequestBody")
def complete_statement(gateway: Gateway, request: Request) -> Any:
    statement = _text(request, "statement", "CompleteStatementRequestBody")
    position = request.body.get("position", len(statement))
    if not isinstance(position, int):
        raise bad_request("Request did not match expected format CompleteStatementRequestBody.")
    return _call(gateway, request, {"kind": "complete", "statement": statement,
                                    "position": position})


@route("POST", _SESSION + "/statements", "ExecuteStatementRequestBody")
def execute_statement(gateway: Gateway, request: Request) -> Any:
    statement = _text(request, "statement", "ExecuteStatementRequestBody")
    return _call(gateway, request, {"kind": "execute", "statement": statement})


@route("GET", _OPERATION + "/status")
def operation_status(gateway: Gateway, request: Request) -> Any:
    return _call(gateway, request, {"kind": "status", "operation": request.params["operation"]})


@route("POST", _OPERATION + "/cancel")
def cancel_operation(gateway: Gateway, request: Request) -> Any:
    return _call(gateway, request, {"kind": "cancel", "operation": request.params["operation"]})


@route("DELETE", _OPERATION + "/close")
def close_operation(gateway: Gateway, request: Request) -> Any:
    return _call(gateway, request, {"kind": "close_operation",
                                    "operation": request.params["operation"]})


@route("GET", _OPERATION + r"/result/(?P<token>[^/]+)")
def fetch_results(gateway: Gateway, request: Request) -> Any:
    row_format = (request.query.get("rowFormat") or ["JSON"])[0].upper()
    if row_format not in ("JSON", "PLAIN_TEXT"):
        raise bad_request(f"Bad request, could not parse parameters: rowFormat {row_format!r} "
                          "is not JSON or PLAIN_TEXT.")
    token = _token(request.params["token"])
    base = f"/{request.version}/{request.path.rsplit('/', 1)[0]}"
    return _call(gateway, request, {
        "kind": "fetch", "operation": request.params["operation"], "token": token,
        "row_format": row_format,
        "uri": f"{base}/{token}?rowFormat={row_format}",
        "next_uri": f"{base}/{token + 1}?rowFormat={row_format}"})


def _token(text: str) -> int:
    """A page token: a Java long, as Flink's gateway parses it."""
    if not (text.isascii() and text.isdigit() and len(text) <= 18):
        raise bad_request(f"Bad request, could not parse parameters: Cannot resolve path "
                          f"parameter (token) from value \"{text[:100]}\".")
    return int(text)


def _call(gateway: Gateway, request: Request, message: dict[str, Any]) -> Any:
    return gateway.sessions.get(request.params["session"]).call(message)


# -- HTTP -------------------------------------------------------------------------------------

_MAX_BODY = 16 * 2**20           # a statement is text: 16 MiB is far more than any needs
_IO_TIMEOUT_S = 60.0             # a client that stops sending or reading is dropped after it
_HANDSHAKE_TIMEOUT_S = 10.0
_MAX_CONNECTIONS = 128           # with _MAX_BODY, what bounds the memory requests take
_LINGER_S, _LINGER_BYTES = 2.0, 2**20
_LOOPBACK_NAMES = {"127.0.0.1", "localhost", "::1", "[::1]"}


class _HttpHandler(BaseHTTPRequestHandler):
    server: _HttpServer
    protocol_version = "HTTP/1.1"
    # What a request line too garbled to name its version is answered in: HTTP/0.9, the
    # default, would send the error without a status line.
    default_request_version = "HTTP/1.1"
    timeout = _IO_TIMEOUT_S  # each read and write on the connection

    def _handle(self) -> None:
        try:
            raw = self._read_body()
            self._check_origin()
        except RestError as error:
            self.close_connection = True  # an unread body may follow: not a next request
            self._send(error.status, error.body())
            return
        self._send(*self.server.gateway.dispatch(self.command, self.path, raw))

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding"):
            raise RestError(411, ["Bad request: a body needs a Content-Length (chunked "
                                  "transfer encoding is not served)."])
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise bad_request("Bad request: Content-Length is not a number.") from None
        if length < 0:
            raise bad_request(f"Bad request: Content-Length {length}.")
        if length > _MAX_BODY:  # refused unread
            raise RestError(413, [f"Request entity too large: a body of {length} bytes, at "
                                  f"most {_MAX_BODY}."])
        raw = self.rfile.read(length) if length else b""
        if len(raw) < length:
            raise bad_request(f"Bad request: the body ended after {len(raw)} of {length} "
                              "bytes.")
        kind = self.headers.get("Content-Type", "application/json").split(";")[0].strip()
        if raw.strip() and kind.lower() != "application/json":
            # What a web page can send without asking (text/plain, forms) is refused.
            raise bad_request(f"Bad request: Content-Type {kind!r}, not application/json.")
        return raw

    def _check_origin(self) -> None:
        """On a loopback address, only requests addressed to it (no DNS rebinding)."""
        if self.server.server_address[0] not in _LOOPBACK_NAMES:
            return
        host = (self.headers.get("Host") or "").rsplit(":", 1)[0]
        if host and host not in _LOOPBACK_NAMES:
            raise bad_request(f"Bad request: Host {host!r} is not this gateway's address.")

    def _send(self, status: int, body: Any) -> None:
        data = (body if isinstance(body, str) else json.dumps(body)).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def send_error(self, code: int, message: str | None = None,
                   explain: str | None = None) -> None:
        """What the HTTP layer refuses (a bad request line, an unknown method, an overlong
        header) in Flink's error shape too, not as an HTML page."""
        self.log_error("code %d, message %s", code, message)
        self.close_connection = True
        self._send(code, {"errors": [message or self.responses.get(code, ("Error",))[0]]})

    do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = _handle

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            sys.stderr.write(f"[mlsql gateway] {self.address_string()} {format % args}\n")


class _HttpServer(ThreadingHTTPServer):
    """A thread per connection: a client that stops reading or sending holds only its own
    thread, until _IO_TIMEOUT_S drops it. With TLS, the handshake runs there too, never in
    the accepting thread."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], gateway: Gateway, verbose: bool,
                 tls: ssl.SSLContext | None = None) -> None:
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        super().__init__(address, _HttpHandler)
        self.gateway = gateway
        self.verbose = verbose
        self.tls = tls
        self._connections = threading.BoundedSemaphore(_MAX_CONNECTIONS)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._connections.acquire(blocking=False):
            sys.stderr.write(f"[mlsql gateway] {client_address[0]} refused: "
                             f"{_MAX_CONNECTIONS} connections open\n")
            self.close_request(request)  # at once: this is the accepting thread
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._connections.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._connections.release()

    def finish_request(self, request: Any, client_address: Any) -> None:
        if self.tls is None:
            super().finish_request(request, client_address)
            return
        request.settimeout(_HANDSHAKE_TIMEOUT_S)
        try:
            secured = self.tls.wrap_socket(request, server_side=True)
        except OSError as error:  # SSLError too: no certificate, plain HTTP, a port scan
            if self.verbose:
                sys.stderr.write(f"[mlsql gateway] {client_address[0]} TLS refused: {error}\n")
            return
        try:
            super().finish_request(secured, client_address)
        finally:
            self.shutdown_request(secured)

    def shutdown_request(self, request: Any) -> None:
        """Close after reading what the client still sends (a refused body, the rest of an
        overlong line), a little: closing on unread data resets the connection, and the
        client may lose the answer sent just before."""
        with contextlib.suppress(OSError):
            request.shutdown(socket.SHUT_WR)
            request.settimeout(_LINGER_S)
            drained = 0
            while drained < _LINGER_BYTES and (chunk := request.recv(65536)):
                drained += len(chunk)
        self.close_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, OSError):  # the client went away mid-answer
            if self.verbose:
                sys.stderr.write(f"[mlsql gateway] {client_address[0]} {error}\n")
            return
        super().handle_error(request, client_address)


def make_server(host: str, port: int, sessions: Sessions, verbose: bool = False,
                tls: ssl.SSLContext | None = None) -> _HttpServer:
    return _HttpServer((host, port), Gateway(sessions), verbose, tls)

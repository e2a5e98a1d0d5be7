"""The gateway's REST API under malformed requests: malformed JSON, wrong types, unknown
session and operation ids, oversized bodies, garbage on the wire and clients that stop
reading or sending. Every request gets a 4xx or 5xx in Flink's error shape (never a dropped
connection or a hang), the gateway's memory stays bounded, and a live session with an open
result answers throughout."""

from __future__ import annotations

import http.client
import itertools
import json
import socket
import string
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.gateway_helpers import start_gateway, stop_gateway, submit_statement

pytestmark = [pytest.mark.slow, pytest.mark.gateway]
TIMEOUT_S = 30  # a request unanswered this long is a hang
# Pages of about 1 MB: enough to fill the socket buffers of a client that stops reading.
BIG_TABLE = ("CREATE TABLE big (s STRING) WITH ('connector' = 'datagen', "
             "'number-of-rows' = '20000', 'fields.s.length' = '1000')")
SEEN: Counter[int] = Counter()  # the statuses the battery got, for the report


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    # One session at most: the live one. Any other open is refused at once, not a JVM each.
    gateway = start_gateway(tmp_path_factory.mktemp("gateway-fuzz"), "--max-sessions", "1")
    yield gateway
    stop_gateway(gateway)
    assert not gateway.session_processes(), "session processes outlived the gateway"


@pytest.fixture(scope="module")
def live(gateway):
    """(session, operation): a session whose big query has an open result."""
    status, opened = gateway.request("POST", "/v4/sessions", b"{}")
    assert status == 200, opened
    session = opened["sessionHandle"]
    _finish(gateway, session, submit_statement(gateway, session, BIG_TABLE))
    operation = submit_statement(gateway, session, "SELECT s FROM big")
    _finish(gateway, session, operation)
    return session, operation


def _finish(gateway, session: str, operation: str) -> None:
    deadline = time.monotonic() + 300
    while (state := gateway.request(
            "GET", f"/v4/sessions/{session}/operations/{operation}/status")[1]["status"]) \
            == "RUNNING":
        assert time.monotonic() < deadline
        time.sleep(0.3)
    assert state == "FINISHED", state


def _address(gateway) -> tuple[str, int]:
    host, port = gateway.address.rsplit(":", 1)
    return host, int(port)


def _exchange(gateway, raw: bytes, method: str = "GET") -> tuple[int, dict]:
    """Send raw bytes as one request; the answer's status and JSON body ({} for HEAD). A
    dropped connection or no answer within TIMEOUT_S fails the test."""
    with socket.create_connection(_address(gateway), timeout=TIMEOUT_S) as connection:
        connection.sendall(raw)
        response = http.client.HTTPResponse(connection, method=method)
        response.begin()
        body = response.read()
    return response.status, json.loads(body or b"{}")


def _request(method: str, path: str, body: bytes = b"",
             headers: dict[str, str] | None = None) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close",
             *(f"{key}: {value}" for key, value in (headers or {}).items())]
    if not any(key.lower() == "content-length" for key in headers or {}):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def _assert_flink_error(status: int, body: dict) -> None:
    SEEN[status] += 1
    assert 400 <= status < 600, (status, body)
    assert isinstance(body, dict) and set(body) == {"errors"}, body
    assert body["errors"] and all(isinstance(e, str) and e for e in body["errors"]), body


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def _assert_live(gateway, live) -> None:
    """The live session answers: its configuration, its open result's status, a statement."""
    session, operation = live
    status, config = gateway.request("GET", f"/v4/sessions/{session}")
    assert status == 200 and "properties" in config
    status, state = gateway.request(
        "GET", f"/v4/sessions/{session}/operations/{operation}/status")
    assert (status, state) == (200, {"status": "FINISHED"})


# -- the battery: every endpoint, malformed ---------------------------------------------------

ENDPOINTS = [
    ("GET", "/{v}/api_versions"), ("GET", "/{v}/info"), ("POST", "/{v}/sessions"),
    ("GET", "/{v}/sessions/{s}"), ("DELETE", "/{v}/sessions/{s}"),
    ("POST", "/{v}/sessions/{s}/heartbeat"), ("POST", "/{v}/sessions/{s}/configure-session"),
    ("GET", "/{v}/sessions/{s}/complete-statement"), ("POST", "/{v}/sessions/{s}/statements"),
    ("GET", "/{v}/sessions/{s}/operations/{o}/status"),
    ("POST", "/{v}/sessions/{s}/operations/{o}/cancel"),
    ("DELETE", "/{v}/sessions/{s}/operations/{o}/close"),
    ("GET", "/{v}/sessions/{s}/operations/{o}/result/{t}"),
]
# What would legitimately change the live session: closing it or its result.
DESTRUCTIVE = {("DELETE", "/{v}/sessions/{s}"), ("POST", "/{v}/sessions/{s}/operations/{o}/cancel"),
               ("DELETE", "/{v}/sessions/{s}/operations/{o}/close")}
SEGMENT = st.text(string.ascii_letters + string.digits + "-_.~%{}", min_size=1, max_size=40)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=12)
NOT_TEXT = JSON_VALUES.filter(lambda value: not isinstance(value, str))
# Bodies of the right keys with the wrong types; a string statement is left out: it would run.
WRONG_TYPES = st.fixed_dictionaries({}, optional={
    "statement": NOT_TEXT, "properties": JSON_VALUES.filter(lambda v: not isinstance(v, dict)),
    "position": NOT_TEXT.filter(lambda v: not isinstance(v, int)),
    "executionTimeout": JSON_VALUES, "executionConfig": JSON_VALUES})
BODIES = st.one_of(
    st.binary(max_size=200),                                   # not JSON, not UTF-8
    st.text(max_size=200).map(str.encode),
    JSON_VALUES.filter(lambda v: not isinstance(v, dict)).map(lambda v: json.dumps(v).encode()),
    WRONG_TYPES.map(lambda v: json.dumps(v).encode()),
    st.integers(1, 5000).map(lambda depth: b"[" * depth + b"]" * depth),
    st.just(b"{not json"), st.just(b""))
HEADERS = st.fixed_dictionaries({}, optional={
    "Content-Type": st.sampled_from(["application/json", "text/plain", "application/x-www-"
                                     "form-urlencoded", "application/json; charset=UTF-8",
                                     ""]),
    "Content-Length": st.sampled_from(["abc", "-1", "0x10", "1" * 30]),
    "Transfer-Encoding": st.just("chunked")}).filter(lambda headers: len(headers) < 3)


@st.composite
def malformed_requests(draw, live_session: str, live_operation: str) -> tuple[str, str, bytes,
                                                                            dict[str, str]]:
    method, template = draw(st.sampled_from(ENDPOINTS))
    method = draw(st.sampled_from([method] * 8 + ["PUT", "PATCH", "OPTIONS", "HEAD"]))
    ids = {"s": draw(st.sampled_from([live_session] * 3 + [str(uuid.uuid4()), "not-a-uuid"])
                     | SEGMENT),
           "o": draw(st.sampled_from([live_operation] * 2 + [str(uuid.uuid4())]) | SEGMENT),
           # not 1: fetching the next page would move the live result on
           "t": draw(st.sampled_from(["0", "7", "-1", "x", "9" * 19, "9" * 5000])
                     | SEGMENT.filter(lambda t: not t.isdigit())),
           "v": draw(st.sampled_from(["v1", "v2", "v3", "v4", "v9", "V4", ""]))}
    if (method, template) in DESTRUCTIVE or (ids["s"] == live_session and method == "HEAD"):
        ids["s"] = str(uuid.uuid4())
    path = template.format(**ids).replace("//", "/")
    if draw(st.booleans()):
        path += "?" + draw(st.sampled_from(["rowFormat=XML", "rowFormat=", "rowFormat=%ff",
                                            "a=b&a=c", "=" * 50]))
    body = draw(BODIES)
    headers = draw(st.sampled_from([{}] * 4) | HEADERS)
    if body == b"" and method == "GET":  # a valid GET needs no body: make it a wrong one
        body = b"{not json"
    return method, path, body, headers


def _must_fail(method: str, path: str, body: bytes, headers: dict[str, str]) -> bool:
    """Whether a request is malformed for certain: a wrong method, a body that is not a JSON
    object, a bad header, a version or id no route takes. (The strategies also make a few
    well-formed ones, such as a heartbeat of the live session with a body of {}.)"""
    try:
        is_object = isinstance(json.loads(body), dict) if body.strip() else True
    except (ValueError, RecursionError):
        is_object = False
    kind = headers.get("Content-Type", "application/json").split(";")[0]
    segments = path.split("?")[0].strip("/").split("/")
    return (method not in ("GET", "POST", "DELETE") or not is_object
            or "Content-Length" in headers or "Transfer-Encoding" in headers
            or (bool(body.strip()) and kind != "application/json")
            or segments[0].lower() == "v9"
            or any(not _is_uuid(value) for key, value in itertools.pairwise(segments)
                   if key in ("sessions", "operations")))


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def test_malformed_requests_get_flink_errors_and_memory_stays_bounded(gateway, live):
    session, operation = live
    pid = gateway.process.pid
    before = _rss_kib(pid)
    sent = 0

    @settings(max_examples=300, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(malformed_requests(session, operation))
    def battery(request: tuple[str, str, bytes, dict[str, str]]) -> None:
        nonlocal sent
        method, path, body, headers = request
        sent += 1
        status, answer = _exchange(gateway, _request(method, path, body, headers), method)
        if method == "HEAD":  # no body in a HEAD answer
            SEEN[status] += 1
            assert 400 <= status < 600
        elif _must_fail(method, path, body, headers) or status != 200:
            _assert_flink_error(status, answer)
        else:
            SEEN[status] += 1

    battery()
    _assert_live(gateway, live)
    after = _rss_kib(pid)
    print(f"\n{sent} malformed requests; statuses {dict(SEEN)}; gateway RSS {before} KiB "
          f"before, {after} KiB after")
    assert after - before < 64 * 1024, (before, after)


@pytest.mark.parametrize("raw", [
    b"GARBAGE\r\n\r\n",
    b"GET /v1/info HTTP/2.0\r\nHost: 127.0.0.1\r\n\r\n",
    b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    b"GET /v1/info HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"b" * 70000 + b"\r\n\r\n",
    b"GET /v1/info HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"X-A: 1\r\n" * 200 + b"\r\n",
    b"FROB /v1/info HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(range(256)) + b"\r\n\r\n",
    b"GET /v1/info HTTP/1.1\r\nHost: evil.example\r\n\r\n",
], ids=["garbage", "http2", "long-line", "long-header", "many-headers", "unknown-method",
        "tls-hello", "foreign-host"])
def test_garbage_on_the_wire_gets_flink_errors(gateway, live, raw):
    _assert_flink_error(*_exchange(gateway, raw))
    _assert_live(gateway, live)


def test_deep_json_is_a_bad_request(gateway, live):
    session, _ = live
    status, body = _exchange(gateway, _request(
        "POST", f"/v4/sessions/{session}/statements", b"[" * 100000 + b"]" * 100000,
        {"Content-Type": "application/json"}))
    _assert_flink_error(status, body)
    assert status == 400 and "ExecuteStatementRequestBody" in body["errors"][0]


def test_an_oversized_body_is_refused_unread(gateway, live):
    """A 100 MB Content-Length gets 413 at once: the gateway reads none of it."""
    pid = gateway.process.pid
    before = _rss_kib(pid)
    session, _ = live
    started = time.monotonic()
    with socket.create_connection(_address(gateway), timeout=TIMEOUT_S) as connection:
        connection.sendall(_request("POST", f"/v4/sessions/{session}/statements",
                                    headers={"Content-Type": "application/json",
                                             "Content-Length": str(100 * 2**20)}))
        connection.sendall(b'{"statement": "' + b"x" * 65536)  # the start of the body
        response = http.client.HTTPResponse(connection)
        response.begin()
        body = json.loads(response.read())
    _assert_flink_error(response.status, body)
    assert response.status == 413 and "too large" in body["errors"][0]
    assert time.monotonic() - started < 25  # within TIMEOUT_S, loaded CI included
    assert _rss_kib(pid) - before < 16 * 1024
    _assert_live(gateway, live)


def test_clients_that_stop_reading_or_sending_hold_no_one_else(gateway, live):
    """Connections that stop reading a big result, stop mid-header or mid-body each hold only
    their own thread: the rest are answered at once, the live session included."""
    session, operation = live
    page = f"/v4/sessions/{session}/operations/{operation}/result/0?rowFormat=JSON"
    stuck = []
    try:
        reader = socket.socket()
        reader.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        reader.connect(_address(gateway))
        reader.sendall(_request("GET", page).replace(b"Connection: close", b"X-A: b") * 20)
        stuck.append(reader)
        for partial in (b"GET /v1/info HTTP/1.1\r\nHost: 127.0.0.1\r\n",
                        _request("POST", f"/v4/sessions/{session}/statements",
                                 headers={"Content-Length": "1000"}) + b'{"statem'):
            for _ in range(10):
                stuck.append(socket.create_connection(_address(gateway), timeout=TIMEOUT_S))
                stuck[-1].sendall(partial)
        time.sleep(1)
        started = time.monotonic()
        assert gateway.request("GET", "/v1/info")[0] == 200
        _assert_live(gateway, live)
        status, body = gateway.request("GET", page)
        assert status == 200 and body["resultType"] == "PAYLOAD", body
        assert len(json.dumps(body)) > 2**20  # what the stuck reader was sent: it fills buffers
        assert time.monotonic() - started < 25  # within TIMEOUT_S, loaded CI included
    finally:
        for connection in stuck:
            connection.close()


def test_unknown_ids_on_every_endpoint_get_flink_errors(gateway, live):
    session, _ = live
    missing = str(uuid.uuid4())
    for method, template in ENDPOINTS[3:]:
        for ids in ({"s": missing, "o": missing}, {"s": session, "o": missing}):
            if ids["s"] == session and "{o}" not in template:
                continue  # the live session itself: a well-formed request
            path = template.format(v="v4", t="0", **ids)
            body = b'{"statement": "SHOW MODELS"}' if "statements" in path or \
                "configure" in path or "complete" in path else b""
            status, answer = _exchange(gateway, _request(method, path, body))
            _assert_flink_error(status, answer)
            assert status == 500, answer
            assert "does not exist" in answer["errors"][1] or \
                "Can not find the submitted operation" in answer["errors"][1], answer
    _assert_live(gateway, live)

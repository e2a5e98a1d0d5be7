"""Who may connect: `mlsql gateway` with mutual TLS from Flink's own `security.ssl.rest.*`
options. Flink's real SQL client and JDBC driver with the client certificate run queries;
without it (or with a certificate the gateway does not trust) they, curl-like Python clients
and plain HTTP are refused, and the gateway serves on."""

from __future__ import annotations

import http.client
import socket
import ssl

import pytest

from tests.integration.gateway_helpers import (
    compile_jdbc_program,
    jdbc_process,
    make_tls_stores,
    run_sql_client_script,
    sql_client_process,
    start_gateway,
    stop_gateway,
    tableau_rows,
)

pytestmark = [pytest.mark.slow, pytest.mark.gateway]
QUERY = "SELECT 41 + 1 AS answer"
TABLEAU = "SET 'sql-client.execution.result-mode' = 'tableau';\n"


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return tmp_path_factory.mktemp("gateway-tls")


@pytest.fixture(scope="module")
def stores(root):
    return make_tls_stores(root / "stores")


@pytest.fixture(scope="module")
def gateway(root, stores):
    gateway = start_gateway(root, *stores.gateway_arguments(), tls=stores.python_context())
    yield gateway
    stop_gateway(gateway)


@pytest.fixture(scope="module")
def jdbc_classes(root):
    return compile_jdbc_program(root)


def _address(gateway) -> tuple[str, int]:
    host, port = gateway.address.rsplit(":", 1)
    return host, int(port)


def _answer(gateway, context: ssl.SSLContext) -> str | OSError:
    """GET /v1/info over TLS with a client `context`: the body, or the error."""
    connection = http.client.HTTPSConnection(gateway.address, timeout=30, context=context)
    try:
        connection.request("GET", "/v1/info")
        return connection.getresponse().read().decode()
    except OSError as error:  # ssl.SSLError among them
        return error
    finally:
        connection.close()


def test_sql_client_with_the_certificate_gets_rows(gateway, stores, root):
    output = run_sql_client_script(gateway, TABLEAU + QUERY + ";\n", root, "tls.sql",
                                   stores.sql_client_arguments("client"))
    assert ["+I", "42"] in tableau_rows(output, 2), output[-3000:]


def test_sql_client_without_a_trusted_certificate_is_refused(gateway, stores, root):
    for who in (None, "stranger"):
        result = sql_client_process(gateway, TABLEAU + QUERY + ";\n", root, "tls.sql",
                                    stores.sql_client_arguments(who), timeout=120)
        assert result.returncode != 0
        assert "Failed to create the executor" in result.stderr, result.stderr[-3000:]
        assert "SSLHandshakeException" in result.stderr, result.stderr[-3000:]
        assert ["+I", "42"] not in tableau_rows(result.stdout, 2)


def test_jdbc_driver_with_the_certificate_gets_rows(gateway, stores, jdbc_classes):
    result = jdbc_process(gateway, jdbc_classes, [QUERY], stores.client_options("client"))
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    assert result.stdout.splitlines()[-2:] == ["columns: answer", "42"]


def test_jdbc_driver_without_the_certificate_is_refused(gateway, stores, jdbc_classes):
    result = jdbc_process(gateway, jdbc_classes, [QUERY], stores.client_options(None))
    assert result.returncode != 0
    assert "SSLHandshakeException" in result.stderr, result.stderr[-3000:]
    assert "42" not in result.stdout


def test_python_clients_need_a_trusted_certificate(gateway, stores):
    assert '"productName": "Apache Flink"' in _answer(gateway, stores.python_context("client"))
    for who in (None, "stranger"):
        # TLS 1.3: the handshake ends on the client's side before the gateway checks the
        # certificate, and its alert (or the reset of the closed connection) comes at the
        # first read; never an HTTP answer.
        answer = _answer(gateway, stores.python_context(who))
        assert isinstance(answer, ssl.SSLError | ConnectionResetError), answer


def test_plain_http_to_the_tls_port_gets_no_answer(gateway):
    with socket.create_connection(_address(gateway), timeout=30) as plain:
        plain.sendall(b"GET /v1/info HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        try:
            answer = plain.recv(4096)
        except ConnectionResetError:
            answer = b""
    assert b"Apache Flink" not in answer and not answer.startswith(b"HTTP/1.1 200")


def test_a_client_that_never_handshakes_does_not_hold_the_others(gateway, stores):
    """The TLS handshake runs in the connection's own thread, not the accepting one."""
    with socket.create_connection(_address(gateway), timeout=30):
        assert '"version"' in _answer(gateway, stores.python_context("client"))

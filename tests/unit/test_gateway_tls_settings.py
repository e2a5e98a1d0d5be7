"""The gateway's TLS settings from Flink's keys, and who may bind what without TLS; nothing
here starts Flink or listens on a port."""

from __future__ import annotations

import signal
import ssl
from types import SimpleNamespace

import pytest

from mlsql.cli.main import main
from mlsql.errors import MlsqlError
from mlsql.gateway.tls import (
    check_binding,
    endpoint_context,
    is_loopback,
    session_options,
    tls_settings,
)
from tests.integration.gateway_helpers import make_tls_stores


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    return make_tls_stores(tmp_path_factory.mktemp("stores"))


def gateway_options(stores) -> dict[str, str]:
    arguments = stores.gateway_arguments()
    return dict(text.split("=", 1) for text in arguments[1::2])


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.53", "::1", "[::1]", "localhost"])
def test_loopback_needs_no_tls(host):
    assert is_loopback(host)
    check_binding(host, None, insecure=False)


@pytest.mark.parametrize("host", ["0.0.0.0", "", "::", "10.1.2.3", "gateway.example.com"])
def test_other_addresses_without_tls_are_refused_unless_insecure(host):
    with pytest.raises(MlsqlError) as refused:
        check_binding(host, None, insecure=False)
    message = str(refused.value)
    assert "without TLS" in message and "--insecure" in message
    assert "security.ssl.rest.enabled=true" in message
    assert "security.ssl.rest.keystore=" in message
    check_binding(host, None, insecure=True)


def test_the_cli_refuses_before_starting_anything(capsys):
    assert main(["gateway", "--host", "0.0.0.0", "--port", "0"]) == 1
    error = capsys.readouterr().err
    assert "refusing to serve on 0.0.0.0 without TLS" in error and "--insecure" in error


def test_the_cli_warns_when_insecure(monkeypatch, capsys):
    started = []

    def start(config, progress=None):  # stands in for the server: nothing listens
        started.append(config)
        endpoint_context(config.host, config.options, config.insecure)
        return SimpleNamespace(address=("0.0.0.0", 8083), scheme="http",
                               serve_forever=lambda: None)

    monkeypatch.setattr("mlsql.gateway.start_gateway", start)
    previous = signal.getsignal(signal.SIGTERM)  # the command sets its own
    try:
        assert main(["gateway", "--host", "0.0.0.0", "--insecure"]) == 0
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert started[0].insecure
    assert "warning: --insecure: plain HTTP on 0.0.0.0" in capsys.readouterr().err


def test_tls_is_off_unless_enabled():
    assert tls_settings({}) is None
    assert tls_settings({"security.ssl.rest.enabled": "false",
                         "security.ssl.rest.keystore": "/nowhere"}) is None


@pytest.mark.parametrize(("options", "message"), [
    ({"security.ssl.rest.enabled": "yes"}, "must be true or false"),
    ({"security.ssl.rest.enabled": "true"}, "security.ssl.rest.keystore is not set"),
    ({"security.ssl.rest.enabled": "true", "security.ssl.rest.keystore": "/nowhere.p12"},
     "/nowhere.p12 does not exist"),
    ({"security.ssl.rest.enabled": "true", "security.ssl.rest.authentication-enabled": "true",
      "security.ssl.rest.keystore": "/nowhere.p12"}, "security.ssl.rest.truststore is not set"),
])
def test_incomplete_settings_are_named(options, message):
    with pytest.raises(MlsqlError, match=message):
        tls_settings(options)


def test_flink_keystores_make_a_context_that_requires_client_certificates(stores):
    """A PKCS12 keystore and a JKS truststore (converted by keytool), as Flink reads them."""
    context = endpoint_context("0.0.0.0", gateway_options(stores), insecure=False)
    assert context is not None and context.verify_mode == ssl.CERT_REQUIRED
    (trusted,) = context.get_ca_certs()
    assert trusted["subject"] == ((("commonName", "client"),),)
    one_way = gateway_options(stores)
    del one_way["security.ssl.rest.authentication-enabled"]
    assert endpoint_context("0.0.0.0", one_way, False).verify_mode == ssl.CERT_NONE


def test_the_security_ssl_keys_are_fallbacks_as_in_flink(stores):
    options = {key.replace("security.ssl.rest.", "security.ssl.", 1)
               if "store" in key or "password" in key else key: value
               for key, value in gateway_options(stores).items()}
    assert endpoint_context("127.0.0.1", options, False).verify_mode == ssl.CERT_REQUIRED


@pytest.mark.parametrize("key", ["security.ssl.rest.keystore-password",
                                 "security.ssl.rest.truststore-password"])
def test_a_wrong_password_is_named(stores, key):
    options = gateway_options(stores) | {key: "wrong"}
    if key.endswith("keystore-password"):
        options["security.ssl.rest.key-password"] = "wrong"
    with pytest.raises(MlsqlError, match=r"cannot (use the TLS stores|read TLS store)"):
        endpoint_context("127.0.0.1", options, False)


def test_tls_keys_reach_no_session():
    options = {"security.ssl.rest.keystore-password": "secret",
               "security.ssl.truststore": "/x", "table.exec.x": "1", "mlsql.y": "2"}
    assert session_options(options) == {"table.exec.x": "1", "mlsql.y": "2"}

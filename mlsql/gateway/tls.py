"""Who may connect: TLS and mutual TLS from Flink's own REST SSL options.

The gateway reads the keys Flink's REST endpoint reads (`security.ssl.rest.*`, each falling
back to its `security.ssl.*` form as in Flink), so one set of keystores serves Flink's gateway
and ours, and Flink's SQL client and JDBC driver connect with their usual settings.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import ssl
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from mlsql.errors import MlsqlError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
    from cryptography.x509 import Certificate

PREFIX = "security.ssl.rest."
_JKS_MAGIC = b"\xfe\xed\xfe\xed"
_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


@dataclass(frozen=True)
class TlsSettings:
    keystore: Path
    keystore_password: str     # also the key's (security.ssl.rest.key-password)
    keystore_type: str          # "pkcs12" or "jks"; Flink's default is the JVM's, PKCS12
    mutual: bool                # security.ssl.rest.authentication-enabled
    truststore: Path | None
    truststore_password: str
    truststore_type: str


def _option(options: Mapping[str, str], name: str, default: str = "") -> str:
    for key in (PREFIX + name, "security.ssl." + name):
        if key in options:
            return options[key]
    return default


def _flag(options: Mapping[str, str], key: str) -> bool:
    value = options.get(key, "false").strip().lower()
    if value not in ("true", "false"):
        raise MlsqlError(f"{key} must be true or false, not {options[key]!r}")
    return value == "true"


def tls_settings(options: Mapping[str, str]) -> TlsSettings | None:
    """The gateway's TLS settings from Flink's keys; None when security.ssl.rest.enabled is
    not true. A missing keystore or truststore is named before anything starts."""
    if not _flag(options, PREFIX + "enabled"):
        return None
    mutual = _flag(options, PREFIX + "authentication-enabled")
    keystore = _option(options, "keystore")
    if not keystore:
        raise MlsqlError(f"{PREFIX}enabled is true but {PREFIX}keystore is not set: the "
                         "gateway needs its certificate and key (a PKCS12 or JKS keystore)")
    truststore = _option(options, "truststore")
    if mutual and not truststore:
        raise MlsqlError(f"{PREFIX}authentication-enabled is true but {PREFIX}truststore is "
                         "not set: the gateway needs the certificates it accepts clients by")
    store_password = _option(options, "keystore-password")
    if _option(options, "key-password", store_password) != store_password:
        # as in keystores that keytool and openssl make by default
        raise MlsqlError(f"the gateway reads keystores whose key has the store's password: "
                         f"{PREFIX}key-password differs from {PREFIX}keystore-password")
    settings = TlsSettings(
        keystore=_existing(keystore), keystore_password=store_password,
        keystore_type=_option(options, "keystore-type", "pkcs12").lower(), mutual=mutual,
        truststore=_existing(truststore) if truststore else None,
        truststore_password=_option(options, "truststore-password"),
        truststore_type=_option(options, "truststore-type", "pkcs12").lower())
    for kind in (settings.keystore_type, settings.truststore_type):
        if kind not in ("pkcs12", "jks"):
            raise MlsqlError(f"keystore type {kind!r}: the gateway reads PKCS12 and JKS")
    return settings


def _existing(path: str) -> Path:
    resolved = Path(path).expanduser()
    if not resolved.is_file():
        raise MlsqlError(f"TLS store {path} does not exist")
    return resolved


def session_options(options: Mapping[str, str]) -> dict[str, str]:
    """The options sessions get: the endpoint's TLS keys (and passwords) stay the gateway's."""
    return {key: value for key, value in options.items() if not _is_tls_key(key)}


def _is_tls_key(key: str) -> bool:
    return key.startswith("security.ssl.")


def is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_binding(host: str, tls: TlsSettings | None, insecure: bool) -> None:
    """Anything but loopback needs TLS, or --insecure said out loud."""
    if tls is not None or insecure or is_loopback(host):
        return
    raise MlsqlError(
        f"refusing to serve on {host or 'every address'} without TLS: anyone who reaches it "
        f"could run statements. Give Flink's REST TLS options (-D {PREFIX}enabled=true "
        f"-D {PREFIX}keystore=... -D {PREFIX}keystore-password=..., and for client "
        f"certificates -D {PREFIX}authentication-enabled=true -D {PREFIX}truststore=... "
        f"-D {PREFIX}truststore-password=...), bind 127.0.0.1, or pass --insecure")


def endpoint_context(host: str, options: Mapping[str, str],
                     insecure: bool) -> ssl.SSLContext | None:
    """The gateway endpoint's SSLContext, None for plain HTTP; refuses what check_binding
    refuses, before anything starts."""
    settings = tls_settings(options)
    check_binding(host, settings, insecure)
    return server_context(settings) if settings else None


def server_context(settings: TlsSettings) -> ssl.SSLContext:
    """A server SSLContext; with mutual TLS a client must show a certificate the truststore
    vouches for (CERT_REQUIRED)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2  # Flink's security.ssl.protocol default
    try:
        key, chain = _key_and_chain(settings)
        _load_cert_chain(context, key, chain)
        if settings.mutual:
            context.verify_mode = ssl.CERT_REQUIRED
            context.load_verify_locations(cadata=_trusted_pem(settings))
    except (ValueError, ssl.SSLError) as error:  # a wrong password, not a keystore
        raise MlsqlError(f"cannot use the TLS stores ({settings.keystore}"
                         f"{', ' + str(settings.truststore) if settings.truststore else ''}): "
                         f"{error}") from None
    return context


# Python's ssl module reads PEM only; Flink's stores are PKCS12 or JKS. `cryptography` (PyCA)
# reads PKCS12 in this process: no password on a command line, no dependence on the system
# openssl's version or its legacy provider. JKS, which no Python library maintained by a
# large project reads, is first converted by the JDK's keytool (the JVM mlsql runs on).

def _pkcs12() -> ModuleType:
    try:
        from cryptography.hazmat.primitives.serialization import pkcs12
    except ImportError:
        raise MlsqlError("the gateway's TLS reads keystores with the `cryptography` package: "
                         "pip install cryptography") from None
    return pkcs12


def _key_and_chain(settings: TlsSettings) -> tuple[PrivateKeyTypes, list[Certificate]]:
    pkcs12 = _pkcs12()
    data = _pkcs12_bytes(settings.keystore, settings.keystore_type, settings.keystore_password)
    store = pkcs12.load_pkcs12(data, settings.keystore_password.encode() or None)
    if store.key is None or store.cert is None:
        raise MlsqlError(f"keystore {settings.keystore} holds no private key and certificate")
    return store.key, [store.cert.certificate, *(c.certificate for c in store.additional_certs)]


def _trusted_pem(settings: TlsSettings) -> str:
    from cryptography.hazmat.primitives.serialization import Encoding

    pkcs12 = _pkcs12()
    assert settings.truststore is not None
    data = _pkcs12_bytes(settings.truststore, settings.truststore_type,
                         settings.truststore_password)
    store = pkcs12.load_pkcs12(data, settings.truststore_password.encode() or None)
    certificates = [c.certificate for c in (
        [store.cert] if store.cert else []) + list(store.additional_certs)]
    if not certificates:
        raise MlsqlError(f"truststore {settings.truststore} holds no certificate")
    return "".join(c.public_bytes(Encoding.PEM).decode() for c in certificates)


def _pkcs12_bytes(path: Path, kind: str, password: str) -> bytes:
    data = path.read_bytes()
    if data.startswith(_JKS_MAGIC) or kind == "jks":
        return _keytool_to_pkcs12(path, password)
    return data


def _keytool_to_pkcs12(path: Path, password: str) -> bytes:
    """A JKS store as PKCS12 with the same password (given to keytool in its environment)."""
    with tempfile.TemporaryDirectory(prefix="mlsql-tls-") as directory:
        target = Path(directory) / "store.p12"
        try:
            result = subprocess.run(
                ["keytool", "-importkeystore", "-noprompt", "-srckeystore", str(path),
                 "-srcstorepass:env", "MLSQL_STORE_PASS", "-destkeystore", str(target),
                 "-deststoretype", "PKCS12", "-deststorepass:env", "MLSQL_STORE_PASS"],
                capture_output=True, text=True, timeout=60,
                env={**os.environ, "MLSQL_STORE_PASS": password})
        except FileNotFoundError:
            raise MlsqlError(f"{path} is a JKS store: reading it needs the JDK's keytool on "
                             "PATH (or give a PKCS12 store)") from None
        if result.returncode != 0:
            raise MlsqlError(f"cannot read TLS store {path}: "
                             f"{(result.stdout + result.stderr).strip()[-500:]}")
        return target.read_bytes()


def _load_cert_chain(context: ssl.SSLContext, key: PrivateKeyTypes,
                     chain: list[Certificate]) -> None:
    """load_cert_chain reads files only: the key goes to one encrypted with a random password,
    in a private directory removed at once."""
    from cryptography.hazmat.primitives.serialization import (
        BestAvailableEncryption,
        Encoding,
        PrivateFormat,
    )

    password = secrets.token_urlsafe(24).encode()
    with tempfile.TemporaryDirectory(prefix="mlsql-tls-") as name:  # mode 0700
        directory = Path(name)
        key_file, cert_file = directory / "key.pem", directory / "chain.pem"
        key_file.write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8,
                                               BestAvailableEncryption(password)))
        cert_file.write_bytes(b"".join(c.public_bytes(Encoding.PEM) for c in chain))
        context.load_cert_chain(cert_file, key_file, password)


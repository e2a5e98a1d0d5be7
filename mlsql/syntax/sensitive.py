"""Which option keys hold secrets, by Flink's own rule (GlobalConfiguration.isSensitive in
Flink 2.2): a key is sensitive when, lower-cased, it contains one of SENSITIVE_KEYS. Its
value is shown as HIDDEN_CONTENT wherever mlsql shows options (mlsql.syntax.secrets masks
them inside SQL text and messages)."""

from __future__ import annotations

from collections.abc import Mapping

# org.apache.flink.configuration.GlobalConfiguration.SENSITIVE_KEYS, in Flink's order.
SENSITIVE_KEYS = ("password", "secret", "fs.azure.account.key", "apikey", "api-key",
                  "auth-params", "service-key", "token", "basic-auth", "jaas.config",
                  "http-headers")
HIDDEN = "******"  # GlobalConfiguration.HIDDEN_CONTENT


def is_sensitive(key: str) -> bool:
    lowered = key.lower()
    return any(word in lowered for word in SENSITIVE_KEYS)


def mask_options(options: Mapping[str, object]) -> dict[str, object]:
    """A copy of `options` with every sensitive key's value HIDDEN."""
    return {key: HIDDEN if is_sensitive(key) else value for key, value in options.items()}

"""Java artifacts mlsql runs beside PyFlink, resolved from Maven Central into a cache."""

from mlsql.services.jars.resolve import Bundle, bundle, cache_root, resolve

__all__ = ["Bundle", "bundle", "cache_root", "resolve"]

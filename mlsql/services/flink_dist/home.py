"""A configuration of PyFlink's distribution: a conf dir, a log dir and an opt dir."""

from __future__ import annotations

import contextlib
import functools
import os
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path

import yaml

from mlsql.services.jars.resolve import cache_root

# Set by PyFlink in a process that runs Python UDFs in "loopback" mode. A child process that
# inherits them sends its own jobs' Python UDFs back to the parent's server (and the parent's
# environment is overwritten with the child's Flink's), or refuses to start a JVM at all.
PYFLINK_PROCESS_VARIABLES = ("PYTHON_LOOPBACK_SERVER_ADDRESS", "PYFLINK_GATEWAY_DISABLED",
                             "_PYFLINK_CONN_INFO_PATH")

# Logging configuration files the scripts name (-Dlog4j.configurationFile=...).
_LOG_CONFIGS = ("log4j.properties", "log4j-cli.properties", "log4j-console.properties",
                "log4j-session.properties", "logback.xml", "logback-console.xml",
                "logback-session.xml")


@functools.cache
def pyflink_home() -> Path:
    import pyflink

    return Path(pyflink.__file__).resolve().parent


@functools.cache
def flink_version() -> str:
    from pyflink.version import __version__

    return __version__


class FlinkDist:
    """PyFlink's bin/ with mlsql's `<cache>/flink/<name>/{conf,log}`, an opt/ holding
    PyFlink's opt jars plus `extra_opt_jars`, and, when `extra_lib_jars` are given, a lib/
    holding PyFlink's lib jars plus those (symlinks, nothing copied).

    Several processes may set up the same dist at once (two SQL clients, a gateway and a
    client) while a script of a third reads it: every file and link is replaced atomically,
    and left alone when it is already what it should be."""

    def __init__(self, name: str, settings: Mapping[str, object],
                 extra_opt_jars: Iterable[Path] = (),
                 extra_lib_jars: Iterable[Path] = ()) -> None:
        self.root = cache_root() / "flink" / name
        self.conf_dir = self.root / "conf"
        self.log_dir = self.root / "log"
        self.opt_dir = self.root / "opt"
        extra_lib = list(extra_lib_jars)
        self.lib_dir = self.root / "lib" if extra_lib else pyflink_home() / "lib"
        self._write_conf(settings)
        _link_jars(self.opt_dir, pyflink_home() / "opt", list(extra_opt_jars))
        if extra_lib:
            _link_jars(self.lib_dir, pyflink_home() / "lib", extra_lib)

    @property
    def bin_dir(self) -> Path:
        return pyflink_home() / "bin"

    def script(self, name: str) -> Path:
        return self.bin_dir / name

    def env(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """The environment a bin/ script runs with: ours in place of PyFlink's dirs."""
        env = dict(os.environ if base is None else base)
        for variable in PYFLINK_PROCESS_VARIABLES:  # this process's PyFlink, not theirs
            env.pop(variable, None)
        env.update(FLINK_HOME=str(pyflink_home()), FLINK_CONF_DIR=str(self.conf_dir),
                   FLINK_LOG_DIR=str(self.log_dir), FLINK_OPT_DIR=str(self.opt_dir),
                   FLINK_LIB_DIR=str(self.lib_dir))
        return env

    def _write_conf(self, settings: Mapping[str, object]) -> None:
        self.conf_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        source = pyflink_home() / "conf"
        for name in _LOG_CONFIGS:
            if (source / name).exists():
                _replace_file(self.conf_dir / name, (source / name).read_bytes())
        # PyFlink's own settings (its JVM flags for Java 17 among them), then ours.
        merged = pyflink_settings() | dict(settings)
        _replace_file(self.conf_dir / "config.yaml",
                      yaml.safe_dump(merged, sort_keys=True).encode())


def _temporary_name(path: Path) -> Path:
    """A hidden sibling of `path` no other process picks (scripts glob `*.jar`, `*.yaml`)."""
    return path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")


def _replace_file(path: Path, content: bytes) -> None:
    with contextlib.suppress(FileNotFoundError):
        if path.read_bytes() == content:
            return
    temporary = _temporary_name(path)
    temporary.write_bytes(content)
    os.replace(temporary, path)


def _link_jars(directory: Path, source: Path, extra: list[Path]) -> None:
    """`directory` as symlinks to the jars of `source` plus `extra`, stale links removed."""
    directory.mkdir(parents=True, exist_ok=True)
    wanted = {jar.name: jar.resolve() for jar in [*source.glob("*.jar"), *extra]}
    for existing in directory.iterdir():
        if existing.name.startswith("."):  # another process's link in the making
            continue
        if existing.name not in wanted:
            existing.unlink(missing_ok=True)
    for name, jar in wanted.items():
        link = directory / name
        if link.is_symlink() and link.resolve() == jar:
            continue
        temporary = _temporary_name(link)
        temporary.symlink_to(jar)
        os.replace(temporary, link)


@functools.cache
def pyflink_settings() -> dict[str, object]:
    """PyFlink's conf/config.yaml as flat keys (Flink 2 reads nested and flat alike)."""
    loaded = yaml.safe_load((pyflink_home() / "conf" / "config.yaml").read_text()) or {}
    return _flatten(loaded)


def _flatten(tree: Mapping[str, object], prefix: str = "") -> dict[str, object]:
    flat: dict[str, object] = {}
    for key, value in tree.items():
        if isinstance(value, Mapping):
            flat |= _flatten(value, f"{prefix}{key}.")
        else:
            flat[f"{prefix}{key}"] = value
    return flat

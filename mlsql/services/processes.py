"""Probes for the servers mlsql starts on this machine (a Kafka broker, a Flink cluster)."""

from __future__ import annotations

import contextlib
import os
import random
import socket
from pathlib import Path

HOST = "127.0.0.1"


def alive(pid: int | None) -> bool:
    """Is `pid` a running process (a zombie, exited but not reaped, is not)?"""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still answers kill(0).
    with contextlib.suppress(OSError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    return True


def port_in_use(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((HOST, port)) == 0


# Linux's default range for bind(HOST, 0) and for the local end of outgoing connections.
_DEFAULT_EPHEMERAL = (32768, 60999)
_LOWEST = 10000


def ephemeral_ports() -> tuple[int, int]:
    """The range the kernel picks ephemeral ports from (inclusive)."""
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return _DEFAULT_EPHEMERAL


def free_port() -> int:
    """A port nothing listens on now, for a server that binds it seconds later (a broker's
    JVM). It is outside the ephemeral range: a port from bind(0) went back to that pool, and
    any connection or bind(0) made meanwhile (a Flink job, a py4j call) could take it first
    ("Address already in use"). Random, so concurrent callers rarely pick the same one."""
    low, high = ephemeral_ports()
    spans = [(start, end) for start, end in ((_LOWEST, low - 1), (high + 1, 65535))
             if end >= start]
    pick = random.SystemRandom()
    for _ in range(200):
        start, end = pick.choice(spans) if spans else (_LOWEST, 65535)
        port = pick.randint(start, end)
        with socket.socket() as probe:
            try:
                probe.bind((HOST, port))
            except OSError:
                continue
        if not port_in_use(port):
            return port
    with socket.socket() as probe:  # every try taken: let the kernel choose
        probe.bind((HOST, 0))
        return probe.getsockname()[1]

"""Probes for the servers mlsql starts on this machine (a Kafka broker, a Flink cluster)."""

from __future__ import annotations

import contextlib
import os
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


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]

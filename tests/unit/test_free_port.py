"""Ports for servers mlsql starts (mlsql.services.processes.free_port)."""

from __future__ import annotations

import socket

from mlsql.services.processes import HOST, ephemeral_ports, free_port


def test_free_ports_are_bindable_and_outside_the_ephemeral_range():
    low, high = ephemeral_ports()
    ports = [free_port() for _ in range(50)]
    assert not any(low <= port <= high for port in ports), (low, high, ports)
    assert len(set(ports)) > 40  # random: concurrent callers rarely collide
    with socket.socket() as server:
        server.bind((HOST, ports[0]))


def test_a_port_taken_by_a_listener_is_never_returned(monkeypatch):
    with socket.socket() as taken:
        taken.bind((HOST, 0))
        taken.listen()
        port = taken.getsockname()[1]
        monkeypatch.setattr("mlsql.services.processes.ephemeral_ports", lambda: (port + 1, 65535))
        monkeypatch.setattr("mlsql.services.processes._LOWEST", port)
        assert free_port() != port

"""Fixtures shared by the integration modules."""

from __future__ import annotations

import pytest

from mlsql.services.processes import free_port
from tests.integration.kafka_helpers import run_mlsql


@pytest.fixture(scope="module")
def broker(tmp_path_factory):
    """A real Kafka broker (`mlsql kafka start`) for one test module:
    (bootstrap address, port, data directory)."""
    data = tmp_path_factory.mktemp("kafka")
    port = free_port()
    started = run_mlsql("kafka", "start", "--port", str(port), "--data", str(data))
    assert started.returncode == 0, started.stderr
    assert f"running on 127.0.0.1:{port}" in started.stdout
    yield f"127.0.0.1:{port}", port, data
    stopped = run_mlsql("kafka", "stop", "--data", str(data))
    assert stopped.returncode == 0 and "stopped" in stopped.stdout

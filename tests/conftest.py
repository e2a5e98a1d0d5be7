from __future__ import annotations

import pytest

import tests.helpers  # noqa: F401  (snapshots the environment before any Flink runs)


@pytest.fixture(scope="session")
def batch_session(tmp_path_factory):
    import mlsql

    root = tmp_path_factory.mktemp("batch")
    session = mlsql.Session(registry=root / "registry", mode="batch")
    session.data_dir = root
    return session


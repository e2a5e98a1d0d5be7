"""MLSQL_LOCAL_CLUSTER: which local executor a process uses (mlsql.runtime.minicluster)."""

from __future__ import annotations

import pytest

from mlsql.errors import MlsqlError
from mlsql.runtime import minicluster


@pytest.mark.parametrize(("value", "expected"), [
    (None, "shared"), ("", "shared"), ("shared", "shared"), (" Per-Job ", "per-job")])
def test_the_mode_defaults_to_one_shared_cluster(monkeypatch, value, expected):
    if value is None:
        monkeypatch.delenv(minicluster.MODE_VARIABLE, raising=False)
    else:
        monkeypatch.setenv(minicluster.MODE_VARIABLE, value)
    assert minicluster.mode() == expected


def test_an_unknown_mode_names_the_variable_and_the_choices(monkeypatch):
    monkeypatch.setenv(minicluster.MODE_VARIABLE, "pool")
    with pytest.raises(MlsqlError, match="MLSQL_LOCAL_CLUSTER must be 'shared' or 'per-job'"):
        minicluster.mode()


def test_per_job_mode_adds_no_deployment_options(monkeypatch):
    monkeypatch.setenv(minicluster.MODE_VARIABLE, "per-job")
    assert minicluster.deployment_options({"taskmanager.numberOfTaskSlots": "3"}) == {}

"""KRaft cluster ids never start with '-' (kafka-storage would read one as an option)."""

from __future__ import annotations

import base64
import uuid

from mlsql.services.kafka import broker


def test_cluster_ids_never_start_with_a_dash(monkeypatch):
    dashed = uuid.UUID(bytes=base64.urlsafe_b64decode("-" + "A" * 21 + "=="))
    draws = iter([dashed, uuid.UUID(int=7)])
    monkeypatch.setattr(broker.uuid, "uuid4", lambda: next(draws))
    cluster_id = broker._cluster_id()
    assert cluster_id == base64.urlsafe_b64encode(uuid.UUID(int=7).bytes).decode().rstrip("=")

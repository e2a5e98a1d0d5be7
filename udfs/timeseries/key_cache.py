"""The models a worker carries between rows, by key, the least recently used dropped first."""

from __future__ import annotations

from collections import OrderedDict
from typing import Generic, TypeVar

V = TypeVar("V")
CACHED_KEYS = 100_000


class KeyCache(Generic[V]):
    def __init__(self, limit: int = CACHED_KEYS) -> None:
        self.limit = limit
        self._entries: OrderedDict[str, V] = OrderedDict()

    def get(self, key: str) -> V | None:
        return self._entries.get(key)

    def put(self, key: str, value: V) -> None:
        self._entries[key] = value
        self._entries.move_to_end(key)
        if len(self._entries) > self.limit:
            self._entries.popitem(last=False)

    def values(self):
        return self._entries.values()

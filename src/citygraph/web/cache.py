"""A small response cache of one server worker, keyed by data version, request and format.

The data changes only when a new build is published, and the build's version is part of every
key, so entries never go stale: old versions simply stop being asked for and age out (least
recently used first) within the byte budget.

>>> cache = ResponseCache(max_bytes=10)
>>> cache.put(("v1", "q"), b"1234", "text/csv")
>>> cache.get(("v1", "q"))
(b'1234', 'text/csv')
>>> cache.put(("v1", "r"), b"1234", "text/csv")
>>> cache.put(("v1", "s"), b"1234", "text/csv")
>>> cache.get(("v1", "q")) is None
True
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable

__all__ = ["ResponseCache"]


class ResponseCache:
    """Thread-safe LRU of response bodies within ``max_bytes`` (0 disables it)."""

    def __init__(self, *, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[Hashable, tuple[bytes, str]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> tuple[bytes, str] | None:
        """The cached ``(body, content type)`` for ``key``, or ``None``."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry

    def put(self, key: Hashable, body: bytes, content_type: str) -> None:
        """Remember a response; a body over half the budget is not kept."""
        if len(body) > self.max_bytes // 2:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self.size -= len(old[0])
            self._entries[key] = (body, content_type)
            self.size += len(body)
            while self.size > self.max_bytes and self._entries:
                _, (evicted, _) = self._entries.popitem(last=False)
                self.size -= len(evicted)

    def __len__(self) -> int:
        return len(self._entries)

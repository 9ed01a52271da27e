"""A small response cache of one server worker, keyed by data version, request and format.

The data changes only when a new build is published, and the build's version is part of every
key, so entries never go stale: old versions simply stop being asked for and age out (least
recently used first) within the byte budget.

The budget counts everything an entry holds (issue 9 §2): the body, the content type, the key
(which holds the whole query text, up to ``CITYGRAPH_MAX_QUERY_LENGTH`` characters) and the
bookkeeping of the entry, as measured by :func:`entry_size`. A key of a type it cannot measure
is refused (``TypeError``), so no key escapes the budget.

>>> cache = ResponseCache(max_bytes=1_200)  # room for two of these entries
>>> cache.put(("v1", "q"), b"1234", "text/csv")
>>> cache.get(("v1", "q"))
(b'1234', 'text/csv')
>>> cache.put(("v1", "r"), b"1234", "text/csv")
>>> cache.put(("v1", "s"), b"1234", "text/csv")
>>> cache.get(("v1", "q")) is None
True
>>> cache.size <= cache.max_bytes
True
"""

from __future__ import annotations

import dataclasses
import sys
import threading
from collections import OrderedDict
from collections.abc import Hashable

__all__ = ["ENTRY_OVERHEAD", "ResponseCache", "entry_size", "size_of"]

#: Bytes an entry costs besides its key, body and content type: its slot in the dict's table,
#: its node in the order list and the (body, content type, size) tuple, rounded up (CPython
#: 3.11). ``tests/web/test_cache.py`` checks the whole against tracemalloc.
ENTRY_OVERHEAD = 256


def size_of(value: object) -> int:
    """Bytes held by ``value`` and what it references, for the immutable values cache keys and
    entries are made of: ``str``, ``bytes``, numbers, ``None``, tuples, frozensets and frozen
    dataclasses of those. Shared objects count once per reference (an over-estimate).

    Raises:
        TypeError: a value of another type (it might hold memory this would not see).

    >>> size_of("abc") == sys.getsizeof("abc")
    True
    >>> size_of(("v1", b"xy")) == sys.getsizeof(("v1", b"xy")) + size_of("v1") + size_of(b"xy")
    True
    """
    if value is None or isinstance(value, str | bytes | int | float | bool):
        return sys.getsizeof(value)
    if isinstance(value, tuple | frozenset):
        return sys.getsizeof(value) + sum(size_of(item) for item in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        own = sys.getsizeof(value)
        if hasattr(value, "__dict__"):
            own += sys.getsizeof(value.__dict__)
        return own + sum(size_of(getattr(value, f.name)) for f in dataclasses.fields(value))
    raise TypeError(f"cannot measure a {type(value).__name__} for the cache budget")


def entry_size(key: Hashable, body: bytes, content_type: str) -> int:
    """What one entry of a :class:`ResponseCache` costs in memory, key included."""
    return size_of(key) + size_of(body) + size_of(content_type) + ENTRY_OVERHEAD


class ResponseCache:
    """Thread-safe LRU of responses within ``max_bytes`` of everything held (0 disables it)."""

    def __init__(self, *, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        #: Bytes held, by :func:`entry_size`.
        self.size = 0
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[Hashable, tuple[bytes, str, int]] = OrderedDict()
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
            return entry[0], entry[1]

    def put(self, key: Hashable, body: bytes, content_type: str) -> None:
        """Remember a response; an entry over half the budget is not kept.

        Raises:
            TypeError: see :func:`size_of`.
        """
        size = entry_size(key, body, content_type)
        if size > self.max_bytes // 2:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self.size -= old[2]
            self._entries[key] = (body, content_type, size)
            self.size += size
            while self.size > self.max_bytes and self._entries:
                _, (_, _, evicted) = self._entries.popitem(last=False)
                self.size -= evicted

    def __len__(self) -> int:
        return len(self._entries)

"""The pages' view of the store: the current build, opened in-process, and caches per version.

Pages ask small, bounded questions (one thing's document, one listing), bind their values with
``substitutions=`` and need terms rather than serialised bytes, so they read the build directly
instead of going through the endpoint's query processes. Like the query pool, the handle follows
the store's ``current`` link (through a :class:`~citygraph.engine.builds.BuildWatcher`, read at
most every ``check_interval`` seconds) and everything
computed from the data is cached per data version: the data changes only at rebuild. A newly
published build of another format (:mod:`citygraph.build_format`) is not switched to: the pages
keep showing the build they have, as the endpoint keeps answering from it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pyoxigraph as ox

from citygraph.engine.builds import BuildWatcher, CurrentLink
from citygraph.errors import BuildFormatError
from citygraph.store import open_build

__all__ = ["Snapshot", "StoreHandle"]

T = TypeVar("T")


@dataclass
class Snapshot:
    """One build, opened, with the values computed from it (keyed by name)."""

    store: ox.Store
    version: str
    _cache: dict[str, Any] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _computing: dict[str, threading.Lock] = field(default_factory=dict)

    def cached(self, key: str, compute: Callable[[], T]) -> T:
        """``compute()`` once per build and key (the data never changes within a build).

        A second caller asking for a key being computed waits for that computation instead of
        repeating it (the search index takes seconds on the worldwide layer).
        """
        with self._lock:
            if key in self._cache:
                return self._cache[key]  # type: ignore[no-any-return]
            computing = self._computing.setdefault(key, threading.Lock())
        with computing:
            with self._lock:
                if key in self._cache:
                    return self._cache[key]  # type: ignore[no-any-return]
            value = compute()
            with self._lock:
                return self._cache.setdefault(key, value)  # type: ignore[no-any-return]


class StoreHandle:
    """The current build of the store directory ``root``, opened on first use.

    Raises (from :meth:`snapshot`):
        StoreNotFoundError: ``root`` has no published build.
    """

    def __init__(
        self,
        root: Path,
        *,
        in_memory: bool,
        check_interval: float,
        link: CurrentLink | None = None,
    ) -> None:
        self.root = root
        self.in_memory = in_memory
        self.check_interval = check_interval
        self._watcher = BuildWatcher(root, check_interval=check_interval, link=link)
        self._lock = threading.Lock()
        self._snapshot: Snapshot | None = None

    def snapshot(self) -> Snapshot:
        """The snapshot of the current build (switching to a new one when it is published)."""
        with self._lock:
            snapshot = self._snapshot
            if snapshot is not None and not self._watcher.changed(snapshot.version):
                return snapshot
            try:
                build = self._watcher.current()
            except BuildFormatError:
                if snapshot is None:
                    raise
                return snapshot  # the endpoint says why, once (engine/generations.py)
            if snapshot is None or build.version != snapshot.version:
                store = open_build(build, in_memory=self.in_memory)
                self._snapshot = snapshot = Snapshot(store=store, version=build.version)
            return snapshot

"""Following the store's ``current`` link: which build a reader should serve now.

Everything that serves a store directory (the query pool, the pages' snapshots) keeps serving
one build until a newer one is published, then switches. Asking the file system on every
request would cost a system call each; asking never would miss rebuilds. So a reader asks its
:class:`BuildWatcher` whether the build it serves is still the current one: the watcher reads
the link (one ``readlink``) at most once per ``check_interval`` seconds and says "unchanged" in
between. A store whose link has gone (a broken or half-made directory) is reported unchanged:
the reader keeps serving the build it has rather than failing.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path, PurePath

from citygraph.store import CURRENT, Build, current_build

__all__ = ["BuildWatcher"]


class BuildWatcher:
    """Says, cheaply, when the store directory ``root`` has published another build.

    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> watcher = BuildWatcher(root, check_interval=60.0)
    >>> watcher.current_version()
    ''
    >>> (root / "current").symlink_to("builds/20261127T081500123456Z-3f2a1c0d9e")
    >>> watcher.current_version()
    '20261127T081500123456Z-3f2a1c0d9e'
    >>> watcher.changed("an-older-build")
    True
    >>> watcher.changed("an-older-build")  # not asked again within the check interval
    False
    >>> watcher.changed("an-older-build", now=True)
    True
    """

    def __init__(self, root: Path, *, check_interval: float) -> None:
        self.root = root
        self.check_interval = check_interval
        self._lock = threading.Lock()
        self._next_check = 0.0

    def current_version(self) -> str:
        """The version (build name) ``current`` names now; ``""`` when there is no link."""
        try:
            return PurePath(os.readlink(self.root / CURRENT)).name
        except OSError:
            return ""

    def changed(self, version: str, *, now: bool = False) -> bool:
        """Whether ``current`` names another build than ``version`` (the one being served).

        Reads the link at most once per ``check_interval`` seconds, answering ``False`` in
        between, unless ``now`` (after a write, so that the writer reads its own write).
        """
        if not now:
            moment = time.monotonic()
            with self._lock:
                if moment < self._next_check:
                    return False
                self._next_check = moment + self.check_interval
        current = self.current_version()
        return bool(current) and current != version

    def current(self) -> Build:
        """The build ``current`` names now, with its metadata.

        Raises:
            StoreNotFoundError: the store has no published build.
        """
        build = current_build(self.root)
        with self._lock:  # just read: the next check can wait a full interval
            self._next_check = time.monotonic() + self.check_interval
        return build

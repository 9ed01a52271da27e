"""Following the store's ``current`` link: which build a reader should serve now.

Everything that serves a store directory (the query pool, the pages' snapshots) keeps serving
one build until a newer one is published, then switches. Asking the file system on every
request would cost a system call each; asking never would miss rebuilds. So a reader asks its
:class:`BuildWatcher` whether the build it serves is still the current one: the watcher reads
the link (one ``readlink``) at most once per ``check_interval`` seconds and says "unchanged" in
between. A store whose link has gone (a broken or half-made directory) is reported unchanged:
the reader keeps serving the build it has rather than failing.

The readers of one server worker share one :class:`CurrentLink`: when one of them learns of a new
build (the endpoint, right after a write, so that the writer reads its own write), every other
reader looks at the link on its next question instead of at the end of its interval, so the
pages show the write as soon as the endpoint does.

What is served must be of this citygraph's build format (:mod:`citygraph.build_format`): the
watcher's :meth:`BuildWatcher.current` refuses a build of another format (the reader keeps the
one it serves), and :func:`check_served_format` refuses a remote store whose build is of another.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path, PurePath
from typing import TYPE_CHECKING

from citygraph import build_format
from citygraph.store import CURRENT, Build, current_build

if TYPE_CHECKING:
    from citygraph.engine.remote import Backend, SparqlClient

__all__ = ["BuildWatcher", "CurrentLink", "check_served_format", "served_version"]


class CurrentLink:
    """The ``current`` link of the store directory ``root``, as the readers of one process
    last saw it: each new version seen advances :attr:`epoch`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._lock = threading.Lock()
        self._seen = ""
        self.epoch = 0

    def read(self) -> str:
        """The version (build name) the link names now; ``""`` when there is no link."""
        try:
            version = PurePath(os.readlink(self.root / CURRENT)).name
        except OSError:
            return ""
        self.saw(version)
        return version

    def saw(self, version: str) -> None:
        """Note that ``version`` is current (a reader just opened it)."""
        with self._lock:
            if version != self._seen:
                self._seen = version
                self.epoch += 1


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

    def __init__(
        self, root: Path, *, check_interval: float, link: CurrentLink | None = None
    ) -> None:
        """``link``: the link as the other readers of this process see it (shared, so that one
        reader's discovery of a new build makes the others look at once); by default this
        watcher's own."""
        self.root = root
        self.check_interval = check_interval
        self.link = link if link is not None else CurrentLink(root)
        self._lock = threading.Lock()
        self._next_check = 0.0
        self._epoch = -1

    def current_version(self) -> str:
        """The version (build name) ``current`` names now; ``""`` when there is no link."""
        return self.link.read()

    def changed(self, version: str, *, now: bool = False) -> bool:
        """Whether ``current`` names another build than ``version`` (the one being served).

        Reads the link at most once per ``check_interval`` seconds, answering ``False`` in
        between, unless ``now`` (after a write, so that the writer reads its own write) or
        another reader sharing the :class:`CurrentLink` has seen a new build meanwhile.
        """
        moment = time.monotonic()
        with self._lock:
            fresh = self._epoch == self.link.epoch
            if not now and fresh and moment < self._next_check:
                return False
            self._next_check = moment + self.check_interval
        current = self.current_version()
        with self._lock:
            self._epoch = self.link.epoch
        return bool(current) and current != version

    def current(self) -> Build:
        """The build ``current`` names now, with its metadata.

        Raises:
            StoreNotFoundError: the store has no published build.
            BuildFormatError: it is of another format (a ``StoreNotFoundError`` too).
        """
        build = current_build(self.root)
        self.link.saw(build.version)
        with self._lock:  # just read: the next check can wait a full interval
            self._next_check = time.monotonic() + self.check_interval
            self._epoch = self.link.epoch
        return build


def check_served_format(backend: Backend, *, timeout: float) -> None:
    """Refuse the build the remote store ``backend`` serves unless its graph:meta (as the
    publication wrote it) records this citygraph's build format. A store that holds no build
    passes (serving it then says so).

    Raises:
        BuildFormatError: graph:meta records another format, or none.
        BackendError, QueryTimeoutError: the store cannot be read within ``timeout`` seconds.
    """
    from citygraph.engine.remote import SparqlClient  # the remote engine imports this module

    client = SparqlClient(backend, connections=1)
    try:
        served_version(client, timeout=timeout)
    finally:
        client.close()


def served_version(client: SparqlClient, *, timeout: float) -> str | None:
    """The data version of the build the remote store of ``client`` serves (``None``: it holds
    none), once its graph:meta (as the publication wrote it) shows this citygraph's build
    format: version and format are read with one query (:data:`build_format.QUERY`).

    Raises:
        BuildFormatError: graph:meta records another format, or none.
        BackendError, QueryTimeoutError: the store cannot be read within ``timeout`` seconds.
    """
    backend = client.backend
    rows = client.select(build_format.QUERY, timeout=timeout)
    rebuild = f"citygraph build --backend {backend.query}"
    rebuild += f" --backend-update {backend.update}" if backend.update else ""
    rebuild += f" --backend-store {backend.store or 'URL'}"
    build_format.check_solutions(
        rows, build=f"the build the store at {backend.query} serves", rebuild=rebuild
    )
    version = rows[0]["version"] if rows else None
    return None if version is None else str(version.value)

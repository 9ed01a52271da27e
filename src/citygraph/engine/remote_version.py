"""The build a remote store serves, as :class:`~citygraph.engine.remote.RemotePool` knows it: its
data version (ETags, caches: the ``owl:versionInfo`` the build wrote into ``graph:meta``) and its
build format, read together with one query
(:func:`~citygraph.engine.builds.served_version`) at start and at most every ``check_interval``
seconds after, like the embedded pool reads ``current``.

A build of another format is refused at start; published later, it is not switched to: the
version served is kept and the refusal logged once, as on a store directory
(:class:`~citygraph.engine.generations.Generations`).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

from citygraph.engine.builds import served_version
from citygraph.engine.errors import QueryTimeoutError
from citygraph.engine.generations import PoolStats
from citygraph.errors import BuildFormatError, StoreNotFoundError
from citygraph.namespaces import GRAPH_META

if TYPE_CHECKING:
    from citygraph.engine.remote import SparqlClient

__all__ = ["ServedVersion"]

#: The remote engine's log (where this was logged before it had a module of its own).
log = logging.getLogger("citygraph.engine.remote")


class ServedVersion:
    """The data version a remote store serves, as last read (``""`` before :meth:`start`);
    each switch to another is counted in ``stats.switches``."""

    def __init__(
        self, client: SparqlClient, *, check_interval: float, timeout: float, stats: PoolStats
    ) -> None:
        self.client = client
        self.check_interval = check_interval
        #: Seconds a read of the store's version may take (the query timeout, in the server).
        self.timeout = timeout
        self.stats = stats
        self.version = ""
        self._lock = threading.Lock()
        self._refused = ""  # the refusal of a build of another format, once logged
        self._next_check = 0.0

    def start(self) -> None:
        """Read the version the store serves now.

        Raises:
            StoreNotFoundError: the store holds no citygraph build (no version in
                ``graph:meta``).
            BuildFormatError: its graph:meta records another build format, or none.
            BackendError: the store cannot be reached.
        """
        self.version = self._read()

    def check(self, *, wait: bool = False) -> None:
        """Read the store's version if ``check_interval`` has passed (always with ``wait``);
        a store that cannot be read keeps the version last read (its queries will report)."""
        from citygraph.engine.remote import BackendError  # the remote engine imports this module

        now = time.monotonic()
        with self._lock:
            if not wait and now < self._next_check:
                return
            self._next_check = now + self.check_interval
        try:
            version = self._read()
        except BuildFormatError as error:  # keep serving the version read before
            with self._lock:
                said, self._refused = self._refused, str(error)
            if said != str(error):
                log.error(
                    "cannot switch to the new build, still serving %s: %s", self.version, error
                )
            return
        except (BackendError, QueryTimeoutError, StoreNotFoundError):
            return
        with self._lock:
            self._refused = ""
            if version != self.version:
                self.version = version
                self.stats.switches += 1

    def _read(self) -> str:
        version = served_version(self.client, timeout=self.timeout)
        if version is None:
            raise StoreNotFoundError(
                f"the store at {self.client.backend.query} holds no citygraph build (no "
                f"owl:versionInfo in <{GRAPH_META}>): publish one with `citygraph build "
                "--backend …`"
            )
        return version

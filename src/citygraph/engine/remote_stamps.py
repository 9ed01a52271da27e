"""Answers from one build on a store whose queries do not read a snapshot (Virtuoso): a
seqlock around each read, kept by the publication (issue 11 §1 and §3).

A store that runs each update request in one transaction still lets a reader see two builds in
one answer when its queries read each row as last committed, not a snapshot taken when the
query began: a query that is running when the switch request commits reads some rows before
the commit and some after. Virtuoso 7.2 does (its default isolation, read committed): readers
of ``graph:meta``'s version and 10,000 tagged triples, during switches, got answers with the old
version and 5,000 triples of each build, all from queries sent before the switch's response
came and answered after it (docs/scaling.md). Oxigraph's queries read a snapshot.

So on such a store (:attr:`~citygraph.engine.dialects.Dialect.snapshot_reads` false) the
publication marks its switch in the lock graph, each mark an update request of its own
(:func:`begin_update` before the switch request, :func:`end_update` after the graphs it served
were counted right), and a reader takes a :class:`Stamp` (the version and the marks, one small
query) before and after each read; the answer is kept only if both stamps are equal and
*settled* (every switch begun has ended). Otherwise the read is made again after a new stamp
(:class:`ConsistentReads`), waiting while a switch is under way. Why equal settled stamps mean
one build: the switch request is sent after the response to its begin mark and the end mark
after the switch's response, and a store commits a request before responding to it, so the
begin mark is committed before any of the switch is, and the end mark after all of it. A read
whose first stamp is settled began after the end of every switch that stamp saw begun, so it
saw all of them; if a switch committed while it ran, its begin mark was committed before its
second stamp was taken (which so shows a switch that has not ended, or, once the next
publication removed the mark, that publication's marks, which the first stamp could not show
settled). Marks are added one per request (a row is seen whole), and a mark of a publication is
never removed before its end mark is added, but by the next publication's begin. A switch that
failed leaves its begin mark: readers then wait (a store that may be half-switched is not read)
until a publication ends, or the mark is removed by hand (docs/backends.md).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

import pyoxigraph as ox

from citygraph.engine.datasets import LOCK_GRAPH
from citygraph.engine.errors import QueryTimeoutError
from citygraph.namespaces import GRAPH_META

if TYPE_CHECKING:
    from citygraph.engine.remote import SparqlClient

__all__ = ["STAMP_QUERY", "ConsistentReads", "Stamp", "begin_update", "end_update", "read_stamp"]

#: The subject of the switch marks in the lock graph (never a lock holder: it has no heartbeat).
_SWITCH = "<urn:citygraph:switch>"
#: A switch begun and ended, by the publication (its lock token) whose switch it was.
_BEGUN = "<urn:citygraph:switch#begun>"
_ENDED = "<urn:citygraph:switch#ended>"
#: The data version and every switch mark, in one query (each a row of its own).
STAMP_QUERY = (
    f"SELECT ?version ?mark ?publication WHERE {{ "
    f"{{ GRAPH <{GRAPH_META}> {{ ?d <http://www.w3.org/2002/07/owl#versionInfo> ?version }} }} "
    f"UNION {{ GRAPH <{LOCK_GRAPH}> {{ {_SWITCH} ?mark ?publication }} }} }}"
)
#: Seconds between two stamps while a switch is under way: at first, and at most (doubling).
_POLL = 0.05
_POLL_MAX = 1.0

T = TypeVar("T")


@dataclass(frozen=True)
class Stamp:
    """What a store said of its build at one moment: the versions in ``graph:meta`` and the
    switch marks (mark, publication)."""

    versions: frozenset[str]
    marks: frozenset[tuple[str, str]]

    @property
    def settled(self) -> bool:
        """No switch is under way (or was left half-done): every one begun has ended.

        >>> Stamp(frozenset({"v1"}), frozenset()).settled
        True
        >>> begun = ("urn:citygraph:switch#begun", "urn:p")
        >>> Stamp(frozenset({"v1"}), frozenset({begun})).settled
        False
        >>> ended = ("urn:citygraph:switch#ended", "urn:p")
        >>> Stamp(frozenset({"v1"}), frozenset({begun, ended})).settled
        True
        """
        begun = {p for mark, p in self.marks if mark == _BEGUN[1:-1]}
        ended = {p for mark, p in self.marks if mark == _ENDED[1:-1]}
        return begun <= ended


def read_stamp(client: SparqlClient, *, timeout: float) -> Stamp:
    """The store's :class:`Stamp` now.

    Raises:
        QueryTimeoutError, BackendError: see :meth:`SparqlClient.select
            <citygraph.engine.remote.SparqlClient.select>`.
    """
    rows = client.select(STAMP_QUERY, timeout=timeout)
    versions = frozenset(r["version"].value for r in rows if r["version"] is not None)
    marks = frozenset(
        (r["mark"].value, r["publication"].value)
        for r in rows
        if isinstance(r["mark"], ox.NamedNode) and r["publication"] is not None
    )
    return Stamp(versions, marks)


def begin_update(token: str) -> str:
    """The request that marks the switch of the publication ``token`` (an IRI in ``<>``) as
    begun, and removes the marks of earlier publications (one request: a reader that sees part
    of it sees a stamp that is not the one before, and reads again).

    >>> print(begin_update("<urn:p>"))  # doctest: +ELLIPSIS
    DELETE WHERE { GRAPH <urn:citygraph:staging:lock> { <urn:citygraph:switch> ?m ?p } } ;
    INSERT DATA { GRAPH <...:lock> { <urn:citygraph:switch> <urn:citygraph:switch#begun> <urn:p> } }
    """
    return (
        f"DELETE WHERE {{ GRAPH <{LOCK_GRAPH}> {{ {_SWITCH} ?m ?p }} }} ;\n"
        f"INSERT DATA {{ GRAPH <{LOCK_GRAPH}> {{ {_SWITCH} {_BEGUN} {token} }} }}"
    )


def end_update(token: str) -> str:
    """The request that marks the switch of the publication ``token`` as ended (one triple
    added: a reader sees it whole or not at all)."""
    return f"INSERT DATA {{ GRAPH <{LOCK_GRAPH}> {{ {_SWITCH} {_ENDED} {token} }} }}"


class ConsistentReads:
    """Reads of one build on a store whose queries read no snapshot (see the module
    docstring): ``stamp`` takes the store's stamp (within a timeout); ``refresh`` makes the
    caller read the store's version again (the label of its answers)."""

    def __init__(self, stamp: Callable[[float], Stamp], refresh: Callable[[], str]) -> None:
        self._stamp = stamp
        self._refresh = refresh
        self._last: Stamp | None = None
        #: Reads made again, because a switch committed while they ran (for tests and stats).
        self.retried = 0

    def read(self, version: str, answer: Callable[[], T], deadline: float) -> tuple[T, str]:
        """``answer()`` from one build, and that build's version (``version`` is the caller's
        last known one).

        Raises:
            QueryTimeoutError: no read between two equal settled stamps before ``deadline``
                (a switch under way all that time, or one that failed: the store may be
                half-switched), or what ``answer`` and the stamps raise.
        """
        before = self._last
        while True:
            if before is None or not before.settled or before.versions != {version}:
                before = self._settled(deadline)
                if before.versions != {version}:
                    # The label of the answer; one the caller refuses (a build of another
                    # format) stays, as without stamps.
                    version = self._refresh()
            result = answer()
            after = self._stamp(deadline - time.monotonic())
            self._last = after
            if after == before:
                return result, version
            self.retried += 1
            before = None

    def _settled(self, deadline: float) -> Stamp:
        """A settled stamp, waiting while a switch is under way (until ``deadline``)."""
        waited = False
        pause = _POLL
        while True:
            try:
                stamp = self._stamp(deadline - time.monotonic())
            except QueryTimeoutError:
                if not waited:
                    raise
                stamp = None
            if stamp is not None and stamp.settled:
                return stamp
            if stamp is None or time.monotonic() + pause >= deadline:
                raise QueryTimeoutError(
                    "the store is being switched to a new build (or a switch failed half-way, "
                    "see docs/backends.md): no answer from one build within the timeout"
                )
            waited = True
            time.sleep(pause)
            pause = min(pause * 2, _POLL_MAX)  # the store is busy committing: ask less

"""Who sent a request: the client address that per-client limits count against.

A client is its IP address: the peer of the TCP connection, or, when that peer is a trusted
reverse proxy (``CITYGRAPH_TRUSTED_PROXIES``), the address the proxies put in
``X-Forwarded-For``. That header is read from the right: each proxy appends the address it
received the request from, so the rightmost entry that is not itself a trusted proxy is the
first address no proxy of ours vouches for (anything further left the client may have written).
Without trusted proxies the header is ignored: any client could send it.

The server's ASGI middleware sets :data:`CURRENT` for each request; the query pool reads it
(through :func:`current_client`), so every query a request runs is counted against its client
whichever route runs it. Context variables follow a request into the thread that runs its
handler (Starlette's threadpool copies the context). :class:`InFlight` is the one count of
queries in progress, in all and per client, that both engines (the embedded
:class:`~citygraph.engine.pool.QueryPool` and the remote
:class:`~citygraph.engine.remote.RemotePool`) admit queries by.

Whether the client is still there: the same middleware sets :data:`PRESENCE` to a
:class:`Presence` of the request, which the embedded pool reads while a job waits (and the
remote pool's :class:`~citygraph.engine.remote_departures.Departures` while the store answers).
A client that went away ends its query (issue 10), with :func:`client_gone`: it would otherwise
run on to its deadline and keep counting against the client's share, so that the same client's
next connections got 429 (measured: ``docs/performance.md``, hot spot 2).

>>> proxies = (ipaddress.ip_network("10.0.0.0/8"),)
>>> identify("10.1.2.3", "203.0.113.9, 10.0.0.7", proxies)
'203.0.113.9'
>>> identify("198.51.100.4", "203.0.113.9", proxies)
'198.51.100.4'
"""

from __future__ import annotations

import ipaddress
import logging
from collections import Counter
from collections.abc import Callable
from contextvars import ContextVar

from citygraph.engine.errors import ClientLimitError, OverloadedError, QueryCancelledError

__all__ = [
    "CURRENT",
    "LOOK_EVERY",
    "PRESENCE",
    "WATCH_AFTER",
    "InFlight",
    "Networks",
    "Presence",
    "client_gone",
    "current_client",
    "current_presence",
    "decrement",
    "identify",
]

log = logging.getLogger(__name__)

Networks = tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]

#: The client of the request being handled ("" outside a request: tests, start-up jobs).
CURRENT: ContextVar[str] = ContextVar("citygraph_client", default="")


def current_client() -> str:
    """The client of the request this code runs for (``""`` outside a request)."""
    return CURRENT.get()


#: Seconds a job runs (or waits for a process) before the engine asks the web layer to watch
#: whether its client is still connected: most queries are answered sooner, and watching costs
#: the worker a task and a read of the connection (measured on branch ``h10-pool``: watching
#: every query from its start cost a DESCRIBE half again of the worker's CPU).
WATCH_AFTER = 0.1
#: Seconds between two looks at :attr:`Presence.gone` while a watched job waits.
LOOK_EVERY = 0.05


class Presence:
    """Whether the client of one request is still connected, as the jobs of the request see it.

    The web layer makes one per request with ``watch``: a callable (safe from any thread) that
    starts watching the connection, and calls :meth:`leave` when the connection is lost. The
    engine asks :meth:`pace` how long it may wait before it looks at :attr:`gone` again; from
    :data:`WATCH_AFTER` seconds after the job started on, that asks the web layer (once) to watch.

    >>> asked = []
    >>> presence = Presence(lambda: asked.append("watch"))
    >>> round(presence.pace(since=10.0, now=10.025), 3), asked  # too early to watch
    (0.075, [])
    >>> presence.pace(since=10.0, now=10.5), asked
    (0.05, ['watch'])
    >>> presence.leave(); presence.gone
    True
    """

    __slots__ = ("_watch", "gone", "watched")

    def __init__(self, watch: Callable[[], None]) -> None:
        self._watch = watch
        #: The client went away (set by the web layer).
        self.gone = False
        #: The web layer was asked to watch the connection.
        self.watched = False

    def pace(self, *, since: float, now: float) -> float:
        """Seconds a job that started at ``since`` (``time.monotonic()``) may wait from ``now``
        before it looks at :attr:`gone` again."""
        if not self.watched:
            due = since + WATCH_AFTER - now
            if due > 0:
                return due
            self.watched = True
            self._watch()
        return LOOK_EVERY

    def leave(self) -> None:
        """The client has gone: the jobs of its request end at their next look."""
        self.gone = True


#: The presence of the client of the request being handled (``None`` outside a request).
PRESENCE: ContextVar[Presence | None] = ContextVar("citygraph_presence", default=None)


def current_presence() -> Presence | None:
    """The :class:`Presence` of the request this code runs for (``None`` outside a request)."""
    return PRESENCE.get()


def client_gone(when: str) -> QueryCancelledError:
    """The error that ends a job whose client went away ``when`` (logged; the web layer
    answers it 499 to no one)."""
    log.info("the client of a query went away %s; the query was ended", when)
    return QueryCancelledError(
        f"the client went away {when}; the query was ended (nginx's 499, client closed request)"
    )


def _trusted(address: str, proxies: Networks) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in proxies)


def identify(peer: str, forwarded_for: str | None, proxies: Networks) -> str:
    """The client address of a request from ``peer`` with this ``X-Forwarded-For`` header."""
    if not proxies or not forwarded_for or not _trusted(peer, proxies):
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for address in reversed(hops):
        if not _trusted(address, proxies):
            return address
    # Every hop is a proxy of ours: the request started at the first of them.
    return hops[0] if hops else peer


def decrement(counter: Counter[str], key: str) -> None:
    """Count one less for ``key``, forgetting keys at 0 (the counters stay as small as the load)."""
    counter[key] -= 1
    if counter[key] <= 0:
        del counter[key]


class InFlight:
    """Queries in progress, in all and per client, and the admission by those counts.

    Not locked itself: the engine calls :meth:`enter` and :meth:`leave` under its own lock (the
    embedded pool's condition also guards its processes).

    >>> queries = InFlight(max_total=3, max_per_client=2)
    >>> queries.enter("198.51.100.4"); queries.enter("198.51.100.4")
    >>> try:
    ...     queries.enter("198.51.100.4")
    ... except ClientLimitError as error:
    ...     print(str(error)[:48])
    too many queries from your address at once (2 in
    >>> queries.enter("203.0.113.9"); queries.total
    3
    >>> queries.leave("198.51.100.4"); queries.of("198.51.100.4")
    1
    """

    def __init__(self, *, max_total: int, max_per_client: int) -> None:
        self.max_total = max_total
        self.max_per_client = max_per_client
        #: Queries in progress (running or waiting), of every client.
        self.total = 0
        self._per_client: Counter[str] = Counter()

    def of(self, client: str) -> int:
        """The queries ``client`` has in progress."""
        return self._per_client[client]

    def enter(self, client: str) -> None:
        """Count one more query of ``client``, if the limits allow it.

        Raises:
            OverloadedError: ``max_total`` queries are in progress.
            ClientLimitError: ``client`` has ``max_per_client`` queries in progress.
        """
        if self.total >= self.max_total:
            raise OverloadedError(
                f"the server is busy ({self.total} queries in progress); retry shortly"
            )
        if self._per_client[client] >= self.max_per_client:
            raise ClientLimitError(
                f"too many queries from your address at once ({self.max_per_client} in "
                "progress, this endpoint's limit per client); retry when one has finished"
            )
        self.total += 1
        self._per_client[client] += 1

    def leave(self, client: str) -> None:
        """Count one query of ``client`` less (it has ended, whatever its outcome)."""
        self.total -= 1
        decrement(self._per_client, client)

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
handler (Starlette's threadpool copies the context).

>>> proxies = (ipaddress.ip_network("10.0.0.0/8"),)
>>> identify("10.1.2.3", "203.0.113.9, 10.0.0.7", proxies)
'203.0.113.9'
>>> identify("198.51.100.4", "203.0.113.9", proxies)
'198.51.100.4'
"""

from __future__ import annotations

import ipaddress
from contextvars import ContextVar

__all__ = ["CURRENT", "Networks", "current_client", "identify"]

Networks = tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]

#: The client of the request being handled ("" outside a request: tests, start-up jobs).
CURRENT: ContextVar[str] = ContextVar("citygraph_client", default="")


def current_client() -> str:
    """The client of the request this code runs for (``""`` outside a request)."""
    return CURRENT.get()


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

"""The HTTP protocol class ``citygraph serve`` gives uvicorn: h11 with ``TCP_NODELAY`` and a
deadline for request headers. The bound on a request's head is h11's own
(``h11_max_incomplete_event_size``, set by :func:`~citygraph.cli_serve.uvicorn_options`): one
parser, one gate.

**h11, not httptools.** httptools (llhttp, in C) cost the worker less CPU per small request
(measured 0.79 → 0.59 ms, medians, ``docs/performance.md``), but llhttp does not bound a request's
head, and counting head bytes by hand around it is a second gate that must agree with the parser:
a review found it did not (chunked trailers unbounded, an early 413's unread body taken for the
next head, a pipelined head closing a connection mid-response).

**``TCP_NODELAY``.** With ``--workers N`` uvicorn binds the listening socket itself
(``socket.socket()``, protocol number 0), and asyncio only sets ``TCP_NODELAY`` on connections of
sockets whose protocol is ``IPPROTO_TCP``. Without it, Nagle's algorithm meets the client's
delayed ACK and every response written in two parts (head, body) waits about 40 ms: measured
here, 45 ms per request at concurrency 1 with two workers, 0.7 ms with this class. (uvicorn 0.55,
installed now, binds with ``IPPROTO_TCP``, so asyncio sets the option too; the class keeps it
independent of that.)

**A deadline for the headers.** uvicorn's h11 protocol has no deadline for a request's headers:
its keep-alive timer runs only between requests, and any byte received cancels it, so a client
that opens a connection and sends a header line now and then (slowloris) holds the connection for
ever. Here each request's headers must be complete within ``CITYGRAPH_HEADER_TIMEOUT`` seconds of
the connection being made or of the previous response; else the connection is closed. Bytes
arriving meanwhile do not extend the deadline.
"""

from __future__ import annotations

import asyncio
import functools
import socket
from typing import cast

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from citygraph.config import Settings

__all__ = ["NoDelayH11Protocol", "disable_nagle"]


def disable_nagle(transport: asyncio.BaseTransport) -> None:
    """Set ``TCP_NODELAY`` on the transport's socket, if it is a TCP socket."""
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


@functools.cache
def _header_timeout() -> float:
    # Read once per worker process: uvicorn builds this class itself, with no way to pass it
    # settings, and the worker's environment holds them (see hand_on_to_child_processes).
    return Settings.from_env().header_timeout


class NoDelayH11Protocol(H11Protocol):
    """uvicorn's h11 protocol that turns Nagle's algorithm off for every connection and closes
    connections whose request headers do not arrive within the header timeout."""

    _header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        disable_nagle(transport)
        super().connection_made(cast(asyncio.Transport, transport))
        self._start_header_timer()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._start_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
        super().connection_lost(exc)

    def _start_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
        self._header_timer = self.loop.call_later(_header_timeout(), self._headers_due)

    def _headers_due(self) -> None:
        """Close the connection if the request's headers are still incomplete (h11 leaves the
        client's state at IDLE until it has parsed the whole head)."""
        self._header_timer = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.logger.info("closing a connection whose request headers did not arrive in time")
            self.transport.close()

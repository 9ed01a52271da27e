"""The HTTP protocol class ``citygraph serve`` gives uvicorn: httptools with ``TCP_NODELAY``, a
deadline for request headers and a bound on their size.

**httptools, not h11.** uvicorn parses HTTP with h11 (pure Python) or httptools (llhttp, in C).
Measured on a small query (DESCRIBE of a city, 100k triples, one worker, c=8): the worker spent
0.56-0.61 ms of CPU per request with this class against 0.59-0.80 ms with the same class on h11
(alternating runs on a machine loaded by other sessions; ``docs/performance.md``).

**``TCP_NODELAY``.** With ``--workers N`` uvicorn binds the listening socket itself
(``socket.socket()``, protocol number 0), and asyncio only sets ``TCP_NODELAY`` on connections of
sockets whose protocol is ``IPPROTO_TCP``. Without it, Nagle's algorithm meets the client's
delayed ACK and every response written in two parts (head, body) waits about 40 ms: measured
here, 45 ms per request at concurrency 1 with two workers, 0.7 ms with the option. (uvicorn 0.55,
installed now, binds with ``IPPROTO_TCP``, so asyncio sets the option too; the class keeps it
independent of that.)

**A deadline for the headers.** uvicorn's keep-alive timer runs only between requests, and any
byte received cancels it, so a client that opens a connection and sends a header line now and
then (slowloris) would hold the connection for ever. Here each request's headers must be
complete within ``CITYGRAPH_HEADER_TIMEOUT`` seconds of the connection being made or of the
previous response; else the connection is closed. Bytes arriving meanwhile do not extend it.

**A bound on the head.** llhttp does not limit the size of a request's line and headers (h11
had ``max_incomplete_event_size``). The bytes received while a head is incomplete are counted;
beyond :func:`~citygraph.cli_serve.request_head_limit` (room for the longest query accepted, sent
by GET and percent-encoded, so that such a client reads a 413 from the endpoint) the client gets
400 and the connection is closed, so a head never grows in memory without bound.
"""

from __future__ import annotations

import asyncio
import functools
import socket
from typing import cast

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from citygraph.config import Settings

__all__ = ["URL_PARSER_LIMIT", "NoDelayHttpToolsProtocol", "disable_nagle"]

#: The longest URL ``httptools.parse_url`` accepts, in bytes.
URL_PARSER_LIMIT = 65_535


def disable_nagle(transport: asyncio.BaseTransport) -> None:
    """Set ``TCP_NODELAY`` on the transport's socket, if it is a TCP socket."""
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


# Read once per worker process: uvicorn builds the protocol class itself, with no way to pass it
# settings, and the worker's environment holds them (see hand_on_to_child_processes).
@functools.cache
def _header_timeout() -> float:
    return Settings.from_env().header_timeout


@functools.cache
def _head_limit() -> int:
    from citygraph.cli_serve import request_head_limit

    return request_head_limit(Settings.from_env())


class NoDelayHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol that turns Nagle's algorithm off for every connection,
    closes connections whose request headers do not arrive within the header timeout, and
    answers 400 to a request head longer than the limit."""

    _header_timer: asyncio.TimerHandle | None = None
    #: Whether the connection waits for (the rest of) a request's head.
    _in_head = True
    _head_bytes = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        disable_nagle(transport)
        super().connection_made(cast(asyncio.Transport, transport))
        self._start_header_timer()

    def data_received(self, data: bytes) -> None:
        if self._in_head:
            self._head_bytes += len(data)
        super().data_received(data)
        if self._in_head and self._head_bytes > _head_limit() and not self.transport.is_closing():
            self.logger.info("closing a connection whose request head is too long")
            self.send_400_response("Request head too long.")

    def on_message_begin(self) -> None:
        self._in_head = True
        super().on_message_begin()

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._head_bytes = 0
        query = None
        if len(self.url) > URL_PARSER_LIMIT:
            # httptools.parse_url refuses longer URLs; a GET query may be longer (up to the head
            # limit): uvicorn parses the path, the query string is set here (the request's task
            # is created below but runs only after this callback).
            path, _, query = self.url.partition(b"?")
            self.url = path
        super().on_headers_complete()
        if query is not None:
            self.scope["query_string"] = query

    def on_response_complete(self) -> None:
        pipelined = bool(self.pipeline)  # the next request's head is complete already
        super().on_response_complete()
        if not pipelined:
            self._in_head = True
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
        """Close the connection if the request's head is still incomplete."""
        self._header_timer = None
        if self._in_head and not self.transport.is_closing():
            self.logger.info("closing a connection whose request headers did not arrive in time")
            self.transport.close()

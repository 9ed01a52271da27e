"""One structured (JSON) log line per request, the request metrics, ``Vary: Accept``, the
request's client (:mod:`citygraph.engine.clients`) for the per-client limits, and whether that
client is still connected (:class:`~citygraph.engine.clients.Presence`).

A plain ASGI middleware (no per-request task or body buffering): it only watches the response
start. Handlers put the query time in ``request.state.query_ms`` and whether the answer came
from the cache in ``request.state.cache``.

A client that goes away while its query runs: once a query of the request has run or waited
:data:`~citygraph.engine.clients.WATCH_AFTER` seconds, the query pool asks (from the thread that
runs it) for the connection to be watched; then a task of the event loop waits for the server's
``http.disconnect`` (after the request's body, which the handler has read by then) and marks the
client gone. The pool ends the query (:class:`~citygraph.engine.errors.QueryCancelledError`),
which is answered with status 499 (nginx's "client closed request"): the server writes nothing to
the closed connection, but the log line and ``citygraph_http_requests_total`` say 499.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from json.encoder import encode_basestring_ascii as _json_string

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from citygraph.engine import clients
from citygraph.web.metrics import Metrics

__all__ = ["KNOWN_PATHS", "AccessLog", "has_body", "log_line", "route_label"]

log = logging.getLogger("citygraph.access")

#: Paths counted under their own name when no route answered (the fast path's cache hits).
KNOWN_PATHS = frozenset({"/sparql", "/store", "/healthz", "/metrics"})


def route_label(scope: Scope) -> str:
    """The metrics label of a request's path: the template of the route that answered it
    (the router leaves it in ``scope["route"]``), else the path if it is known, else ``other``."""
    template = getattr(scope.get("route"), "path", None)
    if isinstance(template, str):
        return template
    return scope["path"] if scope["path"] in KNOWN_PATHS else "other"


class AccessLog:
    """Wraps the app: logs each request, counts it, adds ``Vary: Accept`` to every response."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics, proxies: clients.Networks = ()) -> None:
        self.app = app
        self.metrics = metrics
        self.proxies = proxies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        state = scope.setdefault("state", {})
        status = 500
        size = 0
        forwarded = b",".join(v for k, v in scope["headers"] if k == b"x-forwarded-for")
        client = clients.identify(
            (scope.get("client") or ("", 0))[0], forwarded.decode("latin-1"), self.proxies
        )
        token = clients.CURRENT.set(client)
        # The loop running this request (taken per request: an app may be served by more than
        # one loop in its life, as in tests).
        connection = _Connection(asyncio.get_running_loop(), receive, body=has_body(scope))
        if connection.body:
            receive = connection.receive
        presence = clients.PRESENCE.set(connection)

        async def watch(message: Message) -> None:
            nonlocal status, size
            if message["type"] == "http.response.start":
                connection.answered()
                status = message["status"]
                message["headers"] = _vary_accept(list(message.get("headers", [])))
            elif message["type"] == "http.response.body":
                size += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            connection.answered()
            clients.PRESENCE.reset(presence)
            clients.CURRENT.reset(token)
            path = scope["path"]
            method = scope["method"]
            self.metrics.observe_request(method, route_label(scope), status)
            if log.isEnabledFor(logging.INFO):
                log.info(
                    log_line(
                        method=method,
                        path=path,
                        status=status,
                        ms=round((time.perf_counter() - started) * 1000, 2),
                        query_ms=state.get("query_ms"),
                        cache=state.get("cache"),
                        size=size,
                        client=client,
                    )
                )


class _Connection(clients.Presence):
    """The presence of a request's client, watched from the event loop once the query pool
    asks (:meth:`~citygraph.engine.clients.Presence.pace`, from the thread running the query).

    Watching reads the connection's ASGI ``receive``: only once the request's body has been read
    whole (``body``: the request has one; :meth:`receive` notes its last part), so that the
    watch never takes a part of the body from the handler.
    """

    __slots__ = ("_answered", "_loop", "_read", "_receive", "_task", "body")

    def __init__(self, loop: asyncio.AbstractEventLoop, receive: Receive, *, body: bool) -> None:
        super().__init__(self._ask)
        self._loop = loop
        self._receive = receive
        self._task: asyncio.Task[None] | None = None
        self._answered = False
        self.body = body
        self._read = not body

    async def receive(self) -> Message:
        """The app's ``receive`` for a request with a body: notes when it has been read."""
        message = await self._receive()
        if message["type"] == "http.request" and not message.get("more_body", False):
            self._read = True
        return message

    def _ask(self) -> None:
        # RuntimeError: the event loop has closed (the server is stopping): nothing to watch.
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._start)

    def _start(self) -> None:
        if self._answered or not self._read or self._task is not None:
            return  # too late, or the body is still the handler's to read
        self._task = self._loop.create_task(self._until_gone())

    async def _until_gone(self) -> None:
        # After the request (no body, or all of it read), the server's next message is
        # http.disconnect: when the connection is lost, or once the response is complete.
        while (await self._receive())["type"] != "http.disconnect":
            pass
        if not self._answered:
            self.leave()

    def answered(self) -> None:
        """The response has started (or the request ended): nothing more to watch."""
        self._answered = True
        if self._task is not None:
            self._task.cancel()
            self._task = None


def has_body(scope: Scope) -> bool:
    """Whether the request comes with a body (it names a length or a transfer coding)."""
    return any(name in (b"content-length", b"transfer-encoding") for name, _ in scope["headers"])


def log_line(
    *,
    method: str,
    path: str,
    status: int,
    ms: float,
    query_ms: float | None,
    cache: str | None,
    size: int,
    client: str,
) -> str:
    """One request's log record as a line of JSON (an object with the keys ``time``, ``method``,
    ``path``, ``status``, ``ms``, ``query_ms``, ``cache``, ``bytes``, ``client``).

    Written directly rather than with ``json.dumps`` of a dict (a quarter of the time; it runs for
    every request): strings through JSON's own escaping, numbers as JSON numbers.

    >>> import json
    >>> line = log_line(method="GET", path='/a"b', status=200, ms=1.5, query_ms=None,
    ...                 cache="miss", size=10, client="::1")
    >>> record = json.loads(line); record["path"], record["query_ms"], record["bytes"]
    ('/a"b', None, 10)
    """
    return (
        f'{{"time":"{_now()}","method":{_json_string(method)},"path":{_json_string(path)},'
        f'"status":{status},"ms":{ms!r},"query_ms":{_number(query_ms)},'
        f'"cache":{"null" if cache is None else _json_string(cache)},"bytes":{size},'
        f'"client":{_json_string(client)}}}'
    )


def _number(value: float | None) -> str:
    return "null" if value is None else repr(value)


_second: tuple[int, str] = (0, "")


def _now() -> str:
    """The time in ISO 8601 with milliseconds in UTC (``2026-12-07T12:49:11.123+00:00``); the part
    up to the second is formatted once a second."""
    global _second
    now = time.time()
    second = int(now)
    if _second[0] != second:
        _second = (second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)))
    return f"{_second[1]}.{int((now - second) * 1000):03d}+00:00"


def _vary_accept(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """Make sure ``Vary`` names ``Accept`` (RFC 9110 §12.5.5), keeping what it already lists."""
    for i, (name, value) in enumerate(headers):
        if name.lower() == b"vary":
            tokens = [t.strip().lower() for t in value.split(b",")]
            if b"accept" not in tokens and b"*" not in tokens:
                headers[i] = (name, value + b", Accept")
            return headers
    headers.append((b"vary", b"Accept"))
    return headers

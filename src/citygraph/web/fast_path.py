"""Repeated GET requests answered before routing, from a cache keyed by the raw request.

Most traffic of a public endpoint repeats (a page's queries, a dashboard's polls, a benchmark),
and the data changes only at a new build. So a GET to ``/sparql`` or ``/store`` whose
(data version, path, raw query string, ``Accept``) was answered 200 before is answered again
from memory, without parsing, negotiation, routing or a thread hop. Only responses that depend
on nothing else are stored (see :func:`remember`): query results and graph reads, never the
service description (it names the host) nor errors. ``If-None-Match`` gets its 304 here too.
"""

from __future__ import annotations

from collections.abc import Hashable

from starlette.types import ASGIApp, Receive, Scope, Send

from citygraph.web.answers import Answer
from citygraph.web.endpoint import Endpoint
from citygraph.web.etags import etag_matches

__all__ = ["CACHED_PATHS", "FastPath", "remember"]

CACHED_PATHS = frozenset({"/sparql", "/store"})


def _key(version: str, scope: Scope, accept: bytes) -> Hashable:
    return (version, scope["path"], scope["query_string"], accept)


def _header(scope: Scope, name: bytes) -> bytes:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return b""


def remember(endpoint: Endpoint, scope: Scope, answer: Answer) -> None:
    """Store ``answer`` for the fast path if the request and the answer qualify."""
    if (
        scope["method"] != "GET"
        or scope["path"] not in CACHED_PATHS
        or answer.status != 200
        or not answer.cacheable
        or not answer.version
        or answer.etag is None
        or answer.content_type is None
    ):
        return
    key = _key(answer.version, scope, _header(scope, b"accept"))
    meta = f"{answer.content_type}\n{answer.etag}"
    endpoint.get_cache.put(key, answer.body, meta)


class FastPath:
    """ASGI middleware: answer cached GETs, pass everything else on."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or scope["path"] not in CACHED_PATHS:
            await self.app(scope, receive, send)
            return
        endpoint: Endpoint | None = getattr(scope["app"].state, "endpoint", None)
        if endpoint is None or not scope["query_string"]:
            await self.app(scope, receive, send)
            return
        endpoint.pool.check_for_new_build()
        key = _key(endpoint.pool.version, scope, _header(scope, b"accept"))
        hit = endpoint.get_cache.get(key)
        if hit is None:
            await self.app(scope, receive, send)
            return
        body, meta = hit
        content_type, etag = meta.split("\n")
        endpoint.metrics.observe_query(0.0, "cached")
        scope.setdefault("state", {})["cache"] = "hit"
        headers = [
            (b"etag", etag.encode()),
            (b"cache-control", f"public, max-age={endpoint.settings.cache_max_age}".encode()),
        ]
        if_none_match = _header(scope, b"if-none-match").decode("latin-1")
        if etag_matches(if_none_match, etag):
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        headers += [
            (b"content-type", content_type.encode()),
            (b"content-length", str(len(body)).encode()),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

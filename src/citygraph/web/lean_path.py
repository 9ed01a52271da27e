"""Queries by GET to ``/sparql`` answered without the router (the lean path).

A GET query is the request a public endpoint receives most, and for a small query most of its
time went to the framework around it, not to the query (``docs/performance.md``, hot spot 2):
FastAPI's error, telemetry and body-limit middlewares, routing, dependency solving. This
middleware sits inside the fast path (a cache miss reaches it) and answers such a request with
the same functions the route uses: :func:`~citygraph.web.protocol.read_sparql_request`,
:func:`~citygraph.web.routes_sparql.answer_query` (in a thread: it waits for a query process),
:func:`~citygraph.web.responses.to_response`, and :func:`~citygraph.web.error_handlers.respond`
for citygraph's errors. Everything else (``POST``, ``HEAD``, updates, the service description)
goes on to the router. The query is still evaluated by a query process, with its timeout,
memory budget and no network (issue 9): only the web framework is left out. A client that goes
away while its query runs ends it, as on the route (:mod:`citygraph.web.access_log`): the pool
raises :class:`~citygraph.engine.errors.QueryCancelledError`, answered 499 to no one.
"""

from __future__ import annotations

from functools import partial

from anyio import to_thread
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from citygraph.errors import CitygraphError
from citygraph.web.access_log import has_body
from citygraph.web.endpoint import Endpoint
from citygraph.web.error_handlers import respond
from citygraph.web.problems import ProblemError
from citygraph.web.protocol import Operation, read_sparql_request
from citygraph.web.responses import to_response
from citygraph.web.routes_sparql import answer_query

__all__ = ["LeanQueries"]


class LeanQueries:
    """ASGI middleware: answer ``GET /sparql?query=…`` itself, pass everything else on."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "GET"
            or scope["path"] != "/sparql"
            or not scope["query_string"]
        ):
            await self.app(scope, receive, send)
            return
        endpoint: Endpoint | None = getattr(scope["app"].state, "endpoint", None)
        if endpoint is None or has_body(scope):
            await self.app(scope, receive, send)  # a GET with a body: the route's limits
            return
        request = Request(scope, receive)
        try:
            parsed = read_sparql_request(
                method="GET",
                query_string=scope["query_string"],
                content_type=None,
                body=b"",
                max_length=endpoint.settings.max_query_length,
            )
        except ProblemError as error:
            await respond(request, error)(scope, receive, send)
            return
        if parsed.operation is not Operation.QUERY:
            await self.app(scope, receive, send)  # the service description
            return
        try:
            answer = await to_thread.run_sync(
                partial(answer_query, endpoint, parsed, request.headers)
            )
            response = to_response(request, answer)
        except (CitygraphError, ProblemError) as error:
            response = respond(request, error)
        await response(scope, receive, send)

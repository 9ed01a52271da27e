"""Errors to responses, in one place.

A :class:`~citygraph.web.problems.ProblemError` carries its own status; domain errors get theirs
from :data:`DOMAIN_STATUS`; the router's own 404 (no such path) and 405 (no such method) come
as Starlette's ``HTTPException``. Anything else is a bug: Starlette answers 500 and logs the
traceback (it is never relabelled as a client error).

Every error body is one line of plain text that says what is wrong, which every SPARQL client
shows as is; a client that prefers ``text/html`` (a browser) gets the site's error page
(``templates/error.html``) with the same message instead. A write refused by validation
(:class:`~citygraph.errors.DataNotConformingError`) is the exception: its body is the
validation report (:func:`citygraph.report.render`), as text, or as JSON for a client that
prefers ``application/json``, so the client sees which node failed which shape.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import PlainTextResponse, Response
from starlette.exceptions import HTTPException

from citygraph.engine.errors import (
    ChangeRefusedError,
    ClientLimitError,
    EngineDefectError,
    GraphExistsError,
    GraphNotFoundError,
    NetworkRefusedError,
    OrderByDefectError,
    OverloadedError,
    QueryCancelledError,
    QueryMemoryError,
    QueryProcessError,
    QueryTimeoutError,
)
from citygraph.engine.remote import BackendError
from citygraph.engine.writes import WriteBusyError, WriteCrashedError
from citygraph.errors import (
    CitygraphError,
    DataNotConformingError,
    InputSyntaxError,
    QueryError,
    StoreNotFoundError,
)
from citygraph.web.endpoint import EvaluationError
from citygraph.web.linked_data import Site, reader_for
from citygraph.web.negotiation import negotiate
from citygraph.web.problems import ProblemError
from citygraph.web.responses import to_response

__all__ = ["DOMAIN_STATUS", "error_response", "install_error_handlers", "problem_for", "respond"]

log = logging.getLogger(__name__)

#: Status of each domain error; the first matching class wins.
DOMAIN_STATUS: tuple[tuple[type[CitygraphError], int], ...] = (
    (InputSyntaxError, 400),
    (QueryError, 400),
    (GraphNotFoundError, 404),
    (GraphExistsError, 409),
    # A write whose result fails validation conflicts with the data it would join (RFC 9110
    # §15.5.10: the client can resolve it and resubmit; docs/endpoint.md, "Writes").
    (DataNotConformingError, 409),
    (NetworkRefusedError, 403),
    (ChangeRefusedError, 400),
    (QueryTimeoutError, 503),
    # The client went away while its query ran: nginx's "client closed request". Nothing is
    # written to the closed connection (respond answers it empty, whatever the Accept); the
    # access log and the metrics say 499.
    (QueryCancelledError, 499),
    (QueryMemoryError, 503),
    # The engine's known panic on ORDER BY (docs/reliability.md): the query is well-formed but
    # this engine cannot evaluate it as written (RFC 9110 §15.5.21); the client can reword it.
    # Any other panic is unexpected: a 500, with the same explanation.
    (OrderByDefectError, 422),
    (EngineDefectError, 500),
    (ClientLimitError, 429),
    (OverloadedError, 503),
    # The store directory's write lock, or a remote store's publication lock (its
    # PublicationBusyError): busy, not failing, so before BackendError's 502.
    (WriteBusyError, 503),
    (StoreNotFoundError, 503),
    (QueryProcessError, 500),
    (EvaluationError, 500),
    (WriteCrashedError, 500),
    (BackendError, 502),  # the remote store failed or cannot be reached (docs/backends.md)
)


def problem_for(error: CitygraphError | ProblemError) -> tuple[int, str, dict[str, str]]:
    """The status, message and extra headers for ``error``."""
    if isinstance(error, ProblemError):
        return error.status, error.message, dict(error.headers)
    status = next((s for cls, s in DOMAIN_STATUS if isinstance(error, cls)), 500)
    headers: dict[str, str] = {}
    if isinstance(error, InputSyntaxError):
        where = ""
        if error.line is not None:
            where = f" at line {error.line}"
            if error.column is not None:
                where += f", column {error.column}"
        message = f"syntax error{where}: {error.message}"
    else:
        message = str(error)
    if isinstance(error, OverloadedError):
        headers["Retry-After"] = str(error.retry_after)
    elif isinstance(error, WriteBusyError):
        headers["Retry-After"] = "5"
    return status, message, headers


def respond(request: Request, error: Exception) -> Response:
    """The response for a citygraph error or an HTTP problem (the handler of both)."""
    assert isinstance(error, CitygraphError | ProblemError)
    status, message, headers = problem_for(error)
    if isinstance(error, QueryCancelledError):
        return Response(status_code=status)  # nobody reads it: nothing rendered
    if status >= 500:
        log.error("%s %s: %s", request.method, request.url.path, message)
    if isinstance(error, DataNotConformingError):
        return _report_response(request, status, error)
    return error_response(request, status, message, headers)


def _report_response(request: Request, status: int, error: DataNotConformingError) -> Response:
    """A write refused by validation: the report, as JSON if the client prefers it, else as
    text after the one-line message (the shapes' messages in English)."""
    from citygraph.report import render  # rdflib: imported only when a write is refused

    wanted = negotiate(request.headers.get("accept"), ["text/plain", "application/json"])
    if wanted == "application/json":
        body = render(error.report, fmt="json", lang="en")
        return Response(body, status_code=status, media_type="application/json")
    body = f"{error}\n\n{render(error.report, fmt='text', lang='en')}"
    return PlainTextResponse(body, status_code=status)


def _http_error(request: Request, error: Exception) -> Response:
    """The router's 404 and 405 (and any other ``HTTPException``), said in words."""
    assert isinstance(error, HTTPException)
    path = request.url.path
    headers = dict(error.headers or {})
    if error.status_code == 404:
        message = f"there is nothing at {path} on this server"
    elif error.status_code == 405:
        allow = headers.get("Allow") or headers.get("allow") or ""
        message = f"{request.method} is not supported on {path}; use {allow}"
    else:
        message = f"{error.detail} ({request.method} {path})"
    return error_response(request, error.status_code, message, headers)


def _invalid(request: Request, error: Exception) -> Response:
    """FastAPI's parameter validation (routes with typed parameters), as a 400 in words."""
    assert isinstance(error, RequestValidationError)
    problems = "; ".join(
        f"{'.'.join(str(part) for part in item.get('loc', ()))}: {item.get('msg', 'invalid')}"
        for item in error.errors()
    )
    return error_response(request, 400, f"the request is not valid: {problems}", {})


def error_response(
    request: Request, status: int, message: str, headers: dict[str, str]
) -> Response:
    """The response for an error: one line of plain text, or the HTML error page for a client
    that prefers ``text/html`` (ties go to plain text: ``*/*`` is an API client)."""
    line = " ".join(message.splitlines())
    site: Site | None = getattr(request.app.state, "linked_data", None)
    wants_html = negotiate(request.headers.get("accept"), ["text/plain", "text/html"])
    if site is not None and wants_html == "text/html":
        page = site.error(reader_for(request, site), status, line, html=True, what=request.url.path)
        return to_response(request, replace(page, headers={**page.headers, **headers}))
    return PlainTextResponse(line + "\n", status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    """Register the one renderer for every citygraph error and for the router's errors."""
    app.add_exception_handler(ProblemError, respond)
    app.add_exception_handler(CitygraphError, respond)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _invalid)

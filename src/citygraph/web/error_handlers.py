"""Errors to responses, in one place.

A :class:`~citygraph.web.problems.ProblemError` carries its own status; domain errors get theirs
from :data:`DOMAIN_STATUS`. Anything else is a bug: Starlette answers 500 and logs the
traceback (it is never relabelled as a client error). Bodies are plain text that says what is
wrong, which every SPARQL client shows as is.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, Response

from citygraph.errors import (
    CitygraphError,
    InputSyntaxError,
    QueryError,
    StoreNotFoundError,
)
from citygraph.web.endpoint import EvaluationError
from citygraph.web.pool import (
    ClientLimitError,
    OverloadedError,
    QueryProcessError,
    QueryTimeoutError,
)
from citygraph.web.problems import ProblemError
from citygraph.web.writes import WriteBusyError

__all__ = ["DOMAIN_STATUS", "install_error_handlers", "problem_for"]

log = logging.getLogger(__name__)

#: Status of each domain error; the first matching class wins.
DOMAIN_STATUS: tuple[tuple[type[CitygraphError], int], ...] = (
    (InputSyntaxError, 400),
    (QueryError, 400),
    (QueryTimeoutError, 503),
    (ClientLimitError, 429),
    (OverloadedError, 503),
    (WriteBusyError, 503),
    (StoreNotFoundError, 503),
    (QueryProcessError, 500),
    (EvaluationError, 500),
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


def _respond(request: Request, error: Exception) -> Response:
    assert isinstance(error, CitygraphError | ProblemError)
    status, message, headers = problem_for(error)
    if status >= 500:
        log.error("%s %s: %s", request.method, request.url.path, message)
    return PlainTextResponse(message + "\n", status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    """Register the one renderer for every citygraph error."""
    app.add_exception_handler(ProblemError, _respond)
    app.add_exception_handler(CitygraphError, _respond)

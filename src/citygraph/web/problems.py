"""Errors that already know their HTTP status: protocol violations and refused requests.

Plain exceptions (no web framework): :mod:`citygraph.web.error_handlers` turns them, and the
domain errors, into responses in one place.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = [
    "BadRequestError",
    "ConflictError",
    "ForbiddenError",
    "MethodNotAllowedError",
    "NotAcceptableError",
    "NotFoundError",
    "PayloadTooLargeError",
    "ProblemError",
    "UnauthorizedError",
    "UnsupportedMediaTypeError",
]


class ProblemError(Exception):
    """A request the endpoint answers with ``status`` and a plain-text ``message``."""

    status = 500

    def __init__(self, message: str, *, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.headers = dict(headers or {})


class BadRequestError(ProblemError):
    """400: the request breaks the protocol or the query language."""

    status = 400


class UnauthorizedError(ProblemError):
    """401: a write without valid credentials."""

    status = 401


class ForbiddenError(ProblemError):
    """403: understood, but this endpoint does not do it (disabled writes, SERVICE, LOAD)."""

    status = 403


class NotFoundError(ProblemError):
    """404: no such graph."""

    status = 404


class MethodNotAllowedError(ProblemError):
    """405: the method is not one the resource supports (``Allow`` lists those)."""

    status = 405

    def __init__(self, method: str, allow: tuple[str, ...]) -> None:
        super().__init__(
            f"{method} is not supported here; use {', '.join(allow)}",
            headers={"Allow": ", ".join(allow)},
        )


class ConflictError(ProblemError):
    """409: the request conflicts with the data as it is (``CREATE`` of an existing graph)."""

    status = 409


class NotAcceptableError(ProblemError):
    """406: nothing offered matches the ``Accept`` header or ``format`` parameter."""

    status = 406

    def __init__(self, what: str, offered: list[str]) -> None:
        super().__init__(
            f"none of the formats this endpoint offers for {what} is acceptable; "
            f"it offers: {', '.join(offered)} (use Accept or the format parameter)"
        )


class PayloadTooLargeError(ProblemError):
    """413: the query, the upload or the result is larger than this endpoint's limit."""

    status = 413


class UnsupportedMediaTypeError(ProblemError):
    """415: a request body in a media type or charset the endpoint does not read."""

    status = 415

"""What every route sends, before the web framework sees it: an :class:`Answer`.

The SPARQL endpoint, the Graph Store and the linked-data pages all return an :class:`Answer`;
:func:`citygraph.web.responses.to_response` is the one place it becomes an HTTP response
(ETag and 304, ``Cache-Control``, ``HEAD`` without a body). Plain Python: the query processes
and framework-free tests use it too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["Answer"]


@dataclass(frozen=True)
class Answer:
    """What a route sends: status, body, content type, validators and headers."""

    status: int = 200
    body: bytes = b""
    content_type: str | None = None
    #: The validator (see :mod:`citygraph.web.etags`); a 2xx answer with one gets 304 for a
    #: matching ``If-None-Match``.
    etag: str | None = None
    #: Whether the fast path may keep it (query results and graph reads).
    cacheable: bool = False
    headers: Mapping[str, str] = field(default_factory=dict)
    query_seconds: float | None = None
    cached: bool = False
    #: The data version the body was computed from (``""`` when it does not depend on data).
    version: str = ""

"""The one place an :class:`~citygraph.web.answers.Answer` becomes an HTTP response.

Every route that answers with an :class:`~citygraph.web.answers.Answer` (``/sparql``,
``/store``, the linked-data documents and pages, their error answers) sends it through
:func:`to_response`, so validators, 304s, ``Cache-Control`` and ``HEAD`` follow one rule.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from citygraph.web.answers import Answer
from citygraph.web.etags import etag_matches
from citygraph.web.fast_path import remember

__all__ = ["to_response"]


def to_response(request: Request, answer: Answer, *, max_age: int | None = None) -> Response:
    """Turn ``answer`` into a response for ``request``.

    - ``ETag`` when the answer has a validator; with ``max_age`` also
      ``Cache-Control: public, max-age=…`` (answers of the endpoint carry their own);
    - 304 without a body and without ``Content-Type`` (RFC 9110 §15.4.5) when a 2xx answer's
      tag matches ``If-None-Match`` (:func:`~citygraph.web.etags.etag_matches`), or when the
      answer is a 304 already;
    - ``HEAD``: the headers of ``GET`` (``Content-Length`` included), no body;
    - query time and cache use noted for the access log; cacheable answers kept for the fast
      path (:func:`~citygraph.web.fast_path.remember`).
    """
    headers = dict(answer.headers)
    if answer.etag is not None:
        headers["ETag"] = answer.etag
        if max_age is not None:
            headers["Cache-Control"] = f"public, max-age={max_age}"
    if answer.query_seconds is not None:
        request.state.query_ms = round(answer.query_seconds * 1000, 2)
    if answer.cacheable:
        request.state.cache = "hit" if answer.cached else "miss"
        remember(request.app.state.endpoint, request.scope, answer)
    not_modified = answer.status == 304 or (
        200 <= answer.status < 300
        and answer.etag is not None
        and etag_matches(request.headers.get("if-none-match"), answer.etag)
    )
    if not_modified:
        return Response(status_code=304, headers=headers)
    if request.method == "HEAD":
        headers["Content-Length"] = str(len(answer.body))
        return Response(b"", answer.status, headers, answer.content_type)
    return Response(answer.body, answer.status, headers, answer.content_type)

"""What a remote store answers, read and answered again: the one place for media types and
refusals of :mod:`citygraph.engine.remote`.

A store's answer is parsed by its ``Content-Type`` (:data:`RESULT_TYPES`, :data:`GRAPH_TYPES`,
aliases included) and serialised by citygraph through the same limited buffers as the embedded
engine's (:mod:`citygraph.engine.serialise`), in the format the client negotiated: clients
get the same bytes from every store. A store's 4xx becomes the reply of a refused query, its
syntax error positions corrected for the lines citygraph put before the query.
"""

from __future__ import annotations

import io
import re
import weakref
from collections.abc import Iterable, Iterator
from typing import IO, cast

import httpx
import pyoxigraph as ox

from citygraph.engine import dialects
from citygraph.engine.jobs import QueryJob, Reply
from citygraph.engine.serialise import (
    serialise_quads,
    serialise_solutions_via_tsv,
    serialise_triples,
)

__all__ = [
    "ACCEPT_ANY",
    "ACCEPT_GRAPH",
    "ACCEPT_RESULTS",
    "GRAPH_TYPES",
    "RESULT_TYPES",
    "UnreadableAnswerError",
    "accept_for",
    "error_text",
    "parse",
    "refused",
    "serialise",
    "serialise_dataset",
]

#: Media types of SELECT/ASK results a store may answer with, and how citygraph parses them.
RESULT_TYPES: dict[str, ox.QueryResultsFormat] = {
    "application/sparql-results+json": ox.QueryResultsFormat.JSON,
    "application/json": ox.QueryResultsFormat.JSON,
    "application/sparql-results+xml": ox.QueryResultsFormat.XML,
    "application/xml": ox.QueryResultsFormat.XML,
    "text/tab-separated-values": ox.QueryResultsFormat.TSV,
}
#: Media types of CONSTRUCT/DESCRIBE results a store may answer with.
GRAPH_TYPES: dict[str, ox.RdfFormat] = {
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "text/plain": ox.RdfFormat.N_TRIPLES,  # Virtuoso's and older stores' N-Triples
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/x-turtle": ox.RdfFormat.TURTLE,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
    "application/n-quads": ox.RdfFormat.N_QUADS,
}
ACCEPT_RESULTS = (
    "application/sparql-results+json, application/sparql-results+xml;q=0.9, "
    "text/tab-separated-values;q=0.8"
)
ACCEPT_GRAPH = "application/n-triples, text/turtle;q=0.9, application/rdf+xml;q=0.8"
ACCEPT_ANY = ACCEPT_RESULTS + ", " + ACCEPT_GRAPH
_POSITION = re.compile(r"error at (\d+):(\d+):")


class UnreadableAnswerError(Exception):
    """The store answered with a media type citygraph cannot read."""


def accept_for(form: str | None) -> str:
    """The ``Accept`` header for a query of ``form`` (``SELECT``…; None: unknown).

    Only the formats of the query's form: Virtuoso answers a CONSTRUCT with SPARQL JSON results
    (``?s ?p ?o`` rows) when those come first (:mod:`citygraph.engine.dialects`).

    >>> accept_for("CONSTRUCT")
    'application/n-triples, text/turtle;q=0.9, application/rdf+xml;q=0.8'
    """
    if form in ("CONSTRUCT", "DESCRIBE"):
        return ACCEPT_GRAPH
    if form in ("SELECT", "ASK"):
        return ACCEPT_RESULTS
    return ACCEPT_ANY


def parse(
    response: httpx.Response, body: io.RawIOBase | bytes
) -> ox.QuerySolutions | ox.QueryBoolean | Iterator[ox.Triple]:
    """Parse ``body`` by the response's media type (the one place where types are mapped)."""
    media = response.headers.get("content-type", "").split(";")[0].strip().lower()
    data = body if isinstance(body, bytes) else cast(IO[bytes], body)
    if media in RESULT_TYPES:
        return ox.parse_query_results(data, format=RESULT_TYPES[media])
    if media in GRAPH_TYPES:
        return (q.triple for q in ox.parse(data, format=GRAPH_TYPES[media]))
    raise UnreadableAnswerError(
        f"the store answered with {media or 'no media type'}, which citygraph cannot read"
    )


#: Characters of a store's error message kept (a Virtuoso error body can hold megabytes).
ERROR_CHARS = 2000
#: The messages read so far, for a second call on the same response (its body is gone).
_ERROR_TEXTS: weakref.WeakKeyDictionary[httpx.Response, str] = weakref.WeakKeyDictionary()


def error_text(response: httpx.Response) -> str:
    """The start of a failed ``response``'s message. No more of its body is read than the
    :data:`ERROR_CHARS` kept need (4 bytes a character at most); then it is closed."""
    if response in _ERROR_TEXTS:
        return _ERROR_TEXTS[response]
    wanted = 4 * ERROR_CHARS
    data = b""
    for chunk in response.iter_bytes():
        data += chunk
        if len(data) >= wanted:
            break
    response.close()
    text = data[:wanted].decode(response.encoding or "utf-8", errors="replace").strip()
    _ERROR_TEXTS[response] = text = text[:ERROR_CHARS] or f"HTTP {response.status_code}"
    return text


def serialise(
    parsed: ox.QuerySolutions | ox.QueryBoolean | Iterator[ox.Triple],
    solutions_format: str | None,
    graph_format: str | None,
    job: QueryJob,
) -> Reply:
    """The reply to ``job`` from the store's parsed answer (see :meth:`RemotePool._stream`).

    Raises:
        LimitExceededError: the answer passed a limit of ``job``.
    """
    if isinstance(parsed, ox.QuerySolutions) and solutions_format == "" and graph_format:
        quads = (ox.Quad(r["s"], r["p"], r["o"], r["g"]) for r in parsed)
        return serialise_dataset(quads, graph_format, job)
    if isinstance(parsed, ox.QueryBoolean | ox.QuerySolutions):
        if not solutions_format:
            return Reply(error="not_acceptable", family="solutions")
        if isinstance(parsed, ox.QuerySolutions):
            data, count = serialise_solutions_via_tsv(parsed, job)
            return Reply(body=data, family="solutions", format=solutions_format, count=count)
        boolean = parsed.serialize(format=getattr(ox.QueryResultsFormat, solutions_format))
        assert boolean is not None
        return Reply(body=boolean, family="solutions", format=solutions_format)
    if graph_format is None:
        return Reply(error="not_acceptable", family="graph")
    data, count = serialise_triples(parsed, graph_format, job.max_rows, job.max_bytes)
    return Reply(body=data, family="graph", format=graph_format, count=count)


def serialise_dataset(quads: Iterable[ox.Quad], graph_format: str, job: QueryJob) -> Reply:
    """The reply to a dataset read: ``quads`` as ``graph_format``, within the limits of ``job``.

    Raises:
        LimitExceededError: more than ``job.max_rows`` quads or ``job.max_bytes`` bytes.
    """
    data, count = serialise_quads(quads, graph_format, job.max_rows, job.max_bytes)
    return Reply(body=data, family="graph", format=graph_format, count=count)


def refused(response: httpx.Response, line_offset: int, query: str = "") -> Reply:
    """A 4xx of the store: a syntax error (Oxigraph: ``error at L:C: …``, where L counts
    the ``line_offset`` lines citygraph put before the query) or a missing graph."""
    text = error_text(response)
    if response.status_code == 404:
        return Reply(error="not_found", message=text)
    position = _POSITION.search(text)
    if position is None and query:
        # A store that names no column (Virtuoso): pyoxigraph's message, if it finds the error.
        text = dialects.local_syntax_error(query) or text
        position = _POSITION.search(text)
    if position is not None:
        line = max(1, int(position.group(1)) - line_offset)
        text = f"error at {line}:{position.group(2)}:" + text[position.end() :]
    return Reply(error="syntax", message=text)

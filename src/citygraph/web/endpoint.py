"""The SPARQL 1.1 Protocol operations (query, update, service description), free of the web
framework, and what every operation of the endpoint shares.

https://www.w3.org/TR/sparql11-protocol/: ``routes_sparql.py`` reads the HTTP request, calls
one method of :class:`Endpoint` and turns the :class:`Answer` into a response. Everything a
request needs is decided here: format, ETag, cache, the query process that evaluates it, and
which errors to raise (mapped to statuses in :mod:`citygraph.web.error_handlers`).

The Graph Store HTTP Protocol is in :mod:`citygraph.web.graph_store`; it reads and writes
through the same :class:`Endpoint` (:meth:`Endpoint.answer`, :meth:`Endpoint.authorize`,
:meth:`Endpoint.write`), so both protocols share query processes, caches, ETags, the token and
the write path.
"""

from __future__ import annotations

import functools
import hmac
import logging
import time
from collections.abc import Sequence
from functools import partial

import pyoxigraph as ox

from citygraph.config import Settings
from citygraph.engine.cache import ResponseCache
from citygraph.engine.errors import EvaluationError, syntax_checked, syntax_error
from citygraph.engine.jobs import Job, QueryJob, Reply
from citygraph.engine.pool import (
    QueryCancelledError,
    QueryMemoryError,
    QueryPool,
    QueryTimeoutError,
)
from citygraph.engine.remote import RemotePool, backend_of
from citygraph.engine.remote_publish import publish_build
from citygraph.engine.writes import Change, UpdateChange, apply_write
from citygraph.web import etags, formats
from citygraph.web.answers import Answer
from citygraph.web.formats import GRAPH_FORMATS, SOLUTION_FORMATS, Format
from citygraph.web.metrics import Metrics
from citygraph.web.negotiation import negotiate
from citygraph.web.nesting import check_sparql
from citygraph.web.problems import (
    BadRequestError,
    ForbiddenError,
    NotAcceptableError,
    NotFoundError,
    PayloadTooLargeError,
    UnauthorizedError,
)
from citygraph.web.protocol import SparqlRequest
from citygraph.web.query_page import QueryPageRenderer, render_query_page
from citygraph.web.service_description import PREFIXES as SD_PREFIXES
from citygraph.web.service_description import describe_service
from citygraph.web.sparql_text import Analysis, add_using, analyse

__all__ = [
    "Answer",
    "Endpoint",
    "EvaluationError",
    "checked_query",
    "not_acceptable",
    "syntax_checked",
]

log = logging.getLogger(__name__)

_READ_FORMS = frozenset({"SELECT", "ASK"})
_GRAPH_FORMS = frozenset({"CONSTRUCT", "DESCRIBE"})


class Endpoint:
    """The SPARQL service of one server worker, and the machinery its Graph Store shares."""

    def __init__(
        self,
        settings: Settings,
        pool: QueryPool | RemotePool,
        cache: ResponseCache,
        metrics: Metrics,
        *,
        query_page: QueryPageRenderer = render_query_page,
    ) -> None:
        self.settings = settings
        #: Renders the HTML answer of GET /sparql for browsers (the query UI, issue 4).
        self.query_page = query_page
        self.pool = pool
        self.cache = cache
        self.metrics = metrics
        #: Whole GET responses by (version, path, raw query string, Accept): see fast_path.py.
        self.get_cache = ResponseCache(max_bytes=settings.cache_bytes)

    # -- queries ------------------------------------------------------------------------------

    def query(
        self, request: SparqlRequest, *, accept: str | None, if_none_match: str | None
    ) -> Answer:
        """Answer a SPARQL query (SPARQL 1.1 Protocol §2.1).

        Raises:
            BadRequestError: an update sent as a query; a syntax error (with line and column);
                nesting deeper than :data:`~citygraph.web.nesting.MAX_NESTING`.
            ForbiddenError: a SERVICE to an endpoint not on the allowlist.
            NotAcceptableError: no offered format is acceptable.
            PayloadTooLargeError: the result exceeds the row or byte limit.
            QueryTimeoutError, OverloadedError: see :meth:`QueryPool.run`.
        """
        self.pool.check_for_new_build()
        analysis = checked_query(request.text, base_iri=self.settings.base_iri)
        if analysis.is_update:
            raise BadRequestError(
                f"this is a SPARQL Update ({analysis.form} …), not a query: send it by POST as "
                "the update parameter or with Content-Type application/sparql-update"
            )
        self._check_services(analysis)
        solutions = self._choose(SOLUTION_FORMATS, accept, request.formats)
        graph = self._choose(GRAPH_FORMATS, accept, request.formats)
        if analysis.form in _READ_FORMS:
            graph = None
            if solutions is None:
                raise not_acceptable("SELECT and ASK results", SOLUTION_FORMATS)
        elif analysis.form in _GRAPH_FORMS:
            solutions = None
            if graph is None:
                raise not_acceptable("CONSTRUCT and DESCRIBE results", GRAPH_FORMATS)
        elif solutions is None and graph is None:
            raise not_acceptable("query results", (*SOLUTION_FORMATS, *GRAPH_FORMATS))
        job = QueryJob(
            query=request.text,
            base_iri=self.settings.base_iri,
            default_graphs=request.default_graphs,
            named_graphs=request.named_graphs,
            # pyoxigraph's union default graph would override FROM: keep FROM when given.
            union_default=not request.has_protocol_dataset and not analysis.has_dataset_clause,
            solutions_format=solutions.name if solutions else None,
            graph_format=graph.name if graph else None,
            max_rows=self.settings.max_result_rows,
            max_bytes=self.settings.max_response_bytes,
        )
        return self.answer(job, if_none_match, what="query")

    def _check_services(self, analysis: Analysis) -> None:
        allow = self.settings.service_allowlist
        for endpoint in analysis.services:
            if not allow:
                raise ForbiddenError(
                    "SERVICE (federated query) is disabled on this endpoint: it never fetches "
                    "other endpoints unless an operator allows them (CITYGRAPH_SERVICE_ALLOWLIST)"
                )
            if endpoint is None:
                raise ForbiddenError(
                    "SERVICE needs a fixed endpoint IRI here (no variables): only these are "
                    "allowed: " + ", ".join(allow)
                )
            if endpoint not in allow:
                raise ForbiddenError(
                    f"SERVICE <{endpoint}> is not allowed; this endpoint may only call: "
                    + ", ".join(allow)
                )

    def _choose(
        self, offered: tuple[Format, ...], accept: str | None, param: str | Sequence[str] | None
    ) -> Format | None:
        return formats.choose(offered, accept=accept, format_param=param)

    def answer(self, job: Job, if_none_match: str | None, *, what: str) -> Answer:
        """Answer a read ``job``: 304 for a matching ``If-None-Match``, else from the cache or
        a query process, with an ETag of the data version it was computed from.

        ``what`` (``query``, ``graph read``) names the operation in error messages.

        Raises:
            InputSyntaxError: the query process found a syntax error.
            PayloadTooLargeError: the result exceeds the row or byte limit.
            NotAcceptableError: the result is of a kind no acceptable format can carry.
            NotFoundError, BadRequestError: the job names a missing graph; a bad argument.
            EvaluationError: the engine failed while evaluating.
            QueryTimeoutError, QueryCancelledError, OverloadedError: see :meth:`QueryPool.run`.
        """
        version = self.pool.version
        etag = _etag(version, job)
        headers = {"Cache-Control": f"public, max-age={self.settings.cache_max_age}"}
        if etags.etag_matches(if_none_match, etag):
            self.metrics.observe_query(0.0, "cached")
            return Answer(
                status=304, etag=etag, cacheable=True, headers=headers, cached=True, version=version
            )
        key = (version, job)
        hit = self.cache.get(key) if self.settings.cache_bytes else None
        if hit is not None:
            self.metrics.observe_query(0.0, "cached")
            return Answer(
                body=hit[0],
                content_type=hit[1],
                etag=etag,
                cacheable=True,
                headers=headers,
                cached=True,
                version=version,
            )
        started = time.perf_counter()
        try:
            reply, served = self.pool.run(job, timeout=self.settings.query_timeout)
        except QueryTimeoutError:
            self.metrics.observe_query(time.perf_counter() - started, "timeout")
            raise
        except QueryCancelledError:
            self.metrics.observe_query(time.perf_counter() - started, "cancelled")
            raise
        seconds = time.perf_counter() - started
        self.metrics.observe_query(seconds, "ok" if reply.error is None else reply.error)
        body, content_type = self._check(reply, what)
        if served != version:
            etag = _etag(served, job)
        if self.settings.cache_bytes:
            self.cache.put((served, job), body, content_type)
        return Answer(
            body=body,
            content_type=content_type,
            etag=etag,
            cacheable=True,
            headers=headers,
            query_seconds=seconds,
            version=served,
        )

    def _check(self, reply: Reply, what: str) -> tuple[bytes, str]:
        if reply.error is None:
            fmt = _format_named(reply.family, reply.format)
            return reply.body, fmt.content_type
        if reply.error == "syntax":
            raise syntax_error(reply.message)
        if reply.error in ("rows", "bytes"):
            raise PayloadTooLargeError(reply.message)
        if reply.error == "not_acceptable":
            offered = SOLUTION_FORMATS if reply.family == "solutions" else GRAPH_FORMATS
            raise not_acceptable(f"{what} results of this kind", offered)
        if reply.error == "not_found":
            raise NotFoundError(reply.message)
        if reply.error == "argument":
            raise BadRequestError(reply.message)
        if reply.error == "memory":  # Python's allocation failed; the engine's ends the process
            raise QueryMemoryError(reply.message)
        if reply.error == "network":
            # The OS refused the query process a socket (citygraph.sandbox): the query reached
            # for another server in a way the text checks did not see.
            raise ForbiddenError(
                "this query tried to call another endpoint (SERVICE); this endpoint never "
                "fetches other endpoints unless an operator allows them "
                "(CITYGRAPH_SERVICE_ALLOWLIST)"
            )
        raise EvaluationError(f"the {what} failed during evaluation: {reply.message}")

    # -- service description ------------------------------------------------------------------

    def description(
        self,
        *,
        accept: str | None,
        format_param: str | Sequence[str] | None,
        endpoint: str,
        site: str,
        language: str = "en",
        languages: list[dict[str, str]] | None = None,
    ) -> Answer:
        """The service description (or, for a browser, the HTML query page in ``language``,
        with ``languages`` as its language-switch links)."""
        self.pool.check_for_new_build()
        html = (
            not format_param
            and negotiate(accept, [*formats.offered_types(GRAPH_FORMATS), "text/html"])
            == "text/html"
        )
        if html:
            page = self.query_page(
                endpoint=endpoint,
                description_link=endpoint + "?format=turtle",
                language=language,
                languages=languages,
            )
            return Answer(body=page.encode(), content_type="text/html; charset=utf-8")
        fmt = self._choose(GRAPH_FORMATS, accept, format_param)
        if fmt is None:
            raise not_acceptable("the service description", GRAPH_FORMATS)
        triples = describe_service(
            endpoint=endpoint,
            site=site,
            graph_names=self._named_graphs(),
            update=self.settings.writes_enabled,
            federated=bool(self.settings.service_allowlist),
        )
        prefixes = SD_PREFIXES if fmt.name in ("TURTLE", "TRIG") else None
        body = ox.serialize(triples, format=getattr(ox.RdfFormat, fmt.name), prefixes=prefixes)
        assert body is not None
        return Answer(body=body, content_type=fmt.content_type)

    def _named_graphs(self) -> tuple[str, ...]:
        # Each pool keeps them per data version (QueryPool.graph_names, RemotePool.graph_names).
        return self.pool.graph_names(timeout=self.settings.query_timeout)

    # -- writes -------------------------------------------------------------------------------

    def authorize(self, authorization: str | None) -> None:
        """Check the bearer token of a write (RFC 6750).

        Raises:
            ForbiddenError: writes are disabled on this endpoint.
            UnauthorizedError: no token, or a wrong one.
        """
        token = self.settings.update_token
        if not token:
            raise ForbiddenError(
                "updates and Graph Store writes are disabled on this endpoint "
                "(an operator enables them by setting CITYGRAPH_UPDATE_TOKEN)"
            )
        challenge = 'Bearer realm="citygraph"'
        scheme, _, given = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not given.strip():
            raise UnauthorizedError(
                "this write needs an Authorization: Bearer <token> header",
                headers={"WWW-Authenticate": challenge},
            )
        if not hmac.compare_digest(given.strip().encode(), token.encode()):
            raise UnauthorizedError(
                "the bearer token is not valid for this endpoint",
                headers={"WWW-Authenticate": challenge + ', error="invalid_token"'},
            )

    def update(self, request: SparqlRequest, *, authorization: str | None) -> Answer:
        """Apply a SPARQL Update (Protocol §2.2) as a new build; 204 when done.

        Raises:
            ForbiddenError, UnauthorizedError: see :meth:`authorize`; LOAD; SERVICE.
            BadRequestError: a protocol dataset together with USING/WITH in the text; nesting
                deeper than :data:`~citygraph.web.nesting.MAX_NESTING`.
            InputSyntaxError: the update does not parse.
            NotFoundError, ConflictError: a graph the update needs is missing, or one it
                creates exists (without SILENT).
            EvaluationError: the engine failed otherwise.
        """
        self.authorize(authorization)
        check_sparql(request.text, what="update")  # it is parsed in this worker (issue 9 §3)
        analysis = analyse(request.text, base_iri=self.settings.base_iri)
        if analysis.has_load:
            raise ForbiddenError("LOAD is disabled: this endpoint never fetches URLs")
        self._check_services(analysis)
        text = request.text
        if request.has_protocol_dataset:
            if analysis.has_dataset_clause:
                raise BadRequestError(
                    "the update has USING, USING NAMED or WITH and the request sets "
                    "using-graph-uri / using-named-graph-uri: use one or the other "
                    "(SPARQL 1.1 Protocol §2.2.3)"
                )
            text = add_using(text, request.default_graphs or (), request.named_graphs or ())
        # Run on the copy of the current build only: a trial on another store (an empty one)
        # fails where the real one would not (DROP GRAPH of a graph that exists), and a failure
        # on the copy publishes nothing (issue 9 §4).
        self.write(UpdateChange(text, self.settings.base_iri), "update")
        return Answer(status=204)

    def write(self, change: Change, description: str) -> bool:
        """Apply ``change`` to a copy of the current build in a write process, publish it (to
        the remote store first, with one), and wait until this worker's engine serves it; return
        what the change returned.

        Raises:
            WriteBusyError, StoreNotFoundError, WriteCrashedError: see
                :func:`~citygraph.engine.writes.apply_write`; and what ``change`` raises (nothing
                is published then).
            BackendError: the remote store refused the build (nothing is published then).
        """
        before_publish = None
        if self.settings.backend:
            # The store directory is the remote store's working copy: the new build goes up
            # like `citygraph build --backend` publishes one (docs/backends.md), within the
            # write (under its lock, before the local publish: a failure publishes nothing).
            before_publish = partial(publish_build, backend=backend_of(self.settings))

        result, build = apply_write(
            self.settings.store,
            change,
            description=description,
            lock_timeout=self.settings.write_timeout,
            offline=not self.settings.service_allowlist,
            before_publish=before_publish,
        )
        log.info("published build %s after %s", build.version, description)
        self.pool.check_for_new_build(wait=True)
        return result


#: Query texts up to this many characters have their analysis remembered (:func:`checked_query`).
REMEMBERED_TEXT = 4096


def checked_query(text: str, *, base_iri: str) -> Analysis:
    """The nesting check (:func:`~citygraph.web.nesting.check_sparql`, before any parser sees the
    text: issue 9 §3), then the :func:`~citygraph.web.sparql_text.analyse` of ``text``.

    Both read the whole text in Python (0.05-0.3 ms for the queries of the bench); clients repeat
    their texts, so the analysis of the last 512 texts that passed, each of at most
    :data:`REMEMBERED_TEXT` characters, is remembered (at most 8 MB). A text that fails the
    check raises every time.
    """
    if len(text) > REMEMBERED_TEXT:
        return _checked_query(text, base_iri)
    return _remembered_query(text, base_iri)


def _checked_query(text: str, base_iri: str) -> Analysis:
    check_sparql(text, what="query")
    return analyse(text, base_iri=base_iri)


_remembered_query = functools.lru_cache(maxsize=512)(_checked_query)


def _format_named(family: str, name: str) -> Format:
    offered = SOLUTION_FORMATS if family == "solutions" else GRAPH_FORMATS
    for fmt in offered:
        if fmt.name == name:
            return fmt
    raise KeyError(name)  # pragma: no cover - the query process only uses offered names


def not_acceptable(what: str, offered: tuple[Format, ...]) -> NotAcceptableError:
    """The 406 error for ``what`` (``a graph``…), listing the ``offered`` media types."""
    return NotAcceptableError(what, formats.offered_types(offered))


def _etag(version: str, job: Job) -> str:
    return etags.etag(version, repr(job))

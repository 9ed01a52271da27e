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

import hashlib
import hmac
import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

import pyoxigraph as ox

from citygraph.config import Settings
from citygraph.errors import CitygraphError, InputSyntaxError
from citygraph.sandbox import OfflineThreads
from citygraph.web import formats
from citygraph.web.cache import ResponseCache
from citygraph.web.formats import GRAPH_FORMATS, SOLUTION_FORMATS, Format
from citygraph.web.jobs import GraphNamesJob, Job, QueryJob, Reply
from citygraph.web.metrics import Metrics
from citygraph.web.negotiation import negotiate
from citygraph.web.nesting import check_sparql
from citygraph.web.pool import QueryMemoryError, QueryPool, QueryTimeoutError
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
from citygraph.web.writes import apply_write

__all__ = ["Answer", "Endpoint", "EvaluationError", "not_acceptable", "syntax_checked"]

log = logging.getLogger(__name__)

_POSITION = re.compile(r"^error at (\d+):(\d+): ?(.*)$", re.DOTALL)
_RDF_POSITION = re.compile(r"^Parser error at line \d+ column \d+: ")
_READ_FORMS = frozenset({"SELECT", "ASK"})
_GRAPH_FORMS = frozenset({"CONSTRUCT", "DESCRIBE"})

T = TypeVar("T")


class EvaluationError(CitygraphError):
    """The engine failed while evaluating (a failed SERVICE call, a store read error)."""


@dataclass(frozen=True)
class Answer:
    """What a route sends: status, body, content type, validators and headers."""

    status: int = 200
    body: bytes = b""
    content_type: str | None = None
    etag: str | None = None
    cacheable: bool = False
    headers: Mapping[str, str] = field(default_factory=dict)
    query_seconds: float | None = None
    cached: bool = False
    #: The data version the body was computed from (``""`` when it does not depend on data).
    version: str = ""


class Endpoint:
    """The SPARQL service of one server worker, and the machinery its Graph Store shares."""

    def __init__(
        self,
        settings: Settings,
        pool: QueryPool,
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
        self._graph_names: tuple[str, tuple[str, ...]] | None = None
        #: Where updates run when the endpoint must not fetch (no SERVICE allowlist).
        self._offline = None if settings.service_allowlist else OfflineThreads()

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
        check_sparql(request.text, what="query")  # before any parser sees it (issue 9 §3)
        analysis = analyse(request.text, base_iri=self.settings.base_iri)
        if analysis.is_update:
            raise BadRequestError(
                f"this is a SPARQL Update ({analysis.form} …), not a query: send it by POST as "
                "the update parameter or with Content-Type application/sparql-update"
            )
        self._check_services(analysis)
        solutions = self._choose(SOLUTION_FORMATS, accept, request.format)
        graph = self._choose(GRAPH_FORMATS, accept, request.format)
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
        self, offered: tuple[Format, ...], accept: str | None, param: str | None
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
            QueryTimeoutError, OverloadedError: see :meth:`QueryPool.run`.
        """
        version = self.pool.version
        etag = _etag(version, job)
        headers = {"Cache-Control": f"public, max-age={self.settings.cache_max_age}"}
        if if_none_match is not None and _etag_matches(if_none_match, etag):
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
            raise _syntax_error(reply.message)
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
        self, *, accept: str | None, format_param: str | None, endpoint: str, site: str
    ) -> Answer:
        """The service description (or, for a browser, the HTML query page)."""
        self.pool.check_for_new_build()
        html = (
            format_param is None
            and negotiate(accept, [*formats.offered_types(GRAPH_FORMATS), "text/html"])
            == "text/html"
        )
        if html:
            page = self.query_page(endpoint=endpoint, description_link=endpoint + "?format=turtle")
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
        version = self.pool.version
        if self._graph_names is None or self._graph_names[0] != version:
            reply, served = self.pool.run(GraphNamesJob(), timeout=self.settings.query_timeout)
            self._graph_names = (served, reply.graph_names)
        return self._graph_names[1]

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
        base_iri = self.settings.base_iri
        # Parse (and run on an empty store) first, so a syntax error costs no new build.
        self._apply_update(ox.Store(), text, base_iri)
        self.write(lambda store: self._apply_update(store, text, base_iri), "update")
        return Answer(status=204)

    def _apply_update(self, store: ox.Store, text: str, base_iri: str) -> None:
        """Run the engine on ``text``: on a thread the kernel keeps off the network unless
        SERVICE may call allowed endpoints (issue 9 §1), so a LOAD or SERVICE the text checks
        missed cannot fetch anything."""

        def apply() -> None:
            syntax_checked(lambda: store.update(text, base_iri=base_iri))

        if self._offline is None:
            apply()
            return
        try:
            self._offline.run(apply)
        except PermissionError:
            raise ForbiddenError(
                "this update tried to fetch from another server (LOAD or SERVICE); this "
                "endpoint never fetches URLs for updates"
            ) from None

    def write(self, change: Callable[[ox.Store], T], description: str) -> T:
        """Apply ``change`` to a copy of the current build, publish it, and wait until this
        worker's query processes serve it; return what ``change`` returned.

        ``change`` may raise to abandon the write: nothing is published then.

        Raises:
            WriteBusyError, StoreNotFoundError: see :func:`~citygraph.web.writes.apply_write`.
        """
        result, build = apply_write(
            self.settings.store,
            change,
            description=description,
            lock_timeout=self.settings.write_timeout,
        )
        log.info("published build %s after %s", build.version, description)
        self.pool.check_for_new_build(wait=True)
        return result


def syntax_checked(action: Callable[[], T]) -> T:
    """Run ``action``, reading a :class:`SyntaxError` from pyoxigraph's parsers (SPARQL or RDF)
    into an :class:`InputSyntaxError` with line and column.

    Raises:
        InputSyntaxError: ``action`` raised a :class:`SyntaxError`.
    """
    try:
        return action()
    except SyntaxError as error:
        if error.lineno is not None:  # the RDF parsers fill these in
            message = _RDF_POSITION.sub("", str(error.msg))
            raise InputSyntaxError(message, line=error.lineno, column=error.offset) from None
        raise _syntax_error(str(error)) from None


def _syntax_error(message: str) -> InputSyntaxError:
    """Read pyoxigraph's ``error at LINE:COLUMN: …`` into an :class:`InputSyntaxError`.

    pyoxigraph 0.5's SPARQL parser reports the column one past the offending character (in
    ``SELECT * {\n}x`` it says 2:3 for the ``x`` at 2:2); we report the character itself.
    ``tests/web/test_protocol_query.py`` pins this, so a parser change shows up there.
    """
    match = _POSITION.match(message)
    if match is None:
        return InputSyntaxError(message)
    column = max(1, int(match.group(2)) - 1)
    return InputSyntaxError(match.group(3), line=int(match.group(1)), column=column)


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
    digest = hashlib.blake2b(f"{version}\x00{job!r}".encode(), digest_size=12).hexdigest()
    return f'W/"{digest}"'


def _etag_matches(header: str, etag: str) -> bool:
    """Weak comparison (RFC 9110 §13.1.2): ``W/`` prefixes do not matter."""
    if header.strip() == "*":
        return True
    bare = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == bare for tag in header.split(","))

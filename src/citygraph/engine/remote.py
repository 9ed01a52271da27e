"""A remote SPARQL 1.1 store as the engine: the endpoint's jobs answered over the Protocol.

:class:`RemotePool` has the interface of :class:`~citygraph.engine.pool.QueryPool` (``run``,
``version``, ``check_for_new_build``, ``load``, ``stats``…), so the endpoint, its caches and
ETags work unchanged on either. It speaks only the standards: SPARQL 1.1 Query over the
Protocol (``POST`` with ``application/x-www-form-urlencoded``), and reads what a store answers
in any of the result formats pyoxigraph parses.

Every difference between stores is named, with what citygraph does about it, in
:mod:`citygraph.engine.dialects` (docs/backends.md); media types, serialisation and a store's
refusals are read in :mod:`citygraph.engine.remote_answers`; what the Graph Store and dataset
reads and the graph names ask is :mod:`citygraph.engine.remote_reads`. The union default graph
(what the embedded engine queries when a request names no dataset) is not in the standard, so
citygraph names it as the store's dialect says (:mod:`citygraph.engine.datasets`).

Limits hold while streaming: the answer is parsed as it arrives and serialised through the
same limited buffers as the embedded engine's (:mod:`citygraph.engine.serialise`); at
``max_rows`` or ``max_bytes`` the connection is closed. The deadline is checked on every chunk
and bounds every read; when it passes, the request is abandoned (its connection closed, which
stops a store that streams; a store computing an aggregate may go on, docs/backends.md) and
:class:`QueryTimeoutError` raised.
A client that leaves ends its request in the same way, at once
(:mod:`citygraph.engine.remote_departures`): :class:`QueryCancelledError`, as on the embedded
engine.

The data version (ETags, caches) and build format of the build the store serves are
:mod:`citygraph.engine.remote_version`.
"""

from __future__ import annotations

import io
import threading
import time
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import urlencode

import httpx
import pyoxigraph as ox

from citygraph import build_format
from citygraph.config import Settings
from citygraph.engine import datasets, dialects, remote_answers, remote_reads, remote_stamps
from citygraph.engine.clients import InFlight, client_gone, current_client
from citygraph.engine.jobs import DatasetJob, GraphJob, GraphNamesJob, Job, QueryJob, Reply
from citygraph.engine.pool import PoolLoad, PoolStats, QueryTimeoutError
from citygraph.engine.remote_departures import Departures, transport
from citygraph.engine.remote_version import ServedVersion
from citygraph.engine.serialise import LimitExceededError
from citygraph.errors import CitygraphError

__all__ = [
    "VERSION_QUERY",
    "Backend",
    "BackendError",
    "RemotePool",
    "SparqlClient",
    "backend_of",
]

_CHUNK = 64 * 1024

#: The data version (``?version``) the store's graph:meta records, with its build format: one
#: query, :data:`citygraph.build_format.QUERY` (the pool reads both with
#: :func:`~citygraph.engine.builds.served_version`).
VERSION_QUERY = build_format.QUERY


class BackendError(CitygraphError):
    """The remote store could not be reached or answered with a server error."""


class _EstimateRefusedError(QueryTimeoutError):
    """The store refused the query before running it, for its estimated cost."""


@dataclass(frozen=True)
class Backend:
    """Where the remote store listens: query endpoint, update endpoint, Graph Store."""

    query: str
    update: str = ""
    store: str = ""

    @property
    def update_url(self) -> str:
        """The update endpoint (the query URL when none is given: Fuseki, Virtuoso…)."""
        return self.update or self.query


def backend_of(settings: Settings) -> Backend:
    """The remote store the settings name (:attr:`Settings.backend` must be set)."""
    return Backend(settings.backend, settings.backend_update, settings.backend_store)


class _DeadlineError(Exception):
    """The deadline passed while reading an answer."""


class _Body(io.RawIOBase):
    """An answer being received, as a file for pyoxigraph's parsers; checks the deadline.

    A store that fails mid-answer (connection reset or closed) raises :class:`BackendError`
    and sets ``failure`` to its message (pyoxigraph's parsers may pass the error on as an
    ``OSError``). The message, not the error: an error kept here would hold, through its
    traceback, the parser that holds this file, a cycle the collector cannot see through.
    """

    def __init__(self, response: httpx.Response, deadline: float, url: str) -> None:
        super().__init__()
        # The store's quirks corrected as the bytes arrive (citygraph.engine.dialects).
        dialect = dialects.detect(response.headers.get("server"))
        self._chunks = dialects.rewrite_stream(dialect, response.iter_bytes(_CHUNK))
        self._pending = b""
        self._deadline = deadline
        self._url = url
        self.expired = False
        self.failure: str | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if not self._pending:
            if time.monotonic() > self._deadline:
                self.expired = True
                raise _DeadlineError
            try:
                self._pending = next(self._chunks)
            except StopIteration:
                return 0
            except httpx.TimeoutException:
                self.expired = True
                raise _DeadlineError from None
            except httpx.TransportError as error:
                self.failure = f"the store at {self._url} failed while answering: {error}"
                raise BackendError(self.failure) from None
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


class SparqlClient:
    """Sends queries to one SPARQL 1.1 query endpoint (thread-safe; one connection pool)."""

    def __init__(self, backend: Backend, *, connections: int = 16) -> None:
        self.backend = backend
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        # Its connections can be closed for a client that left (remote_departures).
        self.http = httpx.Client(transport=transport(limits), follow_redirects=False)
        #: The store's dialect, from the ``Server`` header of its last answer ("standard" until
        #: it answered): its corrections, and whether its reads need stamps (remote_stamps).
        self.dialect = dialects.DIALECTS["standard"]
        # Pages' handles live as long as their app, which has no shutdown hook for them.
        weakref.finalize(self, self.http.close)

    def close(self) -> None:
        self.http.close()

    def send(
        self,
        query: str,
        *,
        deadline: float,
        accept: str = remote_answers.ACCEPT_ANY,
        default_graphs: tuple[str, ...] | None = None,
        named_graphs: tuple[str, ...] | None = None,
        dataset: datasets.Dataset | None = None,
    ) -> httpx.Response:
        """POST ``query`` and return the streaming response (the caller closes it).

        ``dataset``, if given, names the dataset instead of ``default_graphs`` and
        ``named_graphs``; named so, a query the store refuses for its estimated cost is sent
        again named the dataset's other way (:attr:`~citygraph.engine.datasets.Dataset.fallback`).

        Raises:
            QueryTimeoutError: no answer before ``deadline``.
            BackendError: the store cannot be reached or failed (5xx).
        """
        if dataset is not None:
            try:
                return self.send(
                    dataset.prologue + query,
                    deadline=deadline,
                    accept=accept,
                    default_graphs=dataset.default_graphs,
                    named_graphs=dataset.named_graphs,
                )
            except _EstimateRefusedError:
                if dataset.fallback is None:
                    raise
                return self.send(query, deadline=deadline, accept=accept, dataset=dataset.fallback)
        data: list[tuple[str, str]] = [("query", query)]
        data += [("default-graph-uri", g) for g in default_graphs or ()]
        data += [("named-graph-uri", g) for g in named_graphs or ()]
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise QueryTimeoutError("the query did not finish within the timeout")
        request = self.http.build_request(
            "POST",
            self.backend.query,
            content=urlencode(data).encode(),
            headers={"Accept": accept, "Content-Type": "application/x-www-form-urlencoded"},
            timeout=httpx.Timeout(remaining),
        )
        for attempt in (1, 2):
            try:
                response = self.http.send(request, stream=True)
                break
            except httpx.TimeoutException:
                raise QueryTimeoutError("the query did not finish within the timeout") from None
            except (httpx.RemoteProtocolError, httpx.ReadError) as error:
                # A kept-alive connection the store closed meanwhile: a query is safe to send
                # again, once, on a new connection.
                if attempt == 2:
                    raise BackendError(
                        f"the store at {self.backend.query} failed: {error}"
                    ) from None
            except httpx.TransportError as error:
                raise BackendError(
                    f"the store at {self.backend.query} is unreachable: {error}"
                ) from None
        dialect = self.dialect = dialects.detect(response.headers.get("server"))
        if response.status_code >= 500:
            text = remote_answers.error_text(response)
            kind = dialects.classify_error(dialect, response.status_code, text)
            if kind == "timeout" and dialects.refused_by_estimate(dialect, text):
                raise _EstimateRefusedError("the query did not finish within the timeout")
            if kind == "timeout":
                raise QueryTimeoutError("the query did not finish within the timeout")
            if kind == "backend":
                raise BackendError(f"the store at {self.backend.query} failed: {text}")
        elif not dialects.is_complete(dialect, response.status_code, response.headers):
            response.close()  # a part of the answer, cut by the store's own time limit
            raise QueryTimeoutError("the query did not finish within the timeout")
        return response

    def select(
        self,
        query: str,
        *,
        timeout: float,
        default_graphs: tuple[str, ...] | None = None,
        named_graphs: tuple[str, ...] | None = None,
    ) -> list[ox.QuerySolution]:
        """Evaluate a SELECT ``query`` and read its whole answer.

        Raises:
            QueryTimeoutError, BackendError: see :meth:`send`; BackendError also when the store
                refuses the query or answers with something else than solutions.
        """
        try:
            result = self.query(
                query, timeout=timeout, default_graphs=default_graphs, named_graphs=named_graphs
            )
        except SyntaxError as error:
            raise BackendError(f"the store refused a query of citygraph: {error}") from None
        if not isinstance(result, ox.QuerySolutions):
            raise BackendError("expected solutions, the store answered with something else")
        return list(result)

    def query(
        self,
        query: str,
        *,
        timeout: float,
        default_graphs: tuple[str, ...] | None = None,
        named_graphs: tuple[str, ...] | None = None,
        dataset: datasets.Dataset | None = None,
    ) -> ox.QuerySolutions | ox.QueryBoolean | Iterator[ox.Triple]:
        """Evaluate ``query``, read its whole answer (within ``timeout``) and parse it
        (``dataset``: see :meth:`send`).

        Raises:
            QueryTimeoutError, BackendError: see :meth:`send`.
            SyntaxError: the store refused the query (4xx), with its message.
        """
        deadline = time.monotonic() + timeout
        accept = remote_answers.accept_for(dialects.query_form(query))
        response = self.send(
            query,
            deadline=deadline,
            accept=accept,
            default_graphs=default_graphs,
            named_graphs=named_graphs,
            dataset=dataset,
        )
        try:
            if response.status_code >= 400:
                raise SyntaxError(remote_answers.error_text(response))
            body = _Body(response, deadline, self.backend.query)
            try:
                data = body.read()
            except _DeadlineError:
                raise QueryTimeoutError("the query did not finish within the timeout") from None
        finally:
            response.close()
        try:
            return remote_answers.parse(response, data)
        except remote_answers.UnreadableAnswerError as error:
            raise BackendError(str(error)) from None


class RemotePool:
    """The endpoint's engine on a remote store (the interface of
    :class:`~citygraph.engine.pool.QueryPool`).

    The store's version and build format are read together (at start, and at each check for
    a new build): :class:`~citygraph.engine.remote_version.ServedVersion`.

    Raises (from :meth:`start`): see :meth:`ServedVersion.start
    <citygraph.engine.remote_version.ServedVersion.start>`.
    """

    def __init__(
        self,
        backend: Backend,
        *,
        max_concurrent: int,
        check_interval: float,
        client_max_queries: int | None = None,
        version_timeout: float = 30.0,
    ) -> None:
        # One connection more than queries: the version read (and the graph list) of a request
        # must not wait for a connection that a long query holds, or a request past the limit
        # waits for it instead of getting its 503 at once.
        self.client = SparqlClient(backend, connections=max_concurrent + 1)
        self.max_concurrent = max_concurrent
        self.client_max_queries = client_max_queries or max_concurrent
        self.stats = PoolStats()
        self._lock = threading.Lock()
        self._served = ServedVersion(
            self.client, check_interval=check_interval, timeout=version_timeout, stats=self.stats
        )
        self._queries = InFlight(max_total=max_concurrent, max_per_client=self.client_max_queries)
        self._graphs = remote_reads.ServedGraphs(self.client)
        self._departures = Departures()
        # Answers from one build on a store whose queries read no snapshot (Virtuoso).
        self._consistent = remote_stamps.ConsistentReads(
            lambda timeout: remote_stamps.read_stamp(self.client, timeout=timeout),
            self._refreshed_version,
        )

    def start(self) -> None:
        self._served.start()

    def close(self) -> None:
        self._departures.close()
        self.client.close()

    @property
    def version(self) -> str:
        """The data version the store holds (as last read)."""
        return self._served.version

    @property
    def inflight(self) -> int:
        return self._queries.total

    def load(self) -> PoolLoad:
        with self._lock:
            inflight = self._queries.total
            free = max(0, self.max_concurrent - inflight)
            return PoolLoad(free=free, free_fast=0, waiting=0, inflight=inflight)

    def pids(self) -> list[int]:
        """No local query processes: the store evaluates."""
        return []

    def check_for_new_build(self, *, wait: bool = False) -> None:
        """Read the store's version if ``check_interval`` has passed (always with ``wait``)."""
        self._served.check(wait=wait)

    def _refreshed_version(self) -> str:
        """The store's version, read now."""
        self._served.check(wait=True)
        return self._served.version

    def graph_names(self, *, timeout: float) -> tuple[str, ...]:
        """The named graphs of the build the store holds (read once per version): never a
        staging graph nor a store's system graphs."""
        return self._graphs.own(self.version, timeout=timeout)

    def union_dataset(self, *, timeout: float) -> datasets.Dataset:
        """How a query names the union of the build's graphs as its default graph."""
        return self._graphs.union(self.version, timeout=timeout)

    def run(self, job: Job, *, timeout: float) -> tuple[Reply, str]:
        """Answer ``job`` on the store; returns the reply and the data version.

        The job counts against the current request's client, as on the embedded pool
        (:meth:`~citygraph.engine.pool.QueryPool.run`).

        Raises:
            QueryTimeoutError: the store did not answer within ``timeout``.
            ClientLimitError: the client already has ``client_max_queries`` in progress.
            OverloadedError: ``max_concurrent`` queries are already in progress.
            BackendError: the store is unreachable or failed.
            QueryCancelledError: the request's client went away
                (:func:`~citygraph.engine.clients.current_presence`); its connection to the
                store was closed.
        """
        client = current_client()
        with self._lock:
            self._queries.enter(client)
        try:
            version = self.version
            deadline = time.monotonic() + timeout
            with self._departures.watching() as watched:
                try:
                    if self.client.dialect.snapshot_reads:
                        reply = self._answer(job, deadline)
                    else:  # kept only if from one build (remote_stamps), with its version
                        reply, version = self._consistent.read(
                            version, partial(self._answer, job, deadline), deadline
                        )
                except (CitygraphError, SyntaxError):
                    # A closed connection fails as the store failing, or as a refusal.
                    if watched is None or not watched.cancelled:
                        raise
                # Raised here, not in the handler: the caught error's traceback holds the
                # answer, freed in this thread (see _stream).
                if watched is not None and watched.cancelled:
                    raise client_gone("while the store evaluated it (its connection was closed)")
                return reply, version
        finally:
            with self._lock:
                self._queries.leave(client)

    def _answer(self, job: Job, deadline: float) -> Reply:
        if isinstance(job, GraphNamesJob):
            return Reply(graph_names=self.graph_names(timeout=deadline - time.monotonic()))
        if isinstance(job, QueryJob):
            return self._query(job, deadline)
        names = partial(self.graph_names, timeout=deadline - time.monotonic())
        if isinstance(job, GraphJob):
            read = remote_reads.graph_read(job, self.client.dialect, names)
        elif isinstance(job, DatasetJob):
            read = remote_reads.dataset_read(job, names())
        else:  # pragma: no cover
            raise TypeError(f"unknown job {job!r}")
        return read if isinstance(read, Reply) else self._stream(read, deadline)

    def _query(self, job: QueryJob, deadline: float) -> Reply:
        default, named = job.default_graphs, job.named_graphs
        union = None
        if default is None and named is None and job.union_default:
            union = self.union_dataset(timeout=deadline - time.monotonic())
        elif default is not None or named is not None:
            default, named = default or (), named or ()
        # The base IRI on a line of its own: the store's syntax errors are one line off.
        text = dialects.rewrite_describe(job.query) or job.query
        query = f"BASE <{job.base_iri}>\n{text}" if job.base_iri else text
        read = remote_reads.Read(
            query, default, named, job.solutions_format, job.graph_format, limits=job
        )
        return self._stream(read, deadline, line_offset=1 if job.base_iri else 0, union=union)

    def _stream(
        self,
        read: remote_reads.Read,
        deadline: float,
        *,
        line_offset: int = 0,
        union: datasets.Dataset | None = None,
    ) -> Reply:
        """Send ``read`` and serialise its answer while it arrives, within its limits.

        ``union``, if given, names the dataset instead of the read's default and named graphs
        (see :meth:`SparqlClient.send`).
        """
        query, solutions_format, graph_format = read.query, read.solutions_format, read.graph_format
        # Ask by the answer's family (what the client may get), never for every format.
        form = (
            "CONSTRUCT" if solutions_format is None else "SELECT" if graph_format is None else None
        )
        accept = remote_answers.accept_for(form)
        response = self.client.send(
            query,
            deadline=deadline,
            accept=accept,
            default_graphs=read.default_graphs,
            named_graphs=read.named_graphs,
            dataset=union,
        )
        body = _Body(response, deadline, self.client.backend.query)
        # An error caught here holds, in the frames of its traceback, the parsed answer: a
        # pyoxigraph object bound to this thread (PyO3 "unsendable"; freed in another thread, it
        # is leaked and reported). So the error that leaves is a new one, raised once the caught
        # one (and the answer with it) has been freed here.
        failure: CitygraphError
        try:
            if response.status_code >= 400:
                return remote_answers.refused(response, line_offset, query)
            return remote_answers.serialise(
                remote_answers.parse(response, body), solutions_format, graph_format, read.limits
            )
        except LimitExceededError as error:
            return Reply(error=error.what, message=error.message)
        except (remote_answers.UnreadableAnswerError, BackendError) as error:
            failure = BackendError(str(error))
        except (_DeadlineError, OSError, SyntaxError) as error:
            if body.expired or isinstance(error, _DeadlineError):
                failure = QueryTimeoutError("the query did not finish within the timeout")
            elif body.failure is not None:
                failure = BackendError(body.failure)
            else:
                message = f"the store's answer was not valid: {error}"
                return Reply(error="evaluation", message=message)
        finally:
            response.close()
        raise failure

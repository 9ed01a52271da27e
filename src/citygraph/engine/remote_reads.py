"""The Graph Store and dataset reads of a remote store, and the graphs it serves: what
:class:`~citygraph.engine.remote.RemotePool` asks a store for a ``GraphJob``, a ``DatasetJob``
and the graph names.

- **The graphs a store serves** are read with :data:`GRAPH_NAMES_QUERY`, once per data version
  (:class:`ServedGraphs`); of them, the build's are
  :func:`~citygraph.engine.datasets.own_graphs` (no system, staging or lock graph), and they
  name the union default graph of the version's queries
  (:func:`~citygraph.engine.datasets.union_dataset`).
- **A Graph Store read of one graph** (``GET /store?graph=``) is a ``CONSTRUCT`` of that graph,
  and 404 for a graph the build does not have (to SPARQL an empty graph is no graph); of the
  default graph (``?default``), a ``CONSTRUCT`` of the store's default graph as
  :func:`~citygraph.engine.datasets.default_graph` names it (an empty one on Virtuoso, whose
  default graph is every graph).
- **A whole-dataset read** (``GET /store``, dumps) is :data:`DATASET_QUERY` with the build's
  graphs as named graphs, so neither a store's system graphs nor a publication's staging graphs
  are part of it.

Each read is a :class:`Read`, the query the pool streams and serialises within the job's limits.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pyoxigraph as ox

from citygraph.engine import datasets, remote_answers
from citygraph.engine.dialects import Dialect
from citygraph.engine.jobs import DatasetJob, GraphJob, QueryJob, Reply

if TYPE_CHECKING:
    from citygraph.engine.remote import SparqlClient

__all__ = [
    "DATASET_QUERY",
    "GRAPH_NAMES_QUERY",
    "Read",
    "ServedGraphs",
    "dataset_read",
    "graph_read",
]

#: The graphs that hold triples. ``GROUP BY`` rather than ``DISTINCT``: the same answer, but
#: Virtuoso 7.2 evaluates ``DISTINCT ?g`` by reading every quad (16 s at 100k quads) and groups by
#: its graph index (0.3 s); ``GRAPH ?g {}`` would be cheaper still, but Virtuoso answers it with
#: one row without ``?g`` (citygraph.engine.dialects).
GRAPH_NAMES_QUERY = "SELECT ?g WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
#: Every quad of the named graphs of the query's dataset.
DATASET_QUERY = "SELECT ?s ?p ?o ?g WHERE { GRAPH ?g { ?s ?p ?o } }"


@dataclass(frozen=True)
class Read:
    """A read as the query the pool sends: its dataset (None: the parameter is not sent), the
    formats of its answer (``solutions_format`` ``""``: quads, solutions ``?s ?p ?o ?g``
    serialised as ``graph_format``) and the limits (``limits.max_rows``, ``max_bytes``)."""

    query: str
    default_graphs: tuple[str, ...] | None
    named_graphs: tuple[str, ...] | None
    solutions_format: str | None
    graph_format: str | None
    limits: QueryJob


class ServedGraphs:
    """Every graph a store holds, read once per data version."""

    def __init__(self, client: SparqlClient) -> None:
        self.client = client
        self._served: tuple[str, tuple[str, ...]] | None = None

    def all(self, version: str, *, timeout: float) -> tuple[str, ...]:
        """The graphs the store holds, as last read for ``version`` (read now if not yet).

        Raises:
            QueryTimeoutError, BackendError: see :meth:`SparqlClient.send
                <citygraph.engine.remote.SparqlClient.send>`.
        """
        cached = self._served
        if cached is not None and cached[0] == version:
            return cached[1]
        rows = self.client.select(GRAPH_NAMES_QUERY, timeout=timeout)
        served = tuple(r["g"].value for r in rows if isinstance(r["g"], ox.NamedNode))
        self._served = (version, served)
        return served

    def own(self, version: str, *, timeout: float) -> tuple[str, ...]:
        """The named graphs of the build: never a staging graph nor a store's system graphs."""
        return datasets.own_graphs(self.all(version, timeout=timeout))

    def union(self, version: str, *, timeout: float) -> datasets.Dataset:
        """How a query names the union of the build's graphs as its default graph."""
        return datasets.union_dataset(self.client.dialect, self.all(version, timeout=timeout))


def graph_read(
    job: GraphJob, dialect: Dialect, graph_names: Callable[[], tuple[str, ...]]
) -> Read | Reply:
    """The read of one graph (``job.graph``; None: the default graph), or the reply that the
    build has no such graph (``graph_names`` is called for a named graph only).

    >>> from citygraph.engine.dialects import DIALECTS
    >>> job = GraphJob("http://ex.org/g", "N_TRIPLES", 10, 1000)
    >>> graph_read(job, DIALECTS["standard"], lambda: ("http://ex.org/g",)).query
    'CONSTRUCT { ?s ?p ?o } WHERE { GRAPH <http://ex.org/g> { ?s ?p ?o } }'
    >>> graph_read(job, DIALECTS["standard"], lambda: ()).error
    'not_found'
    >>> graph_read(GraphJob(None, "N_TRIPLES", 10, 1000), DIALECTS["virtuoso"], tuple)
    ... # doctest: +ELLIPSIS
    Read(query='CONSTRUCT WHERE { ?s ?p ?o }', default_graphs=('urn:citygraph:no-graph',), ...)
    """
    default: tuple[str, ...] | None = None
    if job.graph is None:
        query = "CONSTRUCT WHERE { ?s ?p ?o }"
        default = datasets.default_graph(dialect)
    else:
        if job.graph not in graph_names():
            return Reply(error="not_found", message=f"there is no graph <{job.graph}>")
        query = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{job.graph}> {{ ?s ?p ?o }} }}"
    limits = QueryJob(
        query, "", None, None, False, None, job.graph_format, job.max_rows, job.max_bytes
    )
    return Read(query, default, None, None, job.graph_format, limits)


def dataset_read(job: DatasetJob, graph_names: tuple[str, ...]) -> Read | Reply:
    """The read of every quad of the build's graphs (``graph_names``), or the reply itself
    when there is none: named by no graph, ``GRAPH ?g`` would be every graph of the store.

    >>> dataset_read(DatasetJob("N_QUADS", 10, 1000), ("http://ex.org/g",)).named_graphs
    ('http://ex.org/g',)
    >>> dataset_read(DatasetJob("N_QUADS", 10, 1000), ()).body
    b''
    """
    limits = QueryJob(DATASET_QUERY, "", None, None, False, None, None, job.max_rows, job.max_bytes)
    if not graph_names:
        return remote_answers.serialise_dataset((), job.graph_format, limits)
    return Read(DATASET_QUERY, None, graph_names, "", job.graph_format, limits)

"""Which graphs a query on a remote store reads: citygraph's union default graph, named on
every store, and the graphs that are never the build's (issue 11 §1).

citygraph's queries see the union of its graphs as default graph (``use_default_graph_as_union``
on the embedded store). That is not in the standard and stores differ (see
:mod:`citygraph.engine.dialects`, the list of differences), so on a remote store citygraph names
it in every query (:func:`union_dataset`). On Oxigraph's server (and any store not listed) with
the protocol's ``default-graph-uri`` and ``named-graph-uri``, listing the build's graphs
(:func:`union_graphs`): Oxigraph's default graph is a graph of its own. Virtuoso's default graph
is *every* graph of the server, its system graphs included (2,496 triples in 3 graphs on a fresh
database), which ``GRAPH ?g`` would list too; but given the build's graphs as
``default-graph-uri``, Virtuoso 7.2 chooses plans that read whole graphs (after a publication:
``partnership_construct`` 0.7-3 s instead of 5-10 ms at 100k quads). So on Virtuoso citygraph
names no default graph and excludes the graphs that are not the build's instead (``define
input:default-graph-exclude <g>``, before the query): the system graphs (:data:`SYSTEM_GRAPHS`)
and the graph names a publication stages a build under and locks the store with
(:data:`STAGING_GRAPHS`, :data:`LOCK_GRAPH`; readers know them in advance, so what is being
uploaded is never read). Exclusions inflate Virtuoso's cost estimate of some queries until it
refuses them: those are sent again with the graphs listed
(:func:`citygraph.engine.dialects.refused_by_estimate`). The named graphs are still listed
(``named-graph-uri``): with an exclusion and no list, Virtuoso answers ``GRAPH <g> {…}`` with
nothing. Graphs a query names must be among them even when empty: see :func:`union_graphs` for
the Virtuoso bug that makes this necessary.

The Graph Store's default graph (``GET /store?default``) is the store's own default graph
(:func:`default_graph`: an empty one on Virtuoso), and a whole-dataset read names the build's
graphs (``named-graph-uri``), so neither shows a store's system or staging graphs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from citygraph.engine.dialects import Dialect
from citygraph.namespaces import (
    GRAPH_CURATED,
    GRAPH_DERIVED,
    GRAPH_META,
    GRAPH_ONTOLOGY,
    GRAPH_VOCAB,
    GRAPH_WORLDWIDE,
)

__all__ = [
    "KNOWN_GRAPHS",
    "LOCK_GRAPH",
    "NO_GRAPH",
    "STAGING_GRAPHS",
    "STAGING_PREFIX",
    "SYSTEM_GRAPHS",
    "Dataset",
    "default_graph",
    "own_graphs",
    "union_dataset",
    "union_graphs",
]

#: Every graph citygraph's queries may name, present in a build or not (see union_graphs).
KNOWN_GRAPHS = (
    GRAPH_ONTOLOGY,
    GRAPH_VOCAB,
    GRAPH_CURATED,
    GRAPH_DERIVED,
    GRAPH_WORLDWIDE,
    GRAPH_META,
)

#: Graphs a store keeps for itself, never citygraph's nor a user's: Virtuoso 7.2's three on a
#: fresh database (its RDF views, the LDP vocabulary, and its endpoint under the default URIQA
#: host). A graph that a write creates under any other name is the user's and stays visible.
SYSTEM_GRAPHS = frozenset(
    {
        "http://www.openlinksw.com/schemas/virtrdf#",
        "http://www.w3.org/ns/ldp#",
        "http://localuriqaserver/sparql",
    }
)
#: The prefix of a publication's staging graphs (engine/remote_publish.py): half a build.
STAGING_PREFIX = "urn:citygraph:staging:"
#: The graph names a publication uploads a build's graphs under before its switch
#: (engine/remote_staging.py). Fixed and few, so that readers that cannot name the build's
#: graphs (Virtuoso, see :func:`union_dataset`) exclude them in advance: each exclusion costs
#: every query (docs/scaling.md), so on such a store a build with more graphs is staged with
#: the graphs beyond the first 7 packed together in the last name.
STAGING_GRAPHS = tuple(f"{STAGING_PREFIX}{n}" for n in range(8))
#: The graph a publication holds the store's lock in (engine/remote_publish.py), excluded too.
LOCK_GRAPH = STAGING_PREFIX + "lock"
#: A graph name nothing is ever written to (see :func:`default_graph`).
NO_GRAPH = "urn:citygraph:no-graph"


def own_graphs(served: Iterable[str]) -> tuple[str, ...]:
    """Of the graphs a store holds (``served``), those of the build, sorted: not a store's
    :data:`SYSTEM_GRAPHS` nor a publication's staging graphs (half a build). Graphs that writes
    created under other names (``/store?graph=…``, ``CREATE GRAPH``) are part of the build.

    >>> own_graphs(["http://www.w3.org/ns/ldp#", "urn:citygraph:staging:v2:0",
    ...             "https://w3id.org/citygraph/graph/curated", "http://example.org/mine"])
    ('http://example.org/mine', 'https://w3id.org/citygraph/graph/curated')
    """
    return tuple(
        sorted({g for g in served if g not in SYSTEM_GRAPHS and not g.startswith(STAGING_PREFIX)})
    )


def union_graphs(served: Iterable[str]) -> tuple[str, ...]:
    """The graphs to name as default and named graphs for citygraph's union default graph.

    :func:`own_graphs` of ``served``, and always :data:`KNOWN_GRAPHS`, present or not: Virtuoso
    answers *nothing at all* to a query with ``FILTER NOT EXISTS { GRAPH <g> {…} }`` or
    ``MINUS`` when ``<g>`` is not one of the named graphs (sources-disagree-worldwide.rq on a
    build without the worldwide layer).

    >>> union_graphs(["http://www.w3.org/ns/ldp#", "urn:citygraph:staging:v2:0",
    ...               "https://w3id.org/citygraph/graph/curated"]) == tuple(sorted(KNOWN_GRAPHS))
    True
    """
    return tuple(sorted(set(own_graphs(served)) | set(KNOWN_GRAPHS)))


@dataclass(frozen=True)
class Dataset:
    """How one query names its dataset on a store: the protocol's ``default-graph-uri`` and
    ``named-graph-uri`` (None: the parameter is not sent), and text to put before the query."""

    default_graphs: tuple[str, ...] | None
    named_graphs: tuple[str, ...] | None
    prologue: str = ""
    #: The same dataset named another way, for a query the store refuses named this way
    #: before running it (:func:`~citygraph.engine.dialects.refused_by_estimate`).
    fallback: Dataset | None = None


def union_dataset(dialect: Dialect, served: Iterable[str]) -> Dataset:
    """The dataset that makes the union of the build's graphs the default graph on a store of
    ``dialect`` that holds the graphs ``served`` (all of them, as the store lists them).

    On most stores, :func:`union_graphs` as default and named graphs. On Virtuoso, no default
    graph but the graphs that are not the build's excluded: its system graphs, the fixed
    staging and lock graphs of a publication, and any other staging graph there is (left by a
    failed publication of an older citygraph). The prologue is one line's worth of text,
    without a line break, so that the lines of the query keep their numbers.

    >>> from citygraph.engine.dialects import DIALECTS
    >>> plain = union_dataset(DIALECTS["standard"], ["http://example.org/g"])
    >>> "http://example.org/g" in plain.default_graphs, plain.prologue
    (True, '')
    >>> virtuoso = union_dataset(DIALECTS["virtuoso"], ["http://example.org/g"])
    >>> virtuoso.default_graphs is None, "http://example.org/g" in virtuoso.named_graphs
    (True, True)
    >>> virtuoso.prologue.split("> ")[0]
    'define input:default-graph-exclude <http://localuriqaserver/sparql'
    """
    served = list(served)
    graphs = union_graphs(served)
    if not dialect.union_by_exclusion:
        return Dataset(graphs, graphs)
    excluded = set(SYSTEM_GRAPHS) | set(STAGING_GRAPHS) | {LOCK_GRAPH}
    excluded |= {g for g in served if g.startswith(STAGING_PREFIX)}
    prologue = "".join(f"define input:default-graph-exclude <{g}> " for g in sorted(excluded))
    return Dataset(None, graphs, prologue, fallback=Dataset(graphs, graphs))


def default_graph(dialect: Dialect) -> tuple[str, ...] | None:
    """The ``default-graph-uri`` that reads a store's default graph as the embedded store's,
    which holds nothing in a build: None (the store's own), or on a store whose default graph
    is every graph (Virtuoso: its system graphs too) :data:`NO_GRAPH`, an empty one.

    >>> from citygraph.engine.dialects import DIALECTS
    >>> default_graph(DIALECTS["standard"]) is None, default_graph(DIALECTS["virtuoso"])
    (True, ('urn:citygraph:no-graph',))
    """
    return (NO_GRAPH,) if dialect.default_is_every_graph else None

"""Which staging graph each graph of a build is uploaded under, before the switch that moves
them into place (:mod:`citygraph.engine.remote_publish`), for a build of any number of graphs.

On a store whose readers name citygraph's union default graph by listing the build's graphs
(Oxigraph's server and any store not listed), graph *n* of the build is staged under
``urn:citygraph:staging:<n>``, however many there are: readers never list them. On Virtuoso
readers exclude the staging graphs by name, in every query
(:func:`~citygraph.engine.datasets.union_dataset`), so their names must be known in advance and
few: each exclusion costs every query, even of a graph that does not exist (docs/scaling.md:
64 names instead of 8 made a count 4 times slower). There, the staging names are the fixed
:data:`~citygraph.engine.datasets.STAGING_GRAPHS`, and a build with more graphs than that is
staged so (:func:`plan`): its largest graphs one each under the first names, moved into place by
``MOVE`` as on any store; the others all under the last, :data:`PACKED`, each of their triples
written as the description of a quad (:func:`packed_triples`), which the switch turns back into
triples of their graphs with one ``INSERT … WHERE`` in the same update request
(:func:`unpack_operations`). Blank nodes keep their identity (within the packed graphs, as
within each moved one); the packed graphs are the smallest, since they take four triples each
and a join to switch. ``graph:meta`` is never packed: it holds the data version, and the switch
moves it last (:func:`citygraph.engine.remote_switch.switch_update`), after the join, the one
operation that can fail once others have been applied.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import pyoxigraph as ox

from citygraph.engine.datasets import STAGING_GRAPHS, STAGING_PREFIX
from citygraph.namespaces import GRAPH_META

__all__ = ["PACKED", "Plan", "packed_triples", "plan", "unpack_operations"]

#: The staging graph that holds, on a store whose readers exclude staging graphs by name, the
#: graphs of a build beyond the other staging names, packed (:func:`packed_triples`).
PACKED = STAGING_GRAPHS[-1]
#: The predicates of a packed quad's description: its subject, predicate, object and graph.
_SUBJECT, _PREDICATE, _OBJECT, _GRAPH = (
    ox.NamedNode(f"urn:citygraph:staging#{part}") for part in ("s", "p", "o", "g")
)


@dataclass(frozen=True)
class Plan:
    """Where a build's graphs are staged: ``moved`` maps a graph to its staging graph; the
    ``packed`` graphs are all in :data:`PACKED` (none unless the build has more graphs than
    :data:`~citygraph.engine.datasets.STAGING_GRAPHS` and the store's readers exclude them)."""

    moved: dict[str, str]
    packed: tuple[str, ...]


def plan(sizes: Mapping[str, int], *, by_exclusion: bool) -> Plan:
    """Where to stage the graphs of a build (``sizes``: graph name → number of triples) on a
    store whose readers exclude the staging graphs by name (``by_exclusion``) or not: on such
    a store, graph:meta and the largest other graphs one each, the rest packed.

    >>> plan({"http://g/a": 5, "http://g/b": 1}, by_exclusion=True).moved
    {'http://g/a': 'urn:citygraph:staging:0', 'http://g/b': 'urn:citygraph:staging:1'}
    >>> many = {f"http://g/{n:02}": 100 - n for n in range(10)}
    >>> plan(many, by_exclusion=False).moved["http://g/09"]
    'urn:citygraph:staging:9'
    >>> packing = plan(many, by_exclusion=True)
    >>> len(packing.moved), packing.packed
    (7, ('http://g/07', 'http://g/08', 'http://g/09'))
    >>> plan({**many, GRAPH_META: 1}, by_exclusion=True).packed
    ('http://g/06', 'http://g/07', 'http://g/08', 'http://g/09')
    """
    graphs = sorted(sizes)
    if not by_exclusion or len(graphs) <= len(STAGING_GRAPHS):
        return Plan({g: f"{STAGING_PREFIX}{n}" for n, g in enumerate(graphs)}, ())
    room = len(STAGING_GRAPHS) - 1
    # graph:meta first, whatever its size: never packed (see the module docstring)
    largest = sorted(sorted(graphs, key=lambda g: (g != GRAPH_META, -sizes[g], g))[:room])
    return Plan(
        moved={g: STAGING_GRAPHS[n] for n, g in enumerate(largest)},
        packed=tuple(g for g in graphs if g not in largest),
    )


def packed_triples(quads: Iterable[ox.Quad]) -> Iterator[ox.Triple]:
    """Each quad as four triples about a new blank node (its subject, predicate, object and
    graph), to be uploaded as one graph (:data:`PACKED`) and unpacked by the switch.

    >>> quad = ox.Quad(ox.NamedNode("http://s"), ox.NamedNode("http://p"), ox.NamedNode("http://o"),
    ...                ox.NamedNode("http://g"))
    >>> [t.object.value for t in packed_triples([quad])]
    ['http://s', 'http://p', 'http://o', 'http://g']
    """
    for quad in quads:
        node = ox.BlankNode()
        yield ox.Triple(node, _SUBJECT, quad.subject)
        yield ox.Triple(node, _PREDICATE, quad.predicate)
        yield ox.Triple(node, _OBJECT, quad.object)
        assert isinstance(quad.graph_name, ox.NamedNode)
        yield ox.Triple(node, _GRAPH, quad.graph_name)


def unpack_operations(packed: Sequence[str]) -> list[str]:
    """The operations of the switch that replace the ``packed`` graphs by what :data:`PACKED`
    holds for them, then remove it (``SILENT``: Virtuoso refuses to ``DROP`` a graph that a
    Graph Store ``PUT`` created; its triples were counted right before the switch).

    >>> print(" ;\\n".join(unpack_operations(["http://g/x"])))  # doctest: +ELLIPSIS
    DROP SILENT GRAPH <http://g/x> ;
    INSERT { GRAPH ?g { ?s ?p ?o } } WHERE { GRAPH <urn:citygraph:staging:7> { ?q <...#g> ?g ; ...
    DROP SILENT GRAPH <urn:citygraph:staging:7>
    """
    if not packed:
        return []
    description = f"?q {_GRAPH} ?g ; {_SUBJECT} ?s ; {_PREDICATE} ?p ; {_OBJECT} ?o"
    return [
        *(f"DROP SILENT GRAPH <{g}>" for g in packed),
        f"INSERT {{ GRAPH ?g {{ ?s ?p ?o }} }} WHERE {{ GRAPH <{PACKED}> {{ {description} }} }}",
        f"DROP SILENT GRAPH <{PACKED}>",
    ]

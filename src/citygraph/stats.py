"""Statistics of a build, counted in one place: quads per graph, triples, classes, links.

Every figure citygraph reports about its data comes from here: the build's metadata
(``quads_per_graph``, :mod:`citygraph.publish`), the dataset's VoID and DCAT description
(:mod:`citygraph.dataset`, at ``/dataset`` and ``/.well-known/void``) and ``citygraph stats``.
Each is one SPARQL count whose meaning is stated once below, so that what a consumer counts
with a query against the endpoint is what they were told:

* *quads per graph*: every quad of each named graph, graph:meta (the build's own record)
  included;
* *triples*: the distinct triples of all graphs, which is what the endpoint's default graph
  (the union of all graphs) holds;
* *data graphs*: every named graph but graph:meta; classes, entities and links are counted over
  them;
* *instances per class*: distinct subjects typed with the class (an IRI);
* *entities*: distinct typed things in citygraph's URI space (every thing citygraph names has a
  class, docs/model.md);
* *links*: distinct ``(thing, target)`` pairs of a link set's predicate to its dataset's IRIs.

>>> store = ox.Store()
>>> g, s = ox.NamedNode("http://example.org/g"), ox.NamedNode("http://example.org/s")
>>> store.add(ox.Quad(s, s, ox.Literal("a"), g))
>>> store.add(ox.Quad(s, s, ox.Literal("a"), ox.NamedNode(GRAPH_META)))
>>> quads_per_graph(store)
{'http://example.org/g': 1, 'https://w3id.org/citygraph/graph/meta': 1}
>>> store_stats(store).triples  # the same triple in two graphs: the endpoint holds it once
1
"""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox

from citygraph.namespaces import BASE, GRAPH_META, PREFIXES

__all__ = [
    "LINK_SETS",
    "URI_SPACE",
    "LinkSet",
    "StoreStats",
    "entities",
    "instances_per_class",
    "link_counts",
    "quads_per_graph",
    "store_stats",
    "triples",
]

#: citygraph's own things (``void:uriSpace``).
URI_SPACE = BASE + "id/"


@dataclass(frozen=True)
class LinkSet:
    """Links from our things to another dataset: one predicate, one IRI prefix."""

    name: str
    #: The other dataset's name, as ``citygraph stats`` prints it.
    label: str
    title: str
    predicate: str
    prefix: str
    target: str


LINK_SETS: tuple[LinkSet, ...] = (
    LinkSet(
        "wikidata",
        "Wikidata",
        "Links to Wikidata",
        PREFIXES["owl"] + "sameAs",
        PREFIXES["wd"],
        "https://www.wikidata.org/",
    ),
    LinkSet(
        "geonames",
        "GeoNames",
        "Links to GeoNames",
        PREFIXES["skos"] + "exactMatch",
        "https://sws.geonames.org/",
        "https://www.geonames.org/",
    ),
)

#: Leaves graph:meta out of a ``GRAPH ?g`` pattern (a constant, never a request value).
_DATA_GRAPHS = "FILTER(?g != <" + GRAPH_META + ">)"


@dataclass(frozen=True)
class StoreStats:
    """The counts of one build (see the module docstring for what each counts)."""

    quads_per_graph: dict[str, int]
    triples: int
    instances_per_class: dict[str, int]
    entities: int
    #: By :attr:`LinkSet.name`.
    links: dict[str, int]

    @property
    def data_graphs(self) -> dict[str, int]:
        """The quads per graph of the data graphs (graph:meta left out)."""
        return {g: n for g, n in self.quads_per_graph.items() if g != GRAPH_META}


def store_stats(target: ox.Store) -> StoreStats:
    """Every count of :class:`StoreStats` for ``target``."""
    return StoreStats(
        quads_per_graph=quads_per_graph(target),
        triples=triples(target),
        instances_per_class=instances_per_class(target),
        entities=entities(target),
        links=link_counts(target),
    )


def quads_per_graph(target: ox.Store) -> dict[str, int]:
    """The number of quads in each named graph of ``target``, by graph IRI (sorted)."""
    counts = _pairs(
        target, "SELECT ?k (COUNT(*) AS ?n) WHERE { GRAPH ?k { ?s ?p ?o } } GROUP BY ?k"
    )
    return dict(sorted(counts.items()))


def triples(target: ox.Store) -> int:
    """The distinct triples of all graphs: what the endpoint's default graph holds."""
    return _count(target, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", union=True)


def instances_per_class(target: ox.Store) -> dict[str, int]:
    """Distinct instances of each class (an IRI) over the data graphs, by class IRI (sorted)."""
    counts = _pairs(
        target,
        "SELECT ?k (COUNT(DISTINCT ?s) AS ?n) WHERE { GRAPH ?g { ?s a ?k } "
        + _DATA_GRAPHS
        + " FILTER(isIRI(?k)) } GROUP BY ?k",
    )
    return dict(sorted(counts.items()))


def entities(target: ox.Store) -> int:
    """Distinct typed things in citygraph's URI space, over the data graphs."""
    return _count(
        target,
        "SELECT ?space (COUNT(DISTINCT ?s) AS ?n) WHERE { GRAPH ?g { ?s a ?c } "
        + _DATA_GRAPHS
        + " FILTER(isIRI(?s) && STRSTARTS(STR(?s), ?space)) } GROUP BY ?space",
        {"space": ox.Literal(URI_SPACE)},
    )


def link_counts(target: ox.Store) -> dict[str, int]:
    """Distinct links of each of :data:`LINK_SETS` over the data graphs, by link set name."""
    return {
        link.name: _count(
            target,
            "SELECT ?lp ?prefix (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?lp ?prefix ?s ?o "
            "WHERE { GRAPH ?g { ?s ?lp ?o } "
            + _DATA_GRAPHS
            + " FILTER(isIRI(?o) && STRSTARTS(STR(?o), ?prefix)) } } GROUP BY ?lp ?prefix",
            {"lp": ox.NamedNode(link.predicate), "prefix": ox.Literal(link.prefix)},
        )
        for link in LINK_SETS
    }


def _solutions(
    target: ox.Store,
    query: str,
    bindings: dict[str, ox.NamedNode | ox.Literal] | None = None,
    *,
    union: bool = False,
) -> ox.QuerySolutions:
    # pyoxigraph applies substitutions to projected variables only: every bound variable above
    # is also selected (and grouped by).
    result = target.query(
        query,
        substitutions={ox.Variable(name): value for name, value in (bindings or {}).items()},
        use_default_graph_as_union=union,
    )
    assert isinstance(result, ox.QuerySolutions)
    return result


def _count(
    target: ox.Store,
    query: str,
    bindings: dict[str, ox.NamedNode | ox.Literal] | None = None,
    *,
    union: bool = False,
) -> int:
    """The ``?n`` of the query's one row (0 when a grouped query has no group)."""
    return sum(_int(row["n"]) for row in _solutions(target, query, bindings, union=union))


def _pairs(target: ox.Store, query: str) -> dict[str, int]:
    return {
        row["k"].value: _int(row["n"])
        for row in _solutions(target, query)
        if isinstance(row["k"], ox.NamedNode)
    }


def _int(term: object) -> int:
    assert isinstance(term, ox.Literal)
    return int(term.value)

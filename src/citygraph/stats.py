"""Statistics of a built store: triples per graph, instances per class, links out per target."""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox

from citygraph.namespaces import sparql_prolog

__all__ = ["LINK_TARGETS", "StoreStats", "quads_per_graph", "store_stats"]

#: External link targets counted by ``citygraph stats``: name -> IRI prefix.
LINK_TARGETS: dict[str, str] = {
    "Wikidata": "http://www.wikidata.org/entity/",
    "GeoNames": "https://sws.geonames.org/",
}


@dataclass(frozen=True)
class StoreStats:
    """Counts describing one build."""

    triples_per_graph: dict[str, int]
    instances_per_class: dict[str, int]
    links_per_target: dict[str, int]


def store_stats(target: ox.Store) -> StoreStats:
    """Count triples per named graph, instances per class and links to external datasets."""
    per_graph = _pairs(
        target, "SELECT ?k (COUNT(*) AS ?n) WHERE { GRAPH ?k { ?s ?p ?o } } GROUP BY ?k"
    )
    per_class = _pairs(
        target,
        "SELECT ?k (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?k } GROUP BY ?k",
    )
    # The targets are our own constants, written as SPARQL literals by the library.
    values = " ".join(str(ox.Literal(prefix)) for prefix in LINK_TARGETS.values())
    query = (
        sparql_prolog(["owl", "skos"])
        + f"SELECT ?prefix (COUNT(*) AS ?n) WHERE {{ VALUES ?prefix {{ {values} }} "
        + "?s owl:sameAs|skos:exactMatch ?o FILTER STRSTARTS(STR(?o), ?prefix) } GROUP BY ?prefix"
    )
    result = target.query(query, use_default_graph_as_union=True)
    assert isinstance(result, ox.QuerySolutions)
    found = {term_value(row["prefix"]): _int(row["n"]) for row in result}
    links = {name: found.get(prefix, 0) for name, prefix in LINK_TARGETS.items()}
    return StoreStats(per_graph, per_class, links)


def quads_per_graph(target: ox.Store) -> dict[str, int]:
    """The number of quads in each named graph of ``target``, by graph IRI (sorted).

    >>> store = ox.Store()
    >>> g, s = ox.NamedNode("http://example.org/g"), ox.NamedNode("http://example.org/s")
    >>> store.add(ox.Quad(s, s, ox.Literal("a"), g))
    >>> store.add(ox.Quad(s, s, ox.Literal("b"), g))
    >>> quads_per_graph(store)
    {'http://example.org/g': 2}
    """
    result = target.query("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
    assert isinstance(result, ox.QuerySolutions)
    counts: dict[str, int] = {}
    for row in result:
        graph = row["g"]
        assert isinstance(graph, ox.NamedNode)
        counts[graph.value] = _int(row["n"])
    return dict(sorted(counts.items()))


def _pairs(target: ox.Store, query: str) -> dict[str, int]:
    result = target.query(query, use_default_graph_as_union=True)
    assert isinstance(result, ox.QuerySolutions)
    pairs = {}
    for row in result:
        key = row["k"]
        if isinstance(key, ox.NamedNode):
            pairs[key.value] = _int(row["n"])
    return dict(sorted(pairs.items(), key=lambda item: (-item[1], item[0])))


def term_value(term: object) -> str:
    assert isinstance(term, ox.Literal)
    return term.value


def _int(term: object) -> int:
    assert isinstance(term, ox.Literal)
    return int(term.value)

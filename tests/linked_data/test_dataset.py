"""The dataset's self-description (citygraph.dataset) and its dumps, against separate counts."""

from __future__ import annotations

import gzip

import pyoxigraph as ox
import pytest
from tests.backends import every_backend

from citygraph import dataset
from citygraph.namespaces import GRAPH_META

from .support import TestClient

pytestmark = [every_backend, pytest.mark.virtuoso]

VOID = "http://rdfs.org/ns/void#"
DCAT = "http://www.w3.org/ns/dcat#"
SD = "http://www.w3.org/ns/sparql-service-description#"


def _one(store: ox.Store, query: str, *, union: bool = False) -> int:
    result = store.query(query, use_default_graph_as_union=union)
    assert isinstance(result, ox.QuerySolutions)
    value = next(iter(result))["n"]
    assert isinstance(value, ox.Literal)
    return int(value.value)


def test_statistics_match_separate_counts(store: ox.Store) -> None:
    stats = dataset.dataset_statistics(store)
    # every distinct triple of every graph, graph:meta's included: what the endpoint serves
    assert stats.triples == _one(
        store,
        "SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o "
        "WHERE { GRAPH ?g { ?s ?p ?o } } }",
    )
    for graph, count in stats.per_graph.items():
        assert count == _one(
            store, f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
        )
    assert GRAPH_META not in stats.per_graph
    city = "https://w3id.org/citygraph/ontology#City"
    assert stats.per_class[city] == _one(
        store, f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ GRAPH ?g {{ ?s a <{city}> }} }}"
    )
    assert stats.links["wikidata"] == _one(
        store,
        "SELECT (COUNT(DISTINCT *) AS ?n) WHERE { GRAPH ?g "
        "{ ?s <http://www.w3.org/2002/07/owl#sameAs> ?o } "
        'FILTER(STRSTARTS(STR(?o), "http://www.wikidata.org/entity/")) }',
    )
    assert stats.links["geonames"] > 0


def test_the_description_says_what_dcat_and_void_ask_for(store: ox.Store) -> None:
    triples = dataset.describe_dataset(dataset.dataset_statistics(store))
    by_predicate: dict[str, list[str]] = {}
    for t in triples:
        if t.subject == ox.NamedNode(dataset.DATASET):
            assert isinstance(t.object, ox.NamedNode | ox.Literal)
            by_predicate.setdefault(t.predicate.value, []).append(t.object.value)
    assert dataset.CC_BY in by_predicate["http://purl.org/dc/terms/license"]
    assert by_predicate[VOID + "sparqlEndpoint"] == [dataset.ENDPOINT]
    assert by_predicate[VOID + "uriSpace"] == [dataset.URI_SPACE]
    assert "https://w3id.org/citygraph/ontology#" in by_predicate[VOID + "vocabulary"]
    assert len(by_predicate[DCAT + "distribution"]) == 2
    assert "http://purl.org/dc/terms/publisher" in by_predicate
    assert "http://purl.org/dc/terms/title" in by_predicate


@pytest.mark.parametrize("fmt", list(dataset.DumpFormat), ids=lambda f: f.file_name)
def test_dumps_round_trip(store: ox.Store, fmt: dataset.DumpFormat) -> None:
    data = gzip.decompress(dataset.dump(store, fmt))
    parsed = list(ox.parse(data, format=fmt.rdf_format))
    if fmt is dataset.DumpFormat.TURTLE:
        assert len(parsed) == len(dataset.dump_triples(store))
        assert len(parsed) == _one(  # the data graphs: graph:meta's build records left out
            store,
            "SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o "
            f"WHERE {{ GRAPH ?g {{ ?s ?p ?o }} FILTER(?g != <{GRAPH_META}>) }} }}",
        )
    else:
        graphs = dataset.data_graphs(store)
        expected = sum(
            len(list(store.quads_for_pattern(None, None, None, ox.NamedNode(g)))) for g in graphs
        )
        assert len(parsed) == expected
        names = {q.graph_name for q in parsed}
        assert names == {ox.NamedNode(g) for g in graphs}


def test_dumps_are_reproducible(store: ox.Store) -> None:
    assert dataset.dump(store, dataset.DumpFormat.N_QUADS) == dataset.dump(
        store, dataset.DumpFormat.N_QUADS
    )


def test_the_served_void_matches_separate_counts(client: TestClient, store: ox.Store) -> None:
    response = client.get("/.well-known/void", headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    assert response.headers["content-location"] == "http://testserver/dataset.ttl"
    served = ox.Store()
    served.load(response.content, format=ox.RdfFormat.TURTLE)

    def served_count(query: str) -> int:
        return _one(served, "PREFIX void: <" + VOID + "> PREFIX sd: <" + SD + "> " + query)

    assert served_count(f"SELECT ?n WHERE {{ <{dataset.DATASET}> void:triples ?n }}") == _one(
        store, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", union=True
    )
    partnership = "https://w3id.org/citygraph/ontology#Partnership"
    assert served_count(
        f"SELECT ?n WHERE {{ ?part void:class <{partnership}> ; void:entities ?n }}"
    ) == _one(
        store, f"SELECT (COUNT(DISTINCT ?p) AS ?n) WHERE {{ ?p a <{partnership}> }}", union=True
    )
    curated = "https://w3id.org/citygraph/graph/curated"
    assert served_count(
        f"SELECT ?n WHERE {{ ?sub sd:name <{curated}> ; void:triples ?n }}"
    ) == _one(store, f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{curated}> {{ ?s ?p ?o }} }}")
    geonames = served_count(
        "SELECT ?n WHERE { ?ls a void:Linkset ; void:linkPredicate "
        "<http://www.w3.org/2004/02/skos/core#exactMatch> ; void:triples ?n }"
    )
    assert geonames == _one(
        store,
        "SELECT (COUNT(*) AS ?n) WHERE { ?s <http://www.w3.org/2004/02/skos/core#exactMatch> ?o "
        'FILTER(STRSTARTS(STR(?o), "https://sws.geonames.org/")) }',
        union=True,
    )
    distributions = served_count(
        "PREFIX dcat: <http://www.w3.org/ns/dcat#> SELECT (COUNT(?d) AS ?n) WHERE { "
        f"<{dataset.DATASET}> dcat:distribution ?d . ?d a dcat:Distribution }}"
    )
    assert distributions == 2

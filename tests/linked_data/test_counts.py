"""The figures citygraph publishes about its data are what a consumer counts at the endpoint:
VoID (``/.well-known/void``), the build metadata's ``quads_per_graph`` and ``citygraph stats``
(issue 10 §1: they were counted three ways) against COUNT queries sent to ``/sparql``."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from tests.backends import every_backend

from citygraph.config import Settings
from citygraph.store import current_build
from citygraph.web.app import create_app

from .support import BASE, REPO, TestClient

pytestmark = [every_backend, pytest.mark.virtuoso]

VOID = "http://rdfs.org/ns/void#"
SD_NAME = "http://www.w3.org/ns/sparql-service-description#name"
DATASET = ox.NamedNode(BASE + "dataset")
META = BASE + "graph/meta"
NOT_META = f"FILTER(?g != <{META}>)"
#: The IRIs each link predicate points into, as Wikidata and GeoNames mint them.
LINK_PREFIXES = {
    "http://www.w3.org/2002/07/owl#sameAs": "http://www.wikidata.org/entity/",
    "http://www.w3.org/2004/02/skos/core#exactMatch": "https://sws.geonames.org/",
}


@pytest.fixture
def served(store_dir: Path) -> Iterator[TestClient]:
    settings = Settings(store=store_dir, query_processes=1, version_check_interval=3600.0)
    with TestClient(create_app(settings)) as client:
        yield client


def count(client: TestClient, where: str) -> int:
    response = client.get(
        "/sparql",
        params={"query": f"SELECT (COUNT(*) AS ?n) {{ {where} }}"},
        headers={"Accept": "application/sparql-results+json"},
    )
    assert response.status_code == 200, response.text
    return int(response.json()["results"]["bindings"][0]["n"]["value"])


def void(client: TestClient) -> list[ox.Triple]:
    response = client.get("/.well-known/void", headers={"Accept": "application/n-triples"})
    assert response.status_code == 200, response.text
    return list(ox.parse(response.content, format=ox.RdfFormat.N_TRIPLES))


def value(triples: list[ox.Triple], subject: ox.NamedNode | ox.BlankNode, predicate: str) -> str:
    (found,) = [
        t.object.value for t in triples if t.subject == subject and t.predicate.value == predicate
    ]
    return found


def parts(triples: list[ox.Triple], predicate: str) -> list[ox.NamedNode | ox.BlankNode]:
    return [
        t.object  # type: ignore[misc]
        for t in triples
        if t.subject == DATASET and t.predicate.value == predicate
    ]


def test_void_counts_are_what_the_endpoint_counts(served: TestClient) -> None:
    described = void(served)
    assert int(value(described, DATASET, VOID + "triples")) == count(served, "?s ?p ?o")
    assert int(value(described, DATASET, VOID + "entities")) == count(
        served,
        "SELECT DISTINCT ?s WHERE { GRAPH ?g { ?s a ?c } "
        + NOT_META
        + f' FILTER(STRSTARTS(STR(?s), "{BASE}id/")) }}',
    )
    classes = parts(described, VOID + "classPartition")
    assert int(value(described, DATASET, VOID + "classes")) == len(classes) > 5
    for partition in classes:
        cls = value(described, partition, VOID + "class")
        assert int(value(described, partition, VOID + "entities")) == count(
            served, f"SELECT DISTINCT ?s WHERE {{ GRAPH ?g {{ ?s a <{cls}> }} {NOT_META} }}"
        ), cls
    graphs = 0
    links = 0
    for subset in parts(described, VOID + "subset"):
        number = int(value(described, subset, VOID + "triples"))
        kinds = {t.object.value for t in described if t.subject == subset}
        if VOID + "Linkset" in kinds:
            predicate = value(described, subset, VOID + "linkPredicate")
            prefix = LINK_PREFIXES[predicate]
            assert (
                number
                == count(
                    served,
                    f"SELECT DISTINCT ?s ?o WHERE {{ GRAPH ?g {{ ?s <{predicate}> ?o }} {NOT_META} "
                    f'FILTER(STRSTARTS(STR(?o), "{prefix}")) }}',
                )
                > 0
            ), predicate
            links += 1
        else:
            graph = value(described, subset, SD_NAME)
            assert number == count(served, f"GRAPH <{graph}> {{ ?s ?p ?o }}"), graph
            graphs += 1
    assert links == len(LINK_PREFIXES)
    assert graphs >= 4  # ontology, vocab, curated, derived


def test_build_metadata_and_citygraph_stats_count_the_same(
    served: TestClient, store_dir: Path
) -> None:
    per_graph = current_build(store_dir).metadata["quads_per_graph"]
    assert per_graph == {
        graph: count(served, f"GRAPH <{graph}> {{ ?s ?p ?o }}") for graph in per_graph
    }
    assert META in per_graph
    result = subprocess.run(
        [sys.executable, "-m", "citygraph", "stats", "--store", str(store_dir), "--json"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    stats = json.loads(result.stdout)
    assert stats["triples_per_graph"] == per_graph
    assert stats["triples"] == count(served, "?s ?p ?o")
    described = void(served)
    for partition in parts(described, VOID + "classPartition"):
        cls = value(described, partition, VOID + "class")
        assert stats["instances_per_class"][cls] == int(
            value(described, partition, VOID + "entities")
        )
    assert stats["entities"] == int(value(described, DATASET, VOID + "entities"))

"""The dataset's description agrees with what the endpoint serves, before and after writes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph as ox
from fastapi.testclient import TestClient
from tests.web.conftest import CURATED, META, TINY_TRIPLES, auth

from citygraph import store

VOID_TRIPLES = "http://rdfs.org/ns/void#triples"
MODIFIED = "http://purl.org/dc/terms/modified"
VERSION_INFO = "http://www.w3.org/2002/07/owl#versionInfo"
DATASET = "https://w3id.org/citygraph/dataset"


def count(client: TestClient, where: str) -> int:
    response = client.get("/sparql", params={"query": f"SELECT (COUNT(*) AS ?n) {{ {where} }}"})
    assert response.status_code == 200, response.text
    return int(response.json()["results"]["bindings"][0]["n"]["value"])


def described(client: TestClient, predicate: str) -> list[str]:
    response = client.get("/.well-known/void", headers={"Accept": "application/n-triples"})
    assert response.status_code == 200, response.text
    return [
        t.object.value
        for t in ox.parse(response.content, format=ox.RdfFormat.N_TRIPLES)
        if t.subject == ox.NamedNode(DATASET) and t.predicate.value == predicate
    ]


def in_meta(client: TestClient, predicate: str) -> list[str]:
    response = client.get("/store", params={"graph": META}, headers={"Accept": "text/turtle"})
    assert response.status_code == 200, response.text
    return [
        t.object.value
        for t in ox.parse(response.content, format=ox.RdfFormat.TURTLE)
        if t.predicate.value == predicate
    ]


def test_void_triples_is_the_endpoint_count(client: TestClient) -> None:
    """Issue 9 §4: VoID said 3,513 while the endpoint's default graph held 3,515."""
    served = count(client, "?s ?p ?o")
    assert served == TINY_TRIPLES
    assert described(client, VOID_TRIPLES) == [str(served)]


def test_a_write_records_itself_as_a_build_does(writer: TestClient, store_dir: Path) -> None:
    """Issue 15: graph:meta (so /dataset's dcterms:modified) went stale after a write, and the
    write's build metadata had no quads_per_graph."""
    triple = '<http://example.org/a> <http://example.org/p> "x"'
    update = f"INSERT DATA {{ GRAPH <{CURATED}> {{ {triple} }} }}"
    started = datetime.now(UTC).replace(microsecond=0)
    response = writer.post("/sparql", data={"update": update}, headers=auth())
    assert response.status_code == 204, response.text
    build = store.current_build(store_dir)
    assert in_meta(writer, VERSION_INFO) == [build.version]
    modified = in_meta(writer, MODIFIED)
    assert len(modified) == 1
    # written during the write: not before it started, not after the build was recorded
    assert (
        started
        <= datetime.fromisoformat(modified[0])
        <= datetime.fromisoformat(build.metadata["built"])
    )
    assert described(writer, MODIFIED) == modified
    assert described(writer, VOID_TRIPLES) == [str(count(writer, "?s ?p ?o"))]
    per_graph = {
        graph: count(writer, f"GRAPH <{graph}> {{ ?s ?p ?o }}")
        for graph in build.metadata["quads_per_graph"]
    }
    assert build.metadata["quads_per_graph"] == per_graph
    assert per_graph[CURATED] == 7
    assert set(per_graph) >= {CURATED, META}

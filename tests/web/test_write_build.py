"""An HTTP write publishes through the build transaction, so it records itself as a build does:
``/dataset``'s ``dcterms:modified`` and the build metadata's ``quads_per_graph`` follow the write
(issue 10 §1; they went stale when a write took its own path). Against a real server."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx
import pyoxigraph as ox
from tests.serving import running_server
from tests.web.conftest import BASE, CURATED, META, make_build, tiny_quads

from citygraph import store

DATASET = ox.NamedNode(BASE + "dataset")
MODIFIED = ox.NamedNode("http://purl.org/dc/terms/modified")
XSD_DATETIME = ox.NamedNode("http://www.w3.org/2001/XMLSchema#dateTime")
#: When the fixture's build says it was made (long before any test runs).
OLD = "2026-01-01T00:00:00Z"
TOKEN = "s3cret"


def old_build(root: Path) -> None:
    meta = ox.Quad(DATASET, MODIFIED, ox.Literal(OLD, datatype=XSD_DATETIME), ox.NamedNode(META))
    make_build(root, [*tiny_quads(), meta], "20260101T000000000000Z-aaaaaaaaaa")


def modified(server: str) -> list[str]:
    response = httpx.get(server + "/dataset", headers={"Accept": "text/turtle"}, timeout=30)
    assert response.status_code == 200, response.text
    graph = ox.parse(response.content, format=ox.RdfFormat.TURTLE, base_iri=server + "/")
    return [t.object.value for t in graph if t.subject == DATASET and t.predicate == MODIFIED]


def count(server: str, where: str) -> int:
    query = f"SELECT (COUNT(*) AS ?n) {{ {where} }}"
    response = httpx.get(
        server + "/sparql",
        params={"query": query},
        headers={"Accept": "application/sparql-results+json"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return int(response.json()["results"]["bindings"][0]["n"]["value"])


def test_a_write_updates_dataset_modified_and_quads_per_graph(tmp_path: Path) -> None:
    root = tmp_path / "store"
    old_build(root)
    curated_before = sum(1 for q in tiny_quads() if q.graph_name == ox.NamedNode(CURATED))
    env = {"CITYGRAPH_UPDATE_TOKEN": TOKEN}
    with running_server(root, tmp_path / "server.log", env=env) as server:
        assert modified(server) == [OLD]
        started = datetime.now(UTC).replace(microsecond=0)
        update = (
            f"INSERT DATA {{ GRAPH <{CURATED}> "
            '{ <http://example.org/a> <http://example.org/p> "x" } }'
        )
        response = httpx.post(
            server + "/sparql",
            data={"update": update},
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=120,
        )
        assert response.status_code == 204, response.text
        build = store.current_build(root)
        # the writer's worker serves the new build before it answers
        (after,) = modified(server)
        assert after != OLD
        assert started <= datetime.fromisoformat(after)
        assert datetime.fromisoformat(after) == datetime.fromisoformat(build.metadata["built"])
        per_graph = build.metadata["quads_per_graph"]
        assert per_graph[CURATED] == curated_before + 1
        assert per_graph == {
            graph: count(server, f"GRAPH <{graph}> {{ ?s ?p ?o }}") for graph in per_graph
        }
        assert build.metadata["derived_from"] == "20260101T000000000000Z-aaaaaaaaaa"

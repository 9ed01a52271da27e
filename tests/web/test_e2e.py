"""End to end: `citygraph serve` as a real process, queried by standard SPARQL clients."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import rdflib
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import JSON, POST, TURTLE, XML, SPARQLWrapper
from tests.serving import running_server
from tests.web.conftest import CITY, make_build, tiny_quads

pytestmark = pytest.mark.e2e

PARIS = f"SELECT ?label WHERE {{ <{CITY}fr-paris> ?p ?label }}"


@pytest.fixture
def server(store_dir: Path, tmp_path: Path) -> Iterator[str]:
    env = {
        "CITYGRAPH_QUERY_TIMEOUT": "2",
        "CITYGRAPH_VERSION_CHECK_INTERVAL": "0.2",
        "CITYGRAPH_QUERY_PROCESSES": "2",
    }
    with running_server(
        store_dir, tmp_path / "server.log", args=["--workers", "2"], env=env
    ) as url:
        yield url


def test_sparqlwrapper_select_ask_construct(server: str) -> None:
    client = SPARQLWrapper(server + "/sparql")
    client.setQuery(PARIS)
    client.setReturnFormat(JSON)
    result = client.query().convert()
    assert result["results"]["bindings"][0]["label"]["value"] == "Paris v1"  # type: ignore[index,call-overload]

    client.setMethod(POST)
    client.setReturnFormat(XML)
    client.setQuery("ASK { ?s ?p ?o }")
    assert client.query().convert().getElementsByTagName("boolean")[0].firstChild.data == "true"  # type: ignore[union-attr]

    client.setQuery(f"CONSTRUCT WHERE {{ <{CITY}de-berlin> ?p ?o }}")
    client.setReturnFormat(TURTLE)
    graph = rdflib.Graph().parse(data=client.query().convert(), format="turtle")  # type: ignore[arg-type]
    assert len(graph) == 2


def test_rdflib_sparqlstore(server: str) -> None:
    graph = rdflib.Graph(store=SPARQLStore(query_endpoint=server + "/sparql"))
    rows = list(graph.query(PARIS))
    assert [str(row[0]) for row in rows] == ["Paris v1"]  # type: ignore[index]
    assert len(list(graph.triples((rdflib.URIRef(CITY + "de-berlin"), None, None)))) == 2


def test_timeout_and_rebuild_across_workers(server: str, store_dir: Path) -> None:
    # 8^12 solutions: far beyond the 2 s timeout of this server
    heavy = "SELECT (COUNT(*) AS ?n) {" + " ".join(f"?s{i} ?p{i} ?o{i} ." for i in range(12)) + "}"
    started = time.monotonic()
    response = httpx.get(server + "/sparql", params={"query": heavy}, timeout=60)
    assert response.status_code == 503
    assert time.monotonic() - started < 30
    make_build(store_dir, tiny_quads("v2"), "20260102T000000000000Z-bbbbbbbbbb")
    seen: list[str] = []
    with httpx.Client(base_url=server, timeout=30) as http:
        deadline = time.monotonic() + 30
        # both workers (requests spread over them) must switch, and no request may fail
        while time.monotonic() < deadline and seen[-20:] != ["Paris v2"] * 20:
            response = http.get("/sparql", params={"query": PARIS}, headers={"Connection": "close"})
            assert response.status_code == 200, response.text
            seen.append(response.json()["results"]["bindings"][0]["label"]["value"])
    assert seen[-20:] == ["Paris v2"] * 20

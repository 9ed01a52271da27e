"""End to end: `citygraph serve` as a real process, queried by standard SPARQL clients."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
import rdflib
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import (
    CSV,
    GET,
    JSON,
    JSONLD,
    N3,
    POST,
    RDFXML,
    TSV,
    TURTLE,
    XML,
    SPARQLWrapper,
)
from tests.serving import running_server
from tests.web.conftest import CITY, make_build, tiny_quads

from citygraph import store

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


BERLIN = f"CONSTRUCT WHERE {{ <{CITY}de-berlin> ?p ?o }}"


@pytest.mark.parametrize("method", [GET, POST])
def test_sparqlwrapper_every_format(server: str, method: str) -> None:
    """Issue 9 §4: SPARQLWrapper repeats format (``format=tsv&format=text/tab-separated-values``)
    and adds ``output``/``results``; TSV and RDF/XML answered 400 "2 format parameters"."""
    select = [
        (JSON, "application/sparql-results+json", ox.QueryResultsFormat.JSON),
        (XML, "application/sparql-results+xml", ox.QueryResultsFormat.XML),
        (CSV, "text/csv; charset=utf-8", None),  # pyoxigraph does not read CSV back
        (TSV, "text/tab-separated-values; charset=utf-8", ox.QueryResultsFormat.TSV),
    ]
    for return_format, content_type, results_format in select:
        result = _sparqlwrapper(server, method, PARIS, return_format).query()
        assert result.info()["content-type"] == content_type, return_format
        body = result.response.read()
        if results_format is None:
            assert body == b"label\r\nParis v1\r\n"
            continue
        solutions = ox.parse_query_results(body, format=results_format)
        assert isinstance(solutions, ox.QuerySolutions)
        labels = [row["label"].value for row in solutions]  # type: ignore[union-attr]
        assert labels == ["Paris v1"], return_format
    graphs = [
        (TURTLE, "text/turtle; charset=utf-8", ox.RdfFormat.TURTLE),
        (N3, "text/turtle; charset=utf-8", ox.RdfFormat.N3),  # Turtle is N3
        (RDFXML, "application/rdf+xml", ox.RdfFormat.RDF_XML),
        (XML, "application/rdf+xml", ox.RdfFormat.RDF_XML),
        (JSONLD, "application/ld+json", ox.RdfFormat.JSON_LD),
    ]
    for return_format, content_type, rdf_format in graphs:
        result = _sparqlwrapper(server, method, BERLIN, return_format).query()
        assert result.info()["content-type"] == content_type, return_format
        assert len(list(ox.parse(result.response.read(), format=rdf_format))) == 2, return_format
    # N-Triples: SPARQLWrapper has no name for it; a client asks by Accept alone.
    client = _sparqlwrapper(server, method, BERLIN, N3)
    client.setOnlyConneg(True)
    client.addCustomHttpHeader("Accept", "application/n-triples")
    result = client.query()
    assert result.info()["content-type"] == "application/n-triples"
    assert len(list(ox.parse(result.response.read(), format=ox.RdfFormat.N_TRIPLES))) == 2
    # what users call: convert()
    assert _sparqlwrapper(server, method, PARIS, TSV).query().convert().startswith(b"?label")  # type: ignore[union-attr]
    # (its convert() of RDF/XML and JSON-LD builds an rdflib ConjunctiveGraph, deprecated: the
    # answers are read above with pyoxigraph instead)


def _sparqlwrapper(server: str, method: str, query: str, return_format: str) -> SPARQLWrapper:
    client = SPARQLWrapper(server + "/sparql")
    client.setMethod(method)
    client.setQuery(query)
    client.setReturnFormat(return_format)
    return client


def test_format_parameters_that_disagree(server: str) -> None:
    response = httpx.get(
        server + "/sparql", params=[("query", PARIS), ("format", "csv"), ("format", "tsv")]
    )
    assert response.status_code == 400
    assert response.text == (
        "the format parameters name different formats: text/csv, text/tab-separated-values; "
        "send one (or several that name the same format)\n"
    )


def worker_pid(server: str) -> str:
    metrics = httpx.get(server + "/metrics", timeout=30).text
    match = re.search(r'citygraph_worker_info\{pid="(\d+)"', metrics)
    assert match, metrics
    return match.group(1)


def test_an_update_that_crashes_the_engine_spares_the_worker(
    store_dir: Path, tmp_path: Path
) -> None:
    """Issue 9 §3/§4: 20,000 nested groups overflow the engine's stack (a segfault). Sent as an
    update it killed the uvicorn worker; now the write process dies instead (500), or a gate
    refuses the nesting before any engine sees it (400). Either way the worker lives on and
    nothing is published."""
    env = {"CITYGRAPH_UPDATE_TOKEN": "s3cret"}
    with running_server(store_dir, tmp_path / "server.log", env=env) as server:
        pid = worker_pid(server)
        before = store.current_build(store_dir).version
        deep = "INSERT { <a:a> <a:b> <a:c> } WHERE " + "{" * 20_000 + "}" * 20_000
        response = httpx.post(
            server + "/sparql",
            data={"update": deep},
            headers={"Authorization": "Bearer s3cret"},
            timeout=60,
        )
        assert response.status_code in (400, 500), response.text
        assert "Traceback" not in response.text
        assert worker_pid(server) == pid
        assert store.current_build(store_dir).version == before
        insert = f'INSERT DATA {{ GRAPH <{CITY}g> {{ <{CITY}it-rome> <{CITY}p> "Roma" }} }}'
        response = httpx.post(
            server + "/sparql",
            data={"update": insert},
            headers={"Authorization": "Bearer s3cret"},
            timeout=60,
        )
        assert response.status_code == 204, response.text

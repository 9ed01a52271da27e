"""Result formats, negotiation, ETags and CORS over HTTP."""

from __future__ import annotations

import csv
import io
import json

import pyoxigraph as ox
import pytest
import rdflib
from fastapi.testclient import TestClient
from tests.backends import every_backend
from tests.web.conftest import CITY, TINY_TRIPLES

pytestmark = [every_backend, pytest.mark.virtuoso]

SELECT = f"SELECT ?label WHERE {{ <{CITY}de-berlin> ?p ?label }} ORDER BY ?label"
CONSTRUCT = f"CONSTRUCT WHERE {{ <{CITY}de-berlin> ?p ?label }}"


@pytest.mark.parametrize(
    ("accept", "content_type", "results_format"),
    [
        pytest.param(
            "application/sparql-results+json",
            "application/sparql-results+json",
            ox.QueryResultsFormat.JSON,
            id="json",
        ),
        pytest.param(
            "application/sparql-results+xml",
            "application/sparql-results+xml",
            ox.QueryResultsFormat.XML,
            id="xml",
        ),
        pytest.param("text/csv", "text/csv; charset=utf-8", ox.QueryResultsFormat.CSV, id="csv"),
        pytest.param(
            "text/tab-separated-values",
            "text/tab-separated-values; charset=utf-8",
            ox.QueryResultsFormat.TSV,
            id="tsv",
        ),
    ],
)
def test_select_formats(
    client: TestClient, accept: str, content_type: str, results_format: ox.QueryResultsFormat
) -> None:
    response = client.get("/sparql", params={"query": SELECT}, headers={"Accept": accept})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == content_type
    if results_format == ox.QueryResultsFormat.CSV:
        rows = list(csv.reader(io.StringIO(response.text)))
        assert rows == [["label"], ["Berlin"], ["Berlin"]]
        return
    parsed = ox.parse_query_results(response.content, format=results_format)
    assert isinstance(parsed, ox.QuerySolutions)
    assert sorted(str(s["label"]) for s in parsed) == ['"Berlin"@de', '"Berlin"@en']


@pytest.mark.parametrize(
    ("accept", "rdflib_format"),
    [
        pytest.param("text/turtle", "turtle", id="turtle"),
        pytest.param("application/n-triples", "nt", id="ntriples"),
        pytest.param("application/ld+json", "json-ld", id="jsonld"),
        pytest.param("application/rdf+xml", "xml", id="rdfxml"),
        pytest.param("application/trig", "trig", id="trig"),
        pytest.param("application/n-quads", "nquads", id="nquads"),
    ],
)
def test_construct_formats(client: TestClient, accept: str, rdflib_format: str) -> None:
    response = client.get("/sparql", params={"query": CONSTRUCT}, headers={"Accept": accept})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].split(";")[0] == accept
    if rdflib_format in ("trig", "nquads", "json-ld"):  # rdflib 7.6 warns on these
        fmt = ox.RdfFormat.from_media_type(accept)
        assert fmt is not None
        assert len(list(ox.parse(response.content, format=fmt))) == 2
        return
    graph = rdflib.Graph()
    graph.parse(data=response.text, format=rdflib_format)
    assert len(graph) == 2


def test_ask_in_xml(client: TestClient) -> None:
    response = client.get("/sparql", params={"query": "ASK {}", "format": "xml"})
    assert response.status_code == 200
    assert "<boolean>true</boolean>" in response.text


def test_turtle_uses_the_prefixes(client: TestClient) -> None:
    response = client.get("/sparql", params={"query": CONSTRUCT})
    assert "city:de-berlin" in response.text


def test_format_parameter_wins(client: TestClient) -> None:
    response = client.get(
        "/sparql", params={"query": SELECT, "format": "csv"}, headers={"Accept": "application/json"}
    )
    assert response.headers["content-type"] == "text/csv; charset=utf-8"


def test_406_lists_the_offered_types(client: TestClient) -> None:
    response = client.get("/sparql", params={"query": SELECT}, headers={"Accept": "image/png"})
    assert response.status_code == 406
    assert "application/sparql-results+json" in response.text
    assert "Accept" in response.headers["vary"]
    response = client.get("/sparql", params={"query": CONSTRUCT, "format": "csv"})
    assert response.status_code == 406
    assert "text/turtle" in response.text


def test_q_zero_excludes(client: TestClient) -> None:
    response = client.get(
        "/sparql",
        params={"query": SELECT},
        headers={"Accept": "application/sparql-results+json;q=0, */*;q=0.1"},
    )
    assert response.headers["content-type"] == "application/sparql-results+xml"


def test_etag_and_conditional_get(client: TestClient) -> None:
    first = client.get("/sparql", params={"query": SELECT})
    etag = first.headers["etag"]
    assert etag.startswith('W/"')
    assert first.headers["cache-control"] == "public, max-age=60"
    again = client.get("/sparql", params={"query": SELECT}, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    other_format = client.get("/sparql", params={"query": SELECT, "format": "csv"})
    assert other_format.headers["etag"] != etag
    other_query = client.get("/sparql", params={"query": SELECT + " LIMIT 1"})
    assert other_query.headers["etag"] != etag


def test_repeated_query_is_served_from_the_cache(client: TestClient) -> None:
    first = client.get("/sparql", params={"query": SELECT})
    second = client.get("/sparql", params={"query": SELECT})
    assert first.content == second.content
    metrics = client.get("/metrics").text
    assert "citygraph_get_cache_hits_total 1.0" in metrics
    assert 'citygraph_queries_total{outcome="cached"} 1' in metrics


def test_fast_path_keeps_headers_and_validators(client: TestClient) -> None:
    params = {"query": SELECT}
    headers = {"Origin": "https://example.org", "Accept": "text/csv"}
    first = client.get("/sparql", params=params, headers=headers)
    second = client.get("/sparql", params=params, headers=headers)
    assert second.content == first.content
    for name in ("content-type", "etag", "cache-control", "access-control-allow-origin"):
        assert second.headers[name] == first.headers[name], name
    assert "Accept" in second.headers["vary"]
    other = client.get("/sparql", params=params, headers={"Accept": "text/tab-separated-values"})
    assert other.headers["content-type"].startswith("text/tab-separated-values")
    not_modified = client.get(
        "/sparql", params=params, headers={**headers, "If-None-Match": first.headers["etag"]}
    )
    assert not_modified.status_code == 304


def test_post_is_served_from_the_result_cache(client: TestClient) -> None:
    client.post("/sparql", data={"query": SELECT})
    client.post("/sparql", data={"query": SELECT})
    assert "citygraph_cache_hits_total 1.0" in client.get("/metrics").text


def test_cors_is_open_for_reads(client: TestClient) -> None:
    response = client.get(
        "/sparql", params={"query": SELECT}, headers={"Origin": "https://example.org"}
    )
    assert response.headers["access-control-allow-origin"] == "*"
    preflight = client.options(
        "/sparql",
        headers={
            "Origin": "https://example.org",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert preflight.status_code == 200
    # Writes need Authorization, which other sites' pages may not send.
    preflight = client.options(
        "/sparql",
        headers={
            "Origin": "https://example.org",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert preflight.status_code == 400


def test_json_results_have_every_row(client: TestClient) -> None:
    response = client.get("/sparql", params={"query": "SELECT * { ?s ?p ?o }"})
    assert len(json.loads(response.content)["results"]["bindings"]) == TINY_TRIPLES


def test_turtle_declares_only_the_prefixes_it_uses(client: TestClient) -> None:
    response = client.get("/sparql", params={"query": CONSTRUCT})
    declared = {
        line.split()[1] for line in response.text.splitlines() if line.startswith("@prefix")
    }
    assert declared == {"city:", "rdfs:"}

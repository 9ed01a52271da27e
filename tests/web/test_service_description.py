"""SPARQL 1.1 Service Description (https://www.w3.org/TR/sparql11-service-description/)."""

from __future__ import annotations

import pytest
import rdflib
from fastapi.testclient import TestClient
from rdflib.namespace import RDF, RDFS
from tests.backends import every_backend
from tests.web.conftest import CURATED, META, VOCAB

from citygraph.config import Settings
from citygraph.web.app import create_app

pytestmark = [every_backend, pytest.mark.virtuoso]

SD = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
FORMATS = rdflib.Namespace("http://www.w3.org/ns/formats/")


def description(client: TestClient, **headers: str) -> rdflib.Graph:
    response = client.get("/sparql", headers={"Accept": "text/turtle", **headers})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/turtle; charset=utf-8"
    return rdflib.Graph().parse(data=response.text, format="turtle")


# §3: the service description is returned for a GET on the endpoint without a query
def test_describes_the_service(client: TestClient) -> None:
    graph = description(client)
    service = rdflib.URIRef("http://testserver/sparql")
    assert (service, RDF.type, SD.Service) in graph
    assert (service, SD.endpoint, service) in graph
    assert (service, SD.supportedLanguage, SD.SPARQL11Query) in graph
    assert (service, SD.supportedLanguage, SD.SPARQL11Update) not in graph
    assert (service, SD.feature, SD.UnionDefaultGraph) in graph
    for fmt in (
        "SPARQL_Results_JSON",
        "SPARQL_Results_XML",
        "SPARQL_Results_CSV",
        "Turtle",
        "JSON-LD",
    ):
        assert (service, SD.resultFormat, FORMATS[fmt]) in graph


def test_lists_the_named_graphs_and_links_void(client: TestClient) -> None:
    graph = description(client)
    names = {str(o) for o in graph.objects(None, SD.name)}
    assert names == {CURATED, VOCAB, META}
    dataset = next(graph.objects(None, SD.defaultDataset))
    assert (dataset, RDFS.seeAlso, rdflib.URIRef("http://testserver/.well-known/void")) in graph


def test_update_is_announced_when_enabled(writer: TestClient) -> None:
    graph = description(writer)
    assert (None, SD.supportedLanguage, SD.SPARQL11Update) in graph


def test_public_url_setting(settings: Settings) -> None:
    public = Settings(**{**settings.__dict__, "public_url": "https://example.org/citygraph"})
    with TestClient(create_app(public)) as client:
        graph = description(client)
    assert (rdflib.URIRef("https://example.org/citygraph/sparql"), RDF.type, SD.Service) in graph


@pytest.mark.parametrize(
    ("accept", "content_type"),
    [
        pytest.param("application/ld+json", "application/ld+json", id="jsonld"),
        pytest.param("application/rdf+xml", "application/rdf+xml", id="rdfxml"),
        pytest.param("*/*", "text/turtle; charset=utf-8", id="default"),
        pytest.param(
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            "text/html; charset=utf-8",
            id="browser",
        ),
    ],
)
def test_negotiated(client: TestClient, accept: str, content_type: str) -> None:
    response = client.get("/sparql", headers={"Accept": accept})
    assert response.headers["content-type"] == content_type
    assert "Accept" in response.headers["vary"]


def test_browser_page_has_a_query_form(client: TestClient) -> None:
    response = client.get("/sparql", headers={"Accept": "text/html"})
    assert '<form method="get" action="http://testserver/sparql">' in response.text

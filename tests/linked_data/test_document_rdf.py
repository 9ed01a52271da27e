"""Linked-data documents that say what they are and carry only what they need (issue 13 §6)."""

from __future__ import annotations

import json
import re
from datetime import datetime

import pytest
import rdflib
from rdflib.compare import isomorphic
from rdflib.namespace import DCTERMS, FOAF, VOID
from tests.backends import every_backend

from .support import BASE, TestClient

pytestmark = [every_backend, pytest.mark.virtuoso]

BERLIN = BASE + "id/city/de-berlin"
#: one document of every kind of thing
DOCS = [
    "/doc/city/de-berlin",
    "/doc/region/be-brussels-capital",
    "/doc/country/cn",
    "/doc/partnership/cn-beijing--de-berlin",
    "/doc/agreement/cn-beijing--de-east-berlin-1988-05-05-agreement",
    "/doc/event/berlin-business-desk-china-opening",
    "/doc/org/cn-beijing-city-government",
    "/doc/source/berlin-de-beijing-de",
    "/vocab/theme/sport",
]
#: the documents the site describes itself, whose axioms are their content
SITE_DOCS = ["/ontology", "/shapes", "/dataset"]


def turtle(client: TestClient, path: str) -> str:
    response = client.get(path + ".ttl")
    assert response.status_code == 200
    return response.text


@pytest.mark.parametrize("path", DOCS + SITE_DOCS)
def test_a_document_declares_only_the_prefixes_it_uses(client: TestClient, path: str) -> None:
    text = turtle(client, path)
    declared = re.findall(r"^@prefix ([a-z]+):", text, flags=re.M)
    body = "\n".join(line for line in text.splitlines() if not line.startswith("@prefix"))
    assert declared
    for prefix in declared:
        assert re.search(rf"(?<![\w-]){prefix}:", body), f"{prefix}: declared but unused"


@pytest.mark.parametrize("path", DOCS)
def test_a_document_carries_no_axioms_about_other_vocabularies(
    client: TestClient, path: str
) -> None:
    graph = rdflib.Graph().parse(data=turtle(client, path), format="turtle")
    ours_or_data = (BASE, "http://www.wikidata.org/", "https://sws.geonames.org/")
    foreign = {
        s
        for s in graph.subjects()
        if isinstance(s, rdflib.URIRef) and not str(s).startswith(ours_or_data)
    }
    assert foreign == set(), foreign  # e.g. schema:City a owl:Class


@pytest.mark.parametrize("path", DOCS)
def test_the_turtle_document_says_what_it_is(client: TestClient, path: str) -> None:
    graph = rdflib.Graph().parse(data=turtle(client, path), format="turtle")
    document = rdflib.URIRef(BASE + path.lstrip("/"))
    topic = BASE + path.lstrip("/")  # a concept is its own topic (/vocab/…)
    if path.startswith("/doc/"):
        topic = BASE + "id/" + path.removeprefix("/doc/")
    assert graph.value(document, FOAF.primaryTopic) == rdflib.URIRef(topic)
    assert graph.value(document, VOID.inDataset) == rdflib.URIRef(BASE + "dataset")
    assert graph.value(document, DCTERMS.license) == rdflib.URIRef(
        "https://creativecommons.org/licenses/by/4.0/"
    )
    modified = graph.value(document, DCTERMS.modified)
    assert modified is not None
    assert isinstance(modified.toPython(), datetime)


# rdflib's JSON-LD parser builds a ConjunctiveGraph, which rdflib itself deprecates
@pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")
def test_json_ld_is_compacted_with_the_published_context(client: TestClient) -> None:
    document = client.get("/doc/city/de-berlin.jsonld").json()
    assert document["@context"] == BASE + "context.jsonld"
    berlin = next(node for node in document["@graph"] if node["@id"] == "city:de-berlin")
    assert "cg:City" in berlin["@type"]
    context = client.get("/context.jsonld")
    assert context.status_code == 200
    assert context.headers["content-type"].startswith("application/ld+json")
    # read back with the published context: the same graph as the Turtle document
    inlined = dict(document, **{"@context": context.json()["@context"]})
    from_json = rdflib.Graph().parse(data=json.dumps(inlined), format="json-ld")
    from_turtle = rdflib.Graph().parse(data=turtle(client, "/doc/city/de-berlin"), format="turtle")
    assert len(from_json) == len(from_turtle)
    assert isomorphic(from_json, from_turtle)


# rdflib's JSON-LD parser builds a ConjunctiveGraph, which rdflib itself deprecates
@pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")
@pytest.mark.parametrize("path", DOCS + SITE_DOCS)
def test_every_json_ld_document_is_compacted_and_says_what_turtle_says(
    client: TestClient, path: str
) -> None:
    response = client.get(path + ".jsonld")
    assert response.status_code == 200
    document = response.json()
    assert isinstance(document, dict), "expanded JSON-LD (a list), not compacted"
    assert document["@context"] == BASE + "context.jsonld"
    context = client.get("/context.jsonld").json()["@context"]
    from_json = rdflib.Graph().parse(
        data=json.dumps(dict(document, **{"@context": context})), format="json-ld"
    )
    from_turtle = rdflib.Graph().parse(data=turtle(client, path), format="turtle")
    assert isomorphic(from_json, from_turtle)

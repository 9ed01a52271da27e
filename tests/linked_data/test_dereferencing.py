"""Every URI works: 303 from /id/ to /doc/, negotiation, 404s, HEAD, headers, ETags, base IRI."""

from __future__ import annotations

import json

import pyoxigraph as ox
import pytest
from fastapi import FastAPI
from tests.backends import every_backend

from citygraph.config import Settings
from citygraph.web.linked_data import document_rdf

from .support import BASE, TestClient

pytestmark = [every_backend, pytest.mark.virtuoso]

BERLIN = "city/de-berlin"

RDF_TYPES = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
}
EXTENSIONS = {
    "ttl": "text/turtle",
    "jsonld": "application/ld+json",
    "nt": "application/n-triples",
    "rdf": "application/rdf+xml",
    "html": "text/html",
}


def _parse(body: bytes, media_type: str) -> list[ox.Triple]:
    if media_type == "application/ld+json":
        # pyoxigraph loads no remote @context: give it the published one, as a JSON-LD
        # processor with a document loader would (citygraph serves it at /context.jsonld)
        document = json.loads(body)
        if document.get("@context") == BASE + "context.jsonld":
            document["@context"] = document_rdf.context()["@context"]
            body = json.dumps(document).encode()
    return [
        ox.Triple(q.subject, q.predicate, q.object)
        for q in ox.parse(body, format=RDF_TYPES[media_type])
    ]


@pytest.mark.parametrize(
    "path",
    [
        BERLIN,
        "partnership/cn-beijing--de-berlin",
        "org/de-alba-berlin",
        "source/berlin-de-beijing-de",
        "country/de",
        "event/berlin-zoo-pandas",
    ],
)
def test_an_identifier_answers_303_to_its_document(client: TestClient, path: str) -> None:
    response = client.get("/id/" + path)
    assert response.status_code == 303
    assert response.headers["location"] == "http://testserver/doc/" + path


def test_the_303_keeps_the_language_parameter(client: TestClient) -> None:
    response = client.get("/id/" + BERLIN + "?lang=de")
    assert response.headers["location"] == "http://testserver/doc/" + BERLIN + "?lang=de"


@pytest.mark.parametrize(
    "query",
    ["?lang=xx", "?page=2", "?lang=de&x=" + "y" * 60_000],
    ids=["unknown-language", "other-parameter", "huge-parameter"],
)
def test_the_303_carries_only_a_known_language(client: TestClient, query: str) -> None:
    response = client.get("/id/" + BERLIN + query, follow_redirects=False)
    expected = "http://testserver/doc/" + BERLIN + ("?lang=de" if "lang=de" in query else "")
    assert response.status_code == 303
    assert response.headers["location"] == expected


@pytest.mark.parametrize("media_type", list(RDF_TYPES))
def test_documents_negotiate_rdf_by_accept(client: TestClient, media_type: str) -> None:
    response = client.get("/doc/" + BERLIN, headers={"Accept": media_type})
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == media_type
    triples = _parse(response.content, media_type)
    berlin = ox.NamedNode(BASE + "id/" + BERLIN)
    assert any(t.subject == berlin for t in triples)
    # the data keeps its canonical IRIs, whatever address served it
    assert not any("testserver" in str(t) for t in triples)
    ext = next(e for e, m in EXTENSIONS.items() if m == media_type)
    assert response.headers["content-location"] == f"http://testserver/doc/{BERLIN}.{ext}"


@pytest.mark.parametrize("ext", list(EXTENSIONS))
def test_documents_negotiate_by_extension(client: TestClient, ext: str) -> None:
    response = client.get(f"/doc/{BERLIN}.{ext}", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == EXTENSIONS[ext]


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "text/html"),
        ("*/*", "text/html"),
        ("text/turtle;q=0.5, application/ld+json", "application/ld+json"),
        ("application/json", "application/ld+json"),
        ("text/*", "text/html"),
        ("text/*, text/html;q=0", "text/turtle"),
    ],
    ids=["browser", "anything", "q-values", "json-alias", "text-range", "html-excluded"],
)
def test_accept_is_honoured_by_the_book(client: TestClient, accept: str, expected: str) -> None:
    response = client.get("/doc/" + BERLIN, headers={"Accept": accept})
    assert response.headers["content-type"].split(";")[0] == expected


def test_nothing_acceptable_is_406(client: TestClient) -> None:
    response = client.get("/doc/" + BERLIN, headers={"Accept": "image/png"})
    assert response.status_code == 406
    assert "text/turtle" in response.text


@pytest.mark.parametrize("prefix", ["/id/", "/doc/"])
def test_unknown_things_are_404_html_for_browsers(client: TestClient, prefix: str) -> None:
    response = client.get(prefix + "city/xx-nowhere", headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "<main" in response.text


@pytest.mark.parametrize("prefix", ["/id/", "/doc/"])
def test_unknown_things_are_404_plain_for_machines(client: TestClient, prefix: str) -> None:
    response = client.get(prefix + "city/xx-nowhere", headers={"Accept": "text/turtle"})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/plain")


@pytest.mark.parametrize(
    "path",
    ["/doc/city/xx%20no", "/doc/", "/id/", "/doc/city/de-berlin.exe", "/vocab/theme/nothing"],
)
def test_odd_paths_are_404_not_500(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/doc/" + BERLIN,
        "/doc/" + BERLIN + ".ttl",
        "/id/" + BERLIN,
        "/",
        "/partnerships",
        "/dataset",
        "/.well-known/void",
        "/dumps/citygraph.ttl.gz",
        "/ontology",
        "/sitemap.xml",
        "/doc/city/xx-nowhere",
    ],
)
def test_head_is_get_without_a_body(client: TestClient, path: str) -> None:
    got = client.get(path)
    head = client.head(path)
    assert head.status_code == got.status_code
    assert head.content == b""
    for name in ("content-type", "etag", "vary", "location", "content-location"):
        assert head.headers.get(name) == got.headers.get(name), name
    if got.status_code == 200:
        assert head.headers["content-length"] == str(len(got.content))


def test_document_headers(client: TestClient) -> None:
    response = client.get("/doc/" + BERLIN, headers={"Accept": "text/turtle"})
    assert "Accept" in response.headers["vary"]
    assert "Accept-Language" in response.headers["vary"]
    link = response.headers["link"]
    for ext, media_type in EXTENSIONS.items():
        if media_type != "text/turtle":
            assert (
                f'<http://testserver/doc/{BERLIN}.{ext}>; rel="alternate"; type="{media_type}"'
                in link
            )
    assert "max-age" in response.headers["cache-control"]


@pytest.mark.parametrize(
    "path",
    [
        "/doc/" + BERLIN,
        "/doc/" + BERLIN + ".ttl",
        "/dataset.ttl",
        "/dumps/citygraph.nq.gz",
        "/partnerships?status=active",
    ],
)
def test_etag_and_304(client: TestClient, path: str) -> None:
    first = client.get(path)
    tag = first.headers["etag"]
    again = client.get(path, headers={"If-None-Match": tag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == tag
    assert client.get(path, headers={"If-None-Match": 'W/"other"'}).status_code == 200


def test_etags_differ_by_representation_and_language(client: TestClient) -> None:
    tags = {
        client.get("/doc/" + BERLIN, headers={"Accept": a, "Accept-Language": lang}).headers["etag"]
        for a in ("text/html", "text/turtle")
        for lang in ("en", "de")
    }
    assert len(tags) == 3  # Turtle does not depend on the language; HTML does


def test_links_point_to_the_server_that_answers(settings: Settings) -> None:
    from fastapi import FastAPI as App

    from citygraph.web import linked_data

    app = App()
    linked_data.install(app, settings)
    with TestClient(app, base_url="http://127.0.0.1:8000", follow_redirects=False) as local:
        redirect = local.get("/id/" + BERLIN)
        assert redirect.headers["location"] == "http://127.0.0.1:8000/doc/" + BERLIN
        page = local.get(redirect.headers["location"]).text
        assert 'href="http://127.0.0.1:8000/doc/city/cn-beijing"' in page
        assert "https://w3id.org/citygraph/id/city/de-berlin" in page  # shown, not linked
        assert 'href="https://w3id.org/citygraph/' not in page


def test_public_url_setting_wins_over_the_request(settings: Settings, app: FastAPI) -> None:
    from dataclasses import replace

    app.state.linked_data.settings = replace(settings, public_url="https://cg.example.org/base/")
    with TestClient(app, follow_redirects=False) as client:
        response = client.get("/id/" + BERLIN)
        assert response.headers["location"] == "https://cg.example.org/base/doc/" + BERLIN


def test_vocabulary_and_ontology_iris_dereference(client: TestClient) -> None:
    concept = client.get("/vocab/theme/sport", headers={"Accept": "text/turtle"})
    assert concept.status_code == 200
    assert concept.headers["content-location"] == "http://testserver/vocab/theme/sport.ttl"
    scheme = client.get("/vocab/theme.jsonld")
    assert scheme.status_code == 200
    ontology = client.get("/ontology", headers={"Accept": "text/turtle"})
    triples = _parse(ontology.content, "text/turtle")
    assert ox.NamedNode(BASE + "ontology#Partnership") in {t.subject for t in triples}
    page = client.get("/ontology", headers={"Accept": "text/html"}).text
    assert 'id="Partnership"' in page
    assert 'id="partner"' in page
    version = client.get("/ontology/0.1.0")
    assert version.status_code == 303


def test_shapes_are_browsable(client: TestClient) -> None:
    page = client.get("/shapes").text
    assert 'id="PartnershipShape"' in page
    assert 'id="Partnership-partner"' in page
    turtle = client.get("/shapes.ttl")
    assert any(
        t.subject == ox.NamedNode(BASE + "shapes#PartnershipShape")
        for t in _parse(turtle.content, "text/turtle")
    )


def test_an_identifier_with_a_pasted_extension_goes_to_that_format(client: TestClient) -> None:
    response = client.get("/id/" + BERLIN + ".ttl")
    assert response.status_code == 303
    assert response.headers["location"] == "http://testserver/doc/" + BERLIN + ".ttl"

"""SPARQL 1.1 Graph Store HTTP Protocol (https://www.w3.org/TR/sparql11-http-rdf-update/)."""

from __future__ import annotations

import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient
from tests.backends import every_backend
from tests.web.conftest import CURATED, META, VOCAB, auth

pytestmark = [every_backend, pytest.mark.virtuoso]

NEW = "http://example.org/graph/new"
TURTLE = {"Content-Type": "text/turtle"}


def triples(response_content: bytes, fmt: ox.RdfFormat = ox.RdfFormat.TURTLE) -> list[ox.Quad]:
    return list(ox.parse(response_content, format=fmt))


# §5.2 GET
def test_get_a_named_graph(client: TestClient) -> None:
    response = client.get("/store", params={"graph": VOCAB})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/turtle; charset=utf-8"
    assert len(triples(response.content)) == 1
    assert response.headers["etag"]


def test_get_in_another_format(client: TestClient) -> None:
    response = client.get(
        "/store", params={"graph": CURATED}, headers={"Accept": "application/n-triples"}
    )
    assert len(triples(response.content, ox.RdfFormat.N_TRIPLES)) == 6


def test_get_the_default_graph(client: TestClient) -> None:
    response = client.get("/store?default")
    assert response.status_code == 200
    assert triples(response.content) == []


def test_get_the_whole_dataset(client: TestClient) -> None:
    response = client.get("/store")
    assert response.headers["content-type"] == "application/trig"
    quads = triples(response.content, ox.RdfFormat.TRIG)
    assert {q.graph_name.value for q in quads} == {CURATED, VOCAB, META}  # type: ignore[union-attr]


def test_head(client: TestClient) -> None:
    response = client.head("/store", params={"graph": VOCAB})
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("query", "status"),
    [
        pytest.param({"graph": "http://example.org/nothing"}, 404, id="unknown-graph"),
        pytest.param({"graph": "relative"}, 400, id="not-an-iri"),
        pytest.param([("graph", VOCAB), ("default", "")], 400, id="graph-and-default"),
        pytest.param([("graph", VOCAB), ("graph", META)], 400, id="two-graphs"),
    ],
)
def test_bad_reads(client: TestClient, query: object, status: int) -> None:
    response = client.get("/store", params=query)  # type: ignore[arg-type]
    assert response.status_code == status, response.text


def test_writes_are_off_without_a_token(client: TestClient) -> None:
    response = client.put(
        "/store", params={"graph": NEW}, content="<a:b> <a:c> <a:d> .", headers={**TURTLE, **auth()}
    )
    assert response.status_code == 403


def test_write_needs_the_token(writer: TestClient) -> None:
    response = writer.put(
        "/store", params={"graph": NEW}, content="<a:b> <a:c> <a:d> .", headers=TURTLE
    )
    assert response.status_code == 401


# §5.3 PUT, §5.5 POST, §5.4 DELETE
def test_put_post_delete_cycle(writer: TestClient) -> None:
    body = '@prefix ex: <http://example.org/> . ex:a ex:p "1" .'
    created = writer.put(
        "/store", params={"graph": NEW}, content=body, headers={**TURTLE, **auth()}
    )
    assert created.status_code == 201, created.text
    replaced = writer.put(
        "/store",
        params={"graph": NEW},
        content=body.replace('"1"', '"2"'),
        headers={**TURTLE, **auth()},
    )
    assert replaced.status_code == 204
    merged = writer.post(
        "/store",
        params={"graph": NEW},
        content='<http://example.org/b> <http://example.org/p> "3" .',
        headers={"Content-Type": "application/n-triples", **auth()},
    )
    assert merged.status_code == 204
    graph = writer.get("/store", params={"graph": NEW}, headers={"Accept": "application/n-triples"})
    objects = sorted(q.object.value for q in triples(graph.content, ox.RdfFormat.N_TRIPLES))
    assert objects == ["2", "3"]
    deleted = writer.delete("/store", params={"graph": NEW}, headers=auth())
    assert deleted.status_code == 204
    assert writer.get("/store", params={"graph": NEW}).status_code == 404
    assert writer.delete("/store", params={"graph": NEW}, headers=auth()).status_code == 404


def test_relative_iris_in_a_put_resolve_against_the_graph(writer: TestClient) -> None:
    response = writer.put(
        "/store", params={"graph": NEW}, content="<#a> <#p> <#o> .", headers={**TURTLE, **auth()}
    )
    assert response.status_code == 201
    graph = writer.get("/store", params={"graph": NEW}, headers={"Accept": "application/n-triples"})
    assert f"<{NEW}#a>" in graph.text


@pytest.mark.parametrize(
    ("headers", "body", "status", "says"),
    [
        pytest.param(
            {"Content-Type": "application/json"}, b"{}", 415, "cannot read a graph", id="not-rdf"
        ),
        pytest.param(
            {"Content-Type": "application/trig"}, b"", 415, "cannot read a graph", id="quads"
        ),
        pytest.param({}, b"", 415, "(none)", id="no-content-type"),
        pytest.param(TURTLE, b"<a:b> <a:c>\n  .", 400, "syntax error at line 2", id="syntax-error"),
    ],
)
def test_bad_uploads(
    writer: TestClient, headers: dict[str, str], body: bytes, status: int, says: str
) -> None:
    response = writer.put(
        "/store", params={"graph": NEW}, content=body, headers={**headers, **auth()}
    )
    assert response.status_code == status, response.text
    assert says in response.text


def test_upload_size_limit(writer: TestClient) -> None:
    body = b"#" * 50_000_001
    response = writer.put(
        "/store", params={"graph": NEW}, content=body, headers={**TURTLE, **auth()}
    )
    assert response.status_code == 413


def test_write_with_a_wrong_token(writer: TestClient) -> None:
    response = writer.put(
        "/store",
        params={"graph": NEW},
        content="<a:b> <a:c> <a:d> .",
        headers={**TURTLE, **auth("not-the-token")},
    )
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
    assert writer.get("/store", params={"graph": NEW}).status_code == 404


@pytest.mark.parametrize("scheme", ["Basic", "Bearer"])
def test_write_with_an_empty_or_other_credential(writer: TestClient, scheme: str) -> None:
    response = writer.delete(
        "/store", params={"graph": VOCAB}, headers={"Authorization": f"{scheme} "}
    )
    assert response.status_code == 401
    assert writer.get("/store", params={"graph": VOCAB}).status_code == 200


JSONLD = {"Content-Type": "application/ld+json"}


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(
            b'[{"@id": "http://example.org/a", "http://example.org/p": [{"@value": "1"}]}]',
            id="expanded",
        ),
        pytest.param(
            b'{"@context": {"ex": "http://example.org/", "p": {"@id": "ex:p"}},'
            b' "@id": "ex:a", "p": "1"}',
            id="compacted",
        ),
        pytest.param(
            b'{"@context": {"@vocab": "http://example.org/"},'
            b' "@graph": [{"@id": "http://example.org/a", "p": "1"}]}',
            id="default-graph",
        ),
    ],
)
@pytest.mark.parametrize("method", ["PUT", "POST"])
def test_json_ld_upload(writer: TestClient, method: str, body: bytes) -> None:
    """Issue 9 §4: JSON-LD was refused with 415 though the docs and the 415 itself offered it."""
    response = writer.request(
        method, "/store", params={"graph": NEW}, content=body, headers={**JSONLD, **auth()}
    )
    assert response.status_code == 201, response.text
    graph = writer.get("/store", params={"graph": NEW}, headers={"Accept": "application/n-triples"})
    assert graph.text == '<http://example.org/a> <http://example.org/p> "1" .\n'


@pytest.mark.parametrize(
    ("body", "says"),
    [
        pytest.param(
            b'{"@id": "http://example.org/g", "@graph": [{"@id": "http://example.org/a",'
            b' "http://example.org/p": "1"}]}',
            "names the graph <http://example.org/g>",
            id="named-graph",
        ),
        pytest.param(
            b'{"@context": "http://schema.org/", "@id": "http://example.org/a", "name": "A"}',
            "remote contexts",
            id="remote-context",
        ),
        pytest.param(b'{"@id": ', "syntax error", id="truncated"),
    ],
)
def test_bad_json_ld_uploads(writer: TestClient, body: bytes, says: str) -> None:
    response = writer.put(
        "/store", params={"graph": NEW}, content=body, headers={**JSONLD, **auth()}
    )
    assert response.status_code == 400, response.text
    assert says in response.text
    assert writer.get("/store", params={"graph": NEW}).status_code == 404

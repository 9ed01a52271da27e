"""SPARQL 1.1 Protocol, query operation (https://www.w3.org/TR/sparql11-protocol/#query-operation).

Each test names the section of the Recommendation it checks.
"""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from tests.backends import VIRTUOSO_FROM, every_backend, fails_on
from tests.web.conftest import CITY, CURATED, META, TINY_TRIPLES, VOCAB

pytestmark = [every_backend, pytest.mark.virtuoso]

FORM = "application/x-www-form-urlencoded"
LABELS = "SELECT ?label WHERE { <https://w3id.org/citygraph/id/city/de-berlin> ?p ?label }"
ALL = "SELECT ?s ?o WHERE { ?s ?p ?o }"


def values(response_json: dict[str, object], var: str) -> set[str]:
    bindings = response_json["results"]["bindings"]  # type: ignore[index]
    return {b[var]["value"] for b in bindings if var in b}  # type: ignore[index,union-attr]


# §2.1.1 query via GET
def test_query_via_get(client: TestClient) -> None:
    response = client.get("/sparql", params={"query": LABELS})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/sparql-results+json"
    assert values(response.json(), "label") == {"Berlin"}


# §2.1.2 query via URL-encoded POST; URL and body parameters are merged
def test_query_via_urlencoded_post(client: TestClient) -> None:
    response = client.post("/sparql", content=f"query={LABELS}", headers={"Content-Type": FORM})
    assert response.status_code == 200, response.text
    assert values(response.json(), "label") == {"Berlin"}


def test_urlencoded_post_merges_url_parameters(client: TestClient) -> None:
    response = client.post(
        "/sparql",
        params={"default-graph-uri": VOCAB},
        data={"query": ALL},
    )
    assert response.status_code == 200, response.text
    assert values(response.json(), "s") == {"https://w3id.org/citygraph/vocab/theme/economy"}


# §2.1.3 query via POST directly
def test_query_via_post_directly(client: TestClient) -> None:
    response = client.post(
        "/sparql",
        content=LABELS.encode(),
        headers={"Content-Type": "application/sparql-query; charset=UTF-8"},
    )
    assert response.status_code == 200, response.text
    assert values(response.json(), "label") == {"Berlin"}


# §2.1.4 the protocol dataset wins over FROM / FROM NAMED
def test_default_graph_uri_overrides_from(
    client: TestClient, backend: str, request: pytest.FixtureRequest
) -> None:
    fails_on(request, backend, "virtuoso", VIRTUOSO_FROM)
    query = f"SELECT ?s FROM <{CURATED}> WHERE {{ ?s ?p ?o }}"
    response = client.get("/sparql", params={"query": query, "default-graph-uri": META})
    assert values(response.json(), "s") == {"https://w3id.org/citygraph/dataset"}


def test_from_is_honoured_without_protocol_dataset(client: TestClient) -> None:
    query = f"SELECT ?s FROM <{VOCAB}> WHERE {{ ?s ?p ?o }}"
    response = client.get("/sparql", params={"query": query})
    assert values(response.json(), "s") == {"https://w3id.org/citygraph/vocab/theme/economy"}


def test_named_graph_uri_limits_graph_patterns(client: TestClient) -> None:
    query = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
    response = client.get("/sparql", params={"query": query, "named-graph-uri": [VOCAB, META]})
    assert values(response.json(), "g") == {VOCAB, META}
    # only named graphs given: the default graph is empty
    response = client.get("/sparql", params={"query": ALL, "named-graph-uri": VOCAB})
    assert values(response.json(), "s") == set()


def test_default_dataset_is_the_union_with_named_graphs(client: TestClient) -> None:
    response = client.get("/sparql", params={"query": "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"})
    assert values(response.json(), "n") == {str(TINY_TRIPLES)}
    query = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
    response = client.get("/sparql", params={"query": query})
    assert values(response.json(), "g") == {CURATED, VOCAB, META}


def test_relative_iris_resolve_against_the_data_base(client: TestClient) -> None:
    query = "SELECT ?label WHERE { <id/city/de-berlin> ?p ?label }"
    response = client.get("/sparql", params={"query": query})
    assert values(response.json(), "label") == {"Berlin"}


def test_describe_and_ask(client: TestClient) -> None:
    response = client.get("/sparql", params={"query": f"DESCRIBE <{CITY}fr-paris>"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/turtle; charset=utf-8"
    assert "Paris v1" in response.text
    response = client.get("/sparql", params={"query": "ASK { ?s ?p ?o }"})
    assert response.json() == {"head": {}, "boolean": True}


# §2.1.5 and §2.2: requests that break the protocol, with a message that says what is wrong
@pytest.mark.parametrize(
    ("method", "kwargs", "status", "says"),
    [
        pytest.param(
            "GET",
            {"params": [("query", ALL), ("query", ALL)]},
            400,
            "2 query parameters",
            id="two-query-parameters",
        ),
        pytest.param(
            "POST",
            {"data": {"query": ALL, "update": "CLEAR ALL"}},
            400,
            "both a query and an update",
            id="query-and-update",
        ),
        pytest.param(
            "GET",
            {"params": {"update": "CLEAR ALL"}},
            400,
            "must be sent with POST",
            id="update-via-get",
        ),
        pytest.param(
            "GET",
            {"params": {"query": "CLEAR ALL"}},
            400,
            "send it by POST",
            id="update-in-query-parameter",
        ),
        pytest.param("POST", {"content": ALL}, 415, "needs a Content-Type", id="no-content-type"),
        pytest.param(
            "POST",
            {"content": ALL, "headers": {"Content-Type": "text/plain"}},
            415,
            "text/plain is not",
            id="wrong-content-type",
        ),
        pytest.param(
            "POST",
            {
                "content": ALL.encode("utf-16"),
                "headers": {"Content-Type": "application/sparql-query; charset=UTF-16"},
            },
            415,
            "UTF-8 only",
            id="utf-16-charset",
        ),
        pytest.param(
            "POST",
            {
                "content": b"SELECT * { ?s ?p '\xe9' }",
                "headers": {"Content-Type": "application/sparql-query"},
            },
            400,
            "not valid UTF-8",
            id="latin-1-body",
        ),
        pytest.param(
            "POST",
            {"content": "query=%FF", "headers": {"Content-Type": FORM}},
            400,
            "not valid UTF-8",
            id="bad-percent-escape",
        ),
        pytest.param(
            "POST",
            {"data": {"format": "json"}},
            400,
            "neither a query nor an update",
            id="post-without-query",
        ),
        pytest.param(
            "GET",
            {"params": {"query": ALL, "default-graph-uri": "not an iri"}},
            400,
            "not an absolute IRI",
            id="bad-graph-iri",
        ),
        pytest.param(
            "GET",
            {"params": {"query": ALL, "using-graph-uri": VOCAB}},
            400,
            "does not apply to queries",
            id="using-graph-uri-on-query",
        ),
    ],
)
def test_protocol_violations(
    client: TestClient, method: str, kwargs: dict[str, object], status: int, says: str
) -> None:
    response = client.request(method, "/sparql", **kwargs)  # type: ignore[arg-type]
    assert response.status_code == status, response.text
    assert says in response.text
    assert response.headers["content-type"].startswith("text/plain")
    assert "Accept" in response.headers["vary"]


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_other_methods_are_not_allowed(client: TestClient, method: str) -> None:
    response = client.request(method, "/sparql", params={"query": ALL})
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD, POST"


def test_syntax_error_reports_line_and_column(client: TestClient) -> None:
    query = "SELECT * WHERE {\n  ?s ?p ?o\n  FILTER( }"
    response = client.get("/sparql", params={"query": query})
    assert response.status_code == 400
    assert response.text.startswith("syntax error at line 3, column 11: expected")


def test_query_too_long_is_413(client: TestClient) -> None:
    query = "SELECT * WHERE { ?s ?p ?o } #" + "x" * 100_000
    response = client.post("/sparql", data={"query": query})
    assert response.status_code == 413
    assert "100,000 characters" in response.text


def test_head_is_answered_like_get(client: TestClient) -> None:
    response = client.head("/sparql", params={"query": LABELS})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/sparql-results+json"


def test_results_json_is_valid(client: TestClient) -> None:
    response = client.get("/sparql", params={"query": ALL})
    parsed = json.loads(response.content)
    assert len(parsed["results"]["bindings"]) == TINY_TRIPLES


@pytest.mark.parametrize(
    ("query", "where"),
    [
        pytest.param("SELECT * {\n}x", "line 2, column 2", id="after-group"),
        pytest.param("SELECT * { ?s ?p ?o } x", "line 1, column 23", id="trailing-word"),
    ],
)
def test_syntax_error_points_at_the_offending_character(
    client: TestClient, query: str, where: str
) -> None:
    response = client.get("/sparql", params={"query": query})
    assert response.status_code == 400
    assert where in response.text

"""Error bodies: one line of plain text for API clients, the site's error page for browsers."""

from __future__ import annotations

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient

from citygraph.config import Settings
from citygraph.web.app import create_app

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

ERRORS = [
    pytest.param("GET", "/no/such/path", {}, b"", 404, id="no-such-path"),
    pytest.param("POST", "/healthz", {}, b"", 405, id="method-of-another-route"),
    pytest.param("M1", "/sparql", {}, b"", 405, id="invented-method"),
    pytest.param("PUT", "/sparql", {}, b"", 405, id="put-sparql"),
    pytest.param("GET", "/sparql?query=SELECT%20*%20%7B%0A%7Dx", {}, b"", 400, id="syntax"),
    pytest.param("GET", "/store?graph=relative", {}, b"", 400, id="bad-graph-iri"),
    pytest.param("GET", "/store?graph=http://example.org/none", {}, b"", 404, id="no-graph"),
    pytest.param("POST", "/sparql", {"Content-Type": "text/plain"}, b"x", 415, id="media-type"),
    pytest.param("PUT", "/store?graph=http://example.org/g", {}, b"", 403, id="writes-off"),
]


@pytest.mark.parametrize(("method", "path", "headers", "body", "status"), ERRORS)
@pytest.mark.parametrize("accept", [None, "*/*", "application/json"])
def test_api_clients_get_one_line_of_plain_text(
    client: TestClient,
    method: str,
    path: str,
    headers: dict[str, str],
    body: bytes,
    status: int,
    accept: str | None,
) -> None:
    """docs/endpoint.md: "Every error body is one line of plain text" (404/405 were JSON)."""
    sent = {**headers, **({"Accept": accept} if accept else {})}
    response = client.request(method, path, headers=sent, content=body)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.text.endswith("\n")
    assert "\n" not in response.text[:-1]
    assert "{" not in response.text[:1]


def test_404_and_405_say_what_and_where(client: TestClient) -> None:
    response = client.get("/no/such/path")
    assert response.text == "there is nothing at /no/such/path on this server\n"
    response = client.post("/healthz")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET"
    assert response.text == "POST is not supported on /healthz; use GET\n"


@pytest.mark.parametrize(("method", "path", "headers", "body", "status"), ERRORS)
def test_browsers_get_the_error_page(
    client: TestClient, method: str, path: str, headers: dict[str, str], body: bytes, status: int
) -> None:
    response = client.request(method, path, headers={**headers, "Accept": BROWSER}, content=body)
    assert response.status_code == status
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.text.lstrip().lower().startswith("<!doctype html>")
    assert f"<title>{status} " in response.text
    assert "vary" in response.headers


def test_parameter_validation_is_a_400_in_words(settings: Settings) -> None:
    """Routes with typed parameters (extra routers share the error handling) answer 400 in
    plain text, not FastAPI's JSON 422."""
    extra = APIRouter()

    @extra.get("/typed")
    def typed(page: int) -> dict[str, int]:
        return {"page": page}

    with TestClient(create_app(settings, extra_routers=[extra])) as typed_client:
        response = typed_client.get("/typed", params={"page": "²"})
    assert response.status_code == 400
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.text.startswith("the request is not valid: query.page: ")
    assert response.text.count("\n") == 1

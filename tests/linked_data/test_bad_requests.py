"""What the pages answer to requests they cannot serve as asked: an unknown extension is a 404,
an Accept nothing offered fits is a 406 naming what is offered, a bad search parameter a 400
saying which (docs/linked-data.md, docs/endpoint.md: errors are one line of plain text for API
clients). On the embedded store (the other backends serve the same routes)."""

from __future__ import annotations

import pytest

from .support import TestClient

PNG = {"Accept": "image/png"}
TEXT = {"Accept": "text/plain"}
TURTLE = {"Accept": "text/turtle"}


@pytest.mark.parametrize(
    "path",
    [
        "/doc/city/de-berlin.xyz",
        "/vocab/theme/economy.xyz",
        "/ontology.xyz",
        "/dataset.xyz",
        "/shapes.xyz",
        "/dumps/citygraph.xyz",
    ],
)
def test_an_unknown_extension_is_a_404_in_one_line(client: TestClient, path: str) -> None:
    # a thing's ".xyz" is part of its name (no such thing); the site's documents have no such form
    response = client.get(path, headers=TURTLE if path.startswith(("/doc/", "/vocab/")) else TEXT)

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text.count("\n") <= 1
    assert path in response.text


@pytest.mark.parametrize(
    "path", ["/doc/city/de-berlin", "/vocab/theme/economy", "/ontology", "/dataset", "/shapes"]
)
def test_an_accept_that_nothing_offered_fits_is_a_406_naming_what_is(
    client: TestClient, path: str
) -> None:
    response = client.get(path, headers=PNG)

    assert response.status_code == 406
    assert response.headers["content-type"].startswith("text/plain")
    assert "text/turtle" in response.text
    assert "text/html" in response.text
    assert "Accept" in response.headers["vary"]


def test_a_thing_whose_address_is_no_iri_is_a_404(client: TestClient) -> None:
    response = client.get("/doc/city/a%3Eb", headers=TURTLE)  # ">" cannot be in an IRI
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/plain")


def test_a_search_in_an_unknown_format_is_a_400_saying_which(client: TestClient) -> None:
    response = client.get("/search?q=Berlin&format=xml")

    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/plain")
    assert "format must be json or html, not 'xml'" in response.text


def test_a_bad_search_limit_for_a_json_client_is_a_400_in_plain_text(client: TestClient) -> None:
    response = client.get("/search?q=Berlin&limit=%C2%B2", headers={"Accept": "application/json"})

    assert response.status_code == 400
    assert not response.headers["content-type"].startswith("text/html")
    assert "limit must be a whole number" in response.text


def test_the_search_limit_bounds_the_results(client: TestClient) -> None:
    many = client.get("/search?q=a&format=json&limit=1000").json()["results"]
    one = client.get("/search?q=a&format=json&limit=0").json()["results"]

    assert 1 < len(many) <= 50  # at most 50, whatever is asked
    assert len(one) == 1  # at least 1

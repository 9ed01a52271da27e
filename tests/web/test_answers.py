"""The one Answer-to-response rule (web/responses.py), the same on every route."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import CITY

from citygraph.web.linked_data.listings import int_parameter
from citygraph.web.problems import BadRequestError

SELECT = f"SELECT ?label WHERE {{ <{CITY}de-berlin> ?p ?label }} ORDER BY ?label"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _not_modified(client: TestClient, method: str, url: str, body: str = "") -> None:
    headers = FORM if body else {}
    first = client.request(method, url, content=body, headers=headers)
    assert first.status_code == 200
    tag = first.headers["etag"]
    again = client.request(method, url, content=body, headers={**headers, "If-None-Match": tag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == tag
    assert again.headers["cache-control"] == first.headers["cache-control"]
    # RFC 9110 §15.4.5: a 304 carries no representation metadata such as Content-Type
    assert "content-type" not in again.headers


def test_304_of_a_query_evaluated_by_the_endpoint(client: TestClient) -> None:
    _not_modified(client, "POST", "/sparql", f"query={quote(SELECT)}")


def test_304_of_a_query_answered_by_the_fast_path(client: TestClient) -> None:
    _not_modified(client, "GET", f"/sparql?query={quote(SELECT)}")


def test_304_of_a_linked_data_resource(client: TestClient) -> None:
    _not_modified(client, "GET", "/static/css/citygraph.css")


@pytest.mark.parametrize("url", ["/sparql?query=ASK%7B%7D", "/static/css/citygraph.css"])
def test_head_has_the_headers_of_get_and_no_body(client: TestClient, url: str) -> None:
    got = client.get(url)
    head = client.head(url)
    assert head.status_code == 200
    assert head.content == b""
    for name in ("content-type", "content-length", "etag", "cache-control"):
        assert head.headers[name] == got.headers[name]


def test_a_bad_page_parameter_is_the_web_layers_400() -> None:
    # One error type for HTTP problems: the index pages' parameter error is a BadRequestError.
    with pytest.raises(BadRequestError, match="page must be a whole number") as caught:
        int_parameter({"page": "x"}, "page")
    assert caught.value.status == 400

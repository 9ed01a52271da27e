"""A trailing slash never makes the server echo the request into a header (issue 9 §6, fuzz).

``make fuzz`` found ``HEAD /timeline/zz/?from=<300 kB>`` answered by the framework's
trailing-slash redirect with a 307 whose ``Location`` held the whole query string: a header
line no client can read. The real server is asked what the fuzzer asked; with the test client
every route family is tried: pages, the frontend, the endpoint, the Graph Store, the
identifiers and the operations routes.
"""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.serving import running_server

from .conftest import TestClient

#: Longer than any header a client reads, short enough for httpx (it caps URLs at 64 KiB).
HUGE = "9" * 60_000

#: One path (with its trailing slash) of each route family.
FAMILIES = [
    pytest.param("/timeline/zz/", id="timeline"),
    pytest.param("/timeline/de-berlin/", id="timeline-known"),
    pytest.param("/partnerships/", id="listing"),
    pytest.param("/map/", id="map"),
    pytest.param("/sparql-ui/", id="query-ui"),
    pytest.param("/sparql/", id="sparql"),
    pytest.param("/store/", id="store"),
    pytest.param("/id/city/de-berlin/", id="identifier"),
    pytest.param("/doc/city/de-berlin/", id="document"),
    pytest.param("/dataset/", id="dataset"),
    pytest.param("/healthz/", id="healthz"),
    pytest.param("/metrics/", id="metrics"),
    pytest.param("/assets/", id="assets"),
]

#: What an ordinary HTTP client or proxy reads of a response head (nginx: 8 KiB buffers).
READABLE_HEAD = 8 * 1024


def _head_size(response: httpx.Response) -> int:
    return sum(len(k) + len(v) + 4 for k, v in response.headers.raw)


@pytest.fixture
def server(store_dir: Path, tmp_path: Path) -> Iterator[str]:
    with running_server(store_dir, tmp_path / "server.log") as url:
        yield url


@pytest.mark.parametrize("method", ["HEAD", "GET"])
def test_the_fuzz_finding_gets_an_answer_a_client_can_read(server: str, method: str) -> None:
    host, port = server.removeprefix("http://").split(":")
    for path in ("/timeline/zz/", "/sparql/", "/partnerships/"):
        connection = http.client.HTTPConnection(host, int(port), timeout=60)
        try:
            # http.client refuses a header line over 64 KiB (LineTooLong), as the fuzzer did.
            connection.request(method, path + "?from=" + "9" * 300_000)
            response = connection.getresponse()
            assert response.status == 404, (path, response.status)
            assert response.getheader("location") is None
        finally:
            connection.close()


@pytest.mark.parametrize("method", ["GET", "HEAD", "POST"])
@pytest.mark.parametrize("path", FAMILIES)
@pytest.mark.parametrize("param", ["from", "query", "lang", "x"])
def test_a_huge_query_string_is_never_echoed(
    client: TestClient, path: str, method: str, param: str
) -> None:
    response = client.request(method, f"{path}?{param}={HUGE}", follow_redirects=False)
    assert response.status_code < 500, response.text[:200]
    assert _head_size(response) < READABLE_HEAD
    assert HUGE[:1000] not in response.headers.get("location", "")


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_a_huge_path_with_a_slash_is_not_echoed(client: TestClient, method: str) -> None:
    response = client.request(method, "/timeline/" + "z" * 60_000 + "/", follow_redirects=False)
    assert response.status_code == 404
    assert _head_size(response) < READABLE_HEAD


@pytest.mark.parametrize(
    ("path", "canonical"),
    [
        ("/sparql/", "/sparql"),
        ("/partnerships/", "/partnerships"),
        ("/partnerships/?lang=de", "/partnerships?lang=de"),
        ("/timeline/de-berlin/", "/timeline/de-berlin"),
        ("/map//", "/map"),
    ],
)
def test_a_slash_after_a_route_leads_to_it(client: TestClient, path: str, canonical: str) -> None:
    redirect = client.get(path, follow_redirects=False)
    assert redirect.status_code == 308
    assert redirect.headers["location"] == canonical
    assert client.get(path).status_code == 200
    assert client.head(path).status_code == 200


@pytest.mark.parametrize(
    ("method", "url"),
    [
        pytest.param("GET", "/sparql/?query=ASK%20%7B%7D", id="parameters-would-be-dropped"),
        pytest.param("GET", "/partnerships/?page=2", id="listing-page"),
        pytest.param("GET", "/partnerships/?lang=xx", id="unknown-language"),
        pytest.param("POST", "/sparql/", id="post"),
        pytest.param("GET", "/nothing-here/", id="no-such-route"),
        # decodes to `/partnerships/`, but its canonical form would be the same URL: a loop
        pytest.param("GET", "/partnerships%2F", id="escaped-slash"),
    ],
)
def test_otherwise_a_trailing_slash_is_404_in_words(
    client: TestClient, method: str, url: str
) -> None:
    response = client.request(method, url, follow_redirects=False)
    assert response.status_code == 404
    assert "location" not in response.headers
    assert "there is nothing at" in response.text

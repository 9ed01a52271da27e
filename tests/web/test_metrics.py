"""/metrics labels come from a closed set (issue 9 §2): no request adds a series of its own."""

from __future__ import annotations

import re
import secrets

from fastapi.testclient import TestClient

from citygraph.web.metrics import METHODS

SERIES = re.compile(
    r'^citygraph_http_requests_total\{method="([^"]*)",path="([^"]*)",status="(\d+)"\}'
)


def request_series(client: TestClient) -> set[tuple[str, str, str]]:
    text = client.get("/metrics").text
    return {m.groups() for line in text.splitlines() if (m := SERIES.match(line))}


def test_invented_methods_and_random_paths_add_no_series(client: TestClient) -> None:
    def hostile_round(n: int) -> None:
        for i in range(n):
            client.request(f"M{i}{secrets.token_hex(3).upper()}", "/sparql")
            client.get(f"/{secrets.token_hex(8)}/{i}")
            client.request(f"X{i}", f"/id/city/{secrets.token_hex(4)}", follow_redirects=False)
            client.get(f"/doc/city/{secrets.token_hex(4)}")

    client.get("/metrics")  # so that the scrapes' own series exists from the start
    hostile_round(3)
    series = request_series(client)
    hostile_round(60)
    assert request_series(client) == series
    methods = {method for method, _, _ in series}
    paths = {path for _, path, _ in series}
    assert methods <= METHODS | {"other"}
    assert "other" in methods
    assert paths == {"/sparql", "other", "/id/{path:path}", "/doc/{path:path}", "/metrics"}


def test_known_methods_and_routes_keep_their_names(client: TestClient) -> None:
    client.get("/sparql", params={"query": "ASK {}"})
    client.get("/sparql", params={"query": "ASK {}"})  # the second from the fast path's cache
    client.delete("/healthz")
    series = request_series(client)
    assert ("GET", "/sparql", "200") in series
    assert ("DELETE", "/healthz", "405") in series
    text = client.get("/metrics").text
    assert 'citygraph_http_requests_total{method="GET",path="/sparql",status="200"} 2' in text

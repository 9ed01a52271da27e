"""A new build is served without a restart and without a failed request."""

from __future__ import annotations

import time
from pathlib import Path

from fastapi.testclient import TestClient
from tests.web.conftest import CITY, make_build, tiny_quads

PARIS = f"SELECT ?label WHERE {{ <{CITY}fr-paris> ?p ?label }}"
NEW_VERSION = "20260102T000000000000Z-bbbbbbbbbb"


def paris(client: TestClient) -> str:
    response = client.get("/sparql", params={"query": PARIS})
    assert response.status_code == 200, response.text
    return str(response.json()["results"]["bindings"][0]["label"]["value"])


def test_rebuild_is_picked_up_without_failed_requests(client: TestClient, store_dir: Path) -> None:
    assert paris(client) == "Paris v1"
    etag = client.get("/sparql", params={"query": PARIS}).headers["etag"]
    make_build(store_dir, tiny_quads("v2"), NEW_VERSION)
    deadline = time.monotonic() + 30
    seen = []
    while time.monotonic() < deadline:
        seen.append(paris(client))  # every request during the switch succeeds
        if seen[-1] == "Paris v2":
            break
        time.sleep(0.01)
    assert seen[-1] == "Paris v2"
    assert client.get("/healthz").json()["version"] == NEW_VERSION
    # the ETag follows the data version: the old one no longer validates
    response = client.get("/sparql", params={"query": PARIS}, headers={"If-None-Match": etag})
    assert response.status_code == 200

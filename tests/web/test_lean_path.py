"""GET queries answered without the router (``web/lean_path.py``), on a real ``citygraph serve``:
the answer, its headers, its errors and its log line are those of the ``/sparql`` route."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from tests.serving import running_server

from citygraph.config import Settings
from citygraph.web.app import create_app
from citygraph.web.lean_path import LeanQueries

ASK_BERLIN = 'ASK { ?city <http://www.w3.org/2000/01/rdf-schema#label> "Berlin"@en }'
JSON = "application/sparql-results+json"
#: Every triple nine times over: runs until its timeout.
ENDLESS = (
    "SELECT (COUNT(*) AS ?count) {" + " ".join(f"?s{i} ?p{i} ?o{i} ." for i in range(9)) + " }"
)


@pytest.fixture
def served(store_dir: Path, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    env = {"CITYGRAPH_CACHE_BYTES": "0", "CITYGRAPH_IN_MEMORY": "false"}
    log = tmp_path / "server.log"
    with running_server(store_dir, log, env=env) as url:
        yield url, log


def test_a_get_query_is_answered_with_the_routes_headers(served: tuple[str, Path]) -> None:
    url, log = served
    headers = {"Accept": JSON, "Origin": "https://example.org"}
    response = httpx.get(url + "/sparql", params={"query": ASK_BERLIN}, headers=headers)
    assert response.status_code == 200
    assert response.json() == {"head": {}, "boolean": True}
    assert response.headers["content-type"].startswith(JSON)
    assert response.headers["access-control-allow-origin"] == "*"
    assert "Accept" in response.headers["vary"]
    assert response.headers["cache-control"].startswith("public, max-age=")
    etag = response.headers["etag"]
    again = httpx.get(
        url + "/sparql", params={"query": ASK_BERLIN}, headers={"If-None-Match": etag, **headers}
    )
    assert again.status_code == 304
    assert again.content == b""
    # HEAD takes the route: the same headers, no body
    head = httpx.head(url + "/sparql", params={"query": ASK_BERLIN}, headers=headers)
    assert head.status_code == 200
    assert head.headers["etag"] == etag
    assert head.content == b""
    records = [
        json.loads(line)
        for line in log.read_text(encoding="utf-8").splitlines()
        if line.startswith('{"time"')
    ]
    first = next(r for r in records if r["path"] == "/sparql")
    assert first["status"] == 200
    assert first["method"] == "GET"
    assert first["query_ms"] > 0
    assert first["cache"] == "miss"
    assert first["bytes"] == len(response.content)


def test_errors_of_a_get_query_are_the_routes(served: tuple[str, Path]) -> None:
    url, _ = served
    syntax = httpx.get(url + "/sparql", params={"query": "SELECT * WHERE { ?s ?p }"})
    assert syntax.status_code == 400
    assert syntax.text.startswith("syntax error at line 1")
    unacceptable = httpx.get(
        url + "/sparql", params={"query": ASK_BERLIN}, headers={"Accept": "image/png"}
    )
    assert unacceptable.status_code == 406
    twice = httpx.get(url + "/sparql", params={"query": ASK_BERLIN, "update": "CLEAR ALL"})
    assert twice.status_code == 400
    # a nesting too deep is refused each time, also when the same text comes again
    deep = "ASK {" + "{" * 600 + "}" * 600 + "}"
    for _ in range(2):
        refused = httpx.get(url + "/sparql", params={"query": deep})
        assert refused.status_code == 400
        assert "nest" in refused.text


def test_a_get_without_a_query_is_still_the_service_description(served: tuple[str, Path]) -> None:
    url, _ = served
    response = httpx.get(url + "/sparql", headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    assert "sd:Service" in response.text


def _lean_only(app: object) -> None:
    """Replace what ``LeanQueries`` passes requests on to (the rest of the app: the router) with
    an app that fails the test: whatever is answered then was answered by the lean path."""

    async def router_reached(scope: object, receive: object, send: object) -> None:
        raise AssertionError("the request reached the router")

    layer = app.middleware_stack  # type: ignore[attr-defined]
    while not isinstance(layer, LeanQueries):
        layer = layer.app
    layer.app = router_reached


def test_the_lean_path_answers_a_get_query_and_its_refusals_without_the_router(
    store_dir: Path,
) -> None:
    """In process, the router replaced by one that fails: a GET query's answer, its 304, and
    the refusals of a query too long (413), too deeply nested (400), calling SERVICE (403) or
    over the client's share (429) all come from the lean path."""
    settings = Settings(
        store=store_dir,
        cache_bytes=0,  # the fast path answers nothing: the lean path must
        max_query_length=2000,
        in_memory=False,
        version_check_interval=0.0,
        client_max_queries=1,
        query_timeout=2.0,
    )
    with TestClient(create_app(settings), raise_server_exceptions=True) as client:
        _lean_only(client.app)
        answered = client.get("/sparql", params={"query": ASK_BERLIN}, headers={"Accept": JSON})
        assert answered.status_code == 200
        assert answered.json() == {"head": {}, "boolean": True}
        again = client.get(
            "/sparql",
            params={"query": ASK_BERLIN},
            headers={"Accept": JSON, "If-None-Match": answered.headers["etag"]},
        )
        assert again.status_code == 304
        too_long = client.get("/sparql", params={"query": "ASK {} #" + "x" * 2000})
        assert too_long.status_code == 413
        deep = client.get("/sparql", params={"query": "ASK {" + "{" * 600 + "}" * 600 + "}"})
        assert deep.status_code == 400
        assert "nest" in deep.text
        service = client.get(
            "/sparql", params={"query": "ASK { SERVICE <http://example.org/sparql> { ?s ?p ?o } }"}
        )
        assert service.status_code == 403
        # one query at a time per client: a second, while the first runs, is 429
        outcomes: list[int] = []
        heavy = threading.Thread(
            target=lambda: outcomes.append(
                client.get("/sparql", params={"query": ENDLESS}).status_code
            )
        )
        heavy.start()
        pool = client.app.state.endpoint.pool  # type: ignore[attr-defined]
        deadline = time.monotonic() + 10
        while pool.inflight == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        second = client.get("/sparql", params={"query": ASK_BERLIN}, headers={"Accept": JSON})
        heavy.join(timeout=30)
        assert second.status_code == 429, second.text
        assert outcomes == [503]  # the endless one ran until its timeout
        # and the stub does fail when reached: the service description takes the router
        with pytest.raises(AssertionError, match="reached the router"):
            client.get("/sparql")

"""/healthz, /metrics and the request log line."""

from __future__ import annotations

import json
import logging

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient

from citygraph.config import Settings
from citygraph.web.app import create_app


def test_healthz(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["version"] == "20260101T000000000000Z-aaaaaaaaaa"
    assert body["query_processes"] == 3  # two in the general lane, one in the fast lane
    assert body["free_query_processes"] == 2


def test_metrics(client: TestClient) -> None:
    client.get("/sparql", params={"query": "ASK {}"})
    client.get("/sparql", params={"query": "ASK {"})
    response = client.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = response.text
    assert 'citygraph_http_requests_total{method="GET",path="/sparql",status="200"} 1' in text
    assert 'citygraph_http_requests_total{method="GET",path="/sparql",status="400"} 1' in text
    assert "citygraph_query_duration_seconds_count 2" in text
    assert 'citygraph_query_duration_seconds_bucket{le="+Inf"} 2' in text


def test_one_json_log_line_per_request(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="citygraph.access"):
        client.get("/sparql", params={"query": "ASK {}"})
    lines = [r for r in caplog.records if r.name == "citygraph.access"]
    assert len(lines) == 1
    record = json.loads(lines[0].getMessage())
    assert record["method"] == "GET"
    assert record["path"] == "/sparql"
    assert record["status"] == 200
    assert record["query_ms"] > 0
    assert record["cache"] == "miss"


def test_unknown_path_is_404(client: TestClient) -> None:
    assert client.get("/nothing").status_code == 404


def test_extra_routers_share_the_app(settings: Settings) -> None:
    extra = APIRouter()

    @extra.get("/hello")
    def hello() -> dict[str, str]:
        return {"hello": "world"}

    with TestClient(create_app(settings, extra_routers=[extra])) as client:
        response = client.get("/hello")
    assert response.json() == {"hello": "world"}
    assert "Accept" in response.headers["vary"]

"""The frontend router without a browser: pages, languages, the key check and the assets."""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import pytest
from fastapi import FastAPI

from citygraph.build import build_store, default_build_inputs
from citygraph.config import Settings
from citygraph.query import read_query_file
from citygraph.web import frontend
from citygraph.web.app import create_app

from .support import ROOT

with warnings.catch_warnings():
    # Starlette deprecates its test client's use of httpx; the client still works.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient


@pytest.fixture
def app(tmp_path: Path) -> FastAPI:
    # The lifespan (query processes, store) never starts: these routes do not query.
    application = create_app(Settings(store=tmp_path / "store"))
    application.include_router(frontend.create_router())
    return application


@pytest.fixture
def client(app: FastAPI) -> TestClient:
    return TestClient(app)


@pytest.fixture(scope="module")
def built_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store of the repository's data: a timeline is only served for a place it has."""
    root = tmp_path_factory.mktemp("store")
    build_store(root, default_build_inputs(ROOT))
    return root


@pytest.fixture
def data_client(built_store: Path) -> TestClient:
    return TestClient(create_app(Settings(store=built_store)))


def page_config(html: str) -> dict[str, object]:
    match = re.search(r'<script type="application/json" id="cg-config">(.*?)</script>', html, re.S)
    assert match, "no configuration in the page"
    config: dict[str, object] = json.loads(match.group(1))
    return config


def test_every_query_file_is_an_example() -> None:
    files = sorted((ROOT / "queries").glob("*.rq"))
    examples = frontend.example_queries()
    assert [e["file"] for e in examples] == [f.name for f in files]
    assert [e["name"] for e in examples] == [read_query_file(f).summary for f in files]


def test_no_queries_directory_means_no_examples(tmp_path: Path) -> None:
    assert frontend.example_queries(tmp_path / "missing") == []


def test_query_ui_page_carries_the_examples_and_our_endpoint(client: TestClient) -> None:
    response = client.get("/sparql-ui")
    assert response.status_code == 200
    config = page_config(response.text)
    assert config["endpoint"] == "http://testserver/sparql"
    assert len(config["examples"]) == len(frontend.example_queries())  # type: ignore[arg-type]
    assert "<noscript>" in response.text


@pytest.mark.parametrize(
    ("query", "header", "expected"),
    [
        pytest.param("?lang=de", None, "de", id="lang-parameter"),
        pytest.param("?lang=zh", None, "zh-Hans", id="lang-zh"),
        pytest.param("", "zh-CN,zh;q=0.9", "zh-Hans", id="accept-language"),
        pytest.param("", None, "en", id="default"),
    ],
)
def test_a_browser_gets_the_query_ui_of_sparql_in_its_language(
    built_store: Path, query: str, header: str | None, expected: str
) -> None:
    headers = {"Accept": "text/html"} | ({"Accept-Language": header} if header else {})
    with TestClient(create_app(Settings(store=built_store))) as client:
        response = client.get("/sparql" + query, headers=headers)
    assert response.status_code == 200
    assert f'<html lang="{expected}"' in response.text


def test_render_query_ui_fits_the_endpoints_hook() -> None:
    page = frontend.render_query_ui(
        endpoint="https://example.org/cg/sparql",
        description_link="https://example.org/cg/sparql?format=turtle",
    )
    assert 'src="https://example.org/cg/assets/vendor/yasgui.min.js"' in page
    assert page_config(page)["endpoint"] == "https://example.org/cg/sparql"


@pytest.mark.parametrize(
    ("query", "header", "lang", "title"),
    [
        pytest.param("", None, "en", "World map of partnerships", id="default"),
        pytest.param("?lang=de", None, "de", "Weltkarte der Partnerschaften", id="param"),
        pytest.param("", "zh-CN,zh;q=0.9", "zh-Hans", "伙伴关系世界地图", id="accept-language"),
        pytest.param("?lang=fr", "de", "de", "Weltkarte der Partnerschaften", id="unknown-param"),
    ],
)
def test_map_page_language(
    client: TestClient, query: str, header: str | None, lang: str, title: str
) -> None:
    headers = {"Accept-Language": header} if header else {}
    response = client.get("/map" + query, headers=headers)
    assert response.status_code == 200
    assert f'<html lang="{lang}">' in response.text
    assert f"<h1>{title}</h1>" in response.text
    assert "Accept-Language" in response.headers["vary"]


def test_language_switch_keeps_the_filters(client: TestClient) -> None:
    html = client.get("/map?city=de-berlin&status=active").text
    assert 'href="/map?city=de-berlin&amp;status=active&amp;lang=de"' in html


def test_map_filters_reach_the_script(client: TestClient) -> None:
    config = page_config(client.get("/map?city=de-berlin&from=1990").text)
    assert config["filters"] == {
        "city": "de-berlin",
        "country": "",
        "type": "",
        "status": "",
        "from": "1990",
        "to": "",
    }


def test_timeline_names_the_three_kinds_of_place(data_client: TestClient) -> None:
    config = page_config(data_client.get("/timeline/de-berlin").text)
    assert config["places"] == [
        f"https://w3id.org/citygraph/id/{kind}/de-berlin" for kind in ("city", "region", "district")
    ]


@pytest.mark.parametrize(
    "key",
    ["Berlin", "de-berlin>", "de_berlin", "de-", "x", "de-berlin%20", "de-berlin%3E%20%7D"],
)
def test_timeline_of_a_key_no_place_can_have_is_404(client: TestClient, key: str) -> None:
    assert client.get(f"/timeline/{key}").status_code == 404


@pytest.mark.parametrize(
    ("path", "status"),
    [
        pytest.param("/assets/js/common.js", 200, id="script"),
        pytest.param("/assets/js/missing.js", 404, id="missing"),
        pytest.param("/assets/../frontend.py", 404, id="dot-dot"),
        pytest.param("/assets/%2e%2e/frontend.py", 404, id="encoded-dot-dot"),
    ],
)
def test_assets(client: TestClient, path: str, status: int) -> None:
    assert client.get(path).status_code == status


@pytest.mark.parametrize("path", ["/sparql-ui", "/map", "/timeline/de-berlin"])
def test_pages_answer_head(data_client: TestClient, path: str) -> None:
    response = data_client.head(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")

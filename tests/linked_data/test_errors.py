"""Bad addresses get the site's error page (issue 13 §2) and never a 500 (issue 9 §3)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace

import pytest
from fastapi import FastAPI
from tests.backends import every_backend

from citygraph.config import Settings
from citygraph.web import frontend, linked_data
from citygraph.web.error_handlers import install_error_handlers

from .support import REPO, TestClient, text_of

pytestmark = [every_backend, pytest.mark.virtuoso]

HTML = {"Accept": "text/html"}


@pytest.fixture
def site_client(settings: Settings) -> Iterator[TestClient]:
    """The pages and the frontend (map, timelines) in one app, as `citygraph serve` has them."""
    application = FastAPI()
    application.state.settings = settings
    application.include_router(frontend.create_router())
    linked_data.install(application, settings, shapes_dir=REPO / "shapes")
    install_error_handlers(application)
    with TestClient(application, follow_redirects=False) as test_client:
        yield test_client


def assert_site_error_page(response_text: str) -> None:
    """The site's own page: its header and navigation, and a search form to go on from."""
    assert response_text.startswith("<!doctype html>")
    assert '<header class="site">' in response_text
    assert 'role="search"' in response_text
    assert 'name="q"' in response_text


@pytest.mark.parametrize(
    ("path", "parameter"),
    [
        ("/partnerships?page=%C2%B2", "page"),  # "²": str.isdigit() says yes, int() says no
        ("/partnerships?page=%D9%A3", "page"),  # Arabic-Indic three: int() accepts it
        ("/partnerships?from=1" + "0" * 4301, "from"),  # int() refuses over 4,300 digits
        ("/partnerships?to=%C2%B9%C2%B2", "to"),
        ("/places?page=%C2%B2", "page"),
        ("/places?page=" + "9" * 5000, "page"),
        ("/search?q=x&limit=%C2%B2", "limit"),
    ],
    ids=[
        "superscript",
        "arabic-indic",
        "huge-from",
        "superscript-to",
        "places",
        "places-huge",
        "search-limit",
    ],
)
def test_a_number_parameter_that_is_not_ascii_digits_is_a_400_page(
    site_client: TestClient, path: str, parameter: str
) -> None:
    response = site_client.get(path, headers=HTML)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")
    assert_site_error_page(response.text)
    assert f"{parameter} must be a whole number" in text_of(response.text)


def test_a_400_for_a_client_that_wants_text_is_one_line_saying_what(
    site_client: TestClient,
) -> None:
    response = site_client.get("/partnerships?page=%C2%B2", headers={"Accept": "text/plain"})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text.startswith("400 Bad Request: page must be a whole number")


def test_ordinary_page_numbers_still_work(site_client: TestClient) -> None:
    assert site_client.get("/partnerships?page=2&from=1990&to=-1").status_code == 200
    assert site_client.get("/places?page=%202%20").status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/timeline/zz",
        "/timeline/de-berlin%0A",  # "$" in a regex also matches before a final newline
        "/timeline/de-berlin%0D%0A",
        "/timeline/de-nowhere",  # a well-formed key that no place has
        "/timeline/Berlin%3E",
    ],
    ids=["too-short", "newline", "crlf", "unknown", "bracket"],
)
def test_a_timeline_of_no_place_is_the_sites_404_page(site_client: TestClient, path: str) -> None:
    response = site_client.get(path, headers=HTML)
    assert response.status_code == 404
    assert_site_error_page(response.text)


def test_a_timeline_of_no_place_for_an_api_client_is_one_line_of_text(
    site_client: TestClient,
) -> None:
    # The timeline's 404 is a problems.NotFoundError, rendered by the one error renderer like
    # every other route outside the linked-data pages: */* is an API client, so plain text.
    response = site_client.get("/timeline/de-nowhere", headers={"Accept": "*/*"})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text == "no place has the key 'de-nowhere'\n"


def test_the_timeline_of_a_place_is_there(site_client: TestClient) -> None:
    response = site_client.get("/timeline/de-berlin")
    assert response.status_code == 200
    assert 'id="timeline"' in response.text


def test_an_unknown_document_is_the_sites_404_page_in_the_readers_language(
    site_client: TestClient,
) -> None:
    response = site_client.get("/doc/city/xx-nowhere?lang=de", headers=HTML)
    assert response.status_code == 404
    assert_site_error_page(response.text)
    assert "Nicht gefunden" in response.text
    assert 'name="lang" value="de"' in response.text  # the search stays in German


def test_the_favicon_is_an_icon(site_client: TestClient) -> None:
    response = site_client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/vnd.microsoft.icon"
    assert response.content[:4] == b"\x00\x00\x01\x00"  # ICO header: reserved 0, type 1 (icon)
    page = site_client.get("/doc/city/de-berlin").text
    assert 'rel="icon" href="http://testserver/favicon.ico"' in page


def _language_switch(html: str) -> list[str]:
    nav = html[html.index('<nav class="lang"') :]
    return re.findall(r"<li><a [^>]*>[^<]*</a></li>", nav[: nav.index("</nav>")])


def test_the_pages_and_the_map_have_the_same_language_switch(site_client: TestClient) -> None:
    # One switch (web/i18n.language_links) for both kinds of page: the linked-data pages had
    # their own copy, with the language names written out a third time in base.html.
    page = _language_switch(site_client.get("/places?page=1&lang=de", headers=HTML).text)
    world = _language_switch(site_client.get("/map?page=1&lang=de", headers=HTML).text)
    assert len(page) == 3
    assert 'hreflang="zh-Hans" lang="zh-Hans">中文<' in page[2]
    assert 'aria-current="true">Deutsch<' in page[1]
    assert page[0].endswith('places?page=1&amp;lang=en" hreflang="en" lang="en">English</a></li>')
    assert [item.replace("places", "map") for item in page] == [
        item.replace('href="/map', 'href="http://testserver/map') for item in world
    ]


def test_the_pages_and_the_map_link_to_the_public_url(settings: Settings) -> None:
    # One rule for this server's base (web/dependencies.local_base), behind a proxy too.
    public = replace(settings, public_url="https://cg.example/base")
    application = FastAPI()
    application.state.settings = public
    application.include_router(frontend.create_router())
    linked_data.install(application, public, shapes_dir=REPO / "shapes")
    with TestClient(application) as client:
        for path in ("/map", "/places", "/timeline/de-berlin"):
            text = client.get(path, headers=HTML).text
            assert "https://cg.example/base/sparql" in text, path
            assert "http://testserver/" not in text, path

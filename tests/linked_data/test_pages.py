"""Pages people want to read: each kind of thing renders its key facts, in the reader's language."""

from __future__ import annotations

import re

import pytest
from tests.backends import every_backend

from .support import TestClient, text_of

pytestmark = [every_backend, pytest.mark.virtuoso]

BERLIN = "/doc/city/de-berlin"
BERLIN_BEIJING = "/doc/partnership/cn-beijing--de-berlin"
BERLIN_BEIJING_EN = "Berlin \N{EN DASH} Beijing"


def _row_with(page: str, needle: str) -> str:
    """The text of the table row that links ``needle``."""
    for row in re.findall(r"<tr>.*?</tr>", page, flags=re.S):
        if needle in row:
            return text_of(row)
    raise AssertionError(f"no row with {needle}")


def test_a_city_lists_its_partners_with_type_status_and_since(client: TestClient) -> None:
    page = client.get(BERLIN).text
    row = _row_with(page, "/doc/city/cn-beijing")
    assert "Beijing" in row
    assert "1994" in row
    assert "Partnership" in row
    assert "Active" in row
    assert '<div id="map"' in page
    assert 'data-city="https://w3id.org/citygraph/id/city/de-berlin"' in page
    assert "data-lat=" in page


def test_a_partnership_shows_its_timeline_with_sources(client: TestClient) -> None:
    page = client.get(BERLIN_BEIJING).text
    timeline = re.search(r'<ol class="timeline">(.*?)</ol>', page, flags=re.S)
    assert timeline is not None
    items = re.findall(r"<li>(.*?)</li>", timeline.group(1), flags=re.S)
    first_1988 = next(text_of(i) for i in items if "1988-05-05" in i and "agreement/" in i)
    assert "friendly cooperation" in first_1988
    assert "berlin.de" in first_1988  # its source
    dates = [d for d in (re.search(r"<time>(.*?)</time>", i) for i in items) if d]
    assert [d.group(1) for d in dates] == sorted(d.group(1) for d in dates)
    assert "2024" in text_of(timeline.group(1))


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (
            "/doc/agreement/cn-beijing--de-east-berlin-1988-05-05-agreement",
            ["1988-05-05", "East Berlin"],
        ),
        ("/doc/org/de-alba-berlin", ["ALBA Berlin", "Linked from"]),
        ("/doc/event/berlin-zoo-pandas", ["2017", BERLIN_BEIJING_EN]),
        (
            "/doc/source/berlin-de-beijing-de",
            ["What the graph took from it", "Land Berlin, Senatskanzlei"],
        ),
        ("/vocab/theme/sport", ["Tagged with this concept", "ALBA Berlin"]),
        ("/doc/country/de", ["Germany", "Berlin"]),
        ("/vocab/status", ["Active"]),
    ],
    ids=["agreement", "organisation", "event", "source", "concept", "country", "scheme"],
)
def test_each_kind_of_page_renders_its_key_facts(
    client: TestClient, path: str, expected: list[str]
) -> None:
    response = client.get(path)
    assert response.status_code == 200
    text = text_of(response.text)
    for needle in expected:
        assert needle in text


@pytest.mark.parametrize(
    ("headers", "query", "expected", "html_lang"),
    [
        ({"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}, "", "Peking", "de"),
        ({"Accept-Language": "zh-CN,zh;q=0.9"}, "", "北京", "zh-Hans"),
        ({"Accept-Language": "fr"}, "", "Beijing", "en"),
        ({"Accept-Language": "de"}, "?lang=en", "Beijing", "en"),
        ({}, "?lang=zh", "北京", "zh-Hans"),
        ({}, "?lang=xx", "Beijing", "en"),
    ],
    ids=["de", "zh", "fallback", "param-wins", "param-zh", "bad-param"],
)
def test_labels_follow_the_readers_language(
    client: TestClient, headers: dict[str, str], query: str, expected: str, html_lang: str
) -> None:
    page = client.get(BERLIN + query, headers=headers).text
    assert expected in _row_with(page, "/doc/city/cn-beijing")
    assert f'<html lang="{html_lang}">' in page


def test_a_chosen_language_is_kept_in_links(client: TestClient) -> None:
    page = client.get(BERLIN + "?lang=de").text
    assert 'href="http://testserver/doc/city/cn-beijing?lang=de"' in page
    assert 'href="http://testserver/doc/city/de-berlin?lang=zh"' in page  # the switcher


def test_partnerships_can_be_filtered_without_javascript(client: TestClient) -> None:
    everything = client.get("/partnerships").text
    assert "<form" in everything
    # the only script is the search box's suggestions: the filters are a plain GET form
    scripts = re.findall(r"<script[^>]*\bsrc=\"([^\"]+)\"", everything)
    assert scripts == ["http://testserver/assets/js/search.js"]
    berlin = client.get("/partnerships?place=city/de-berlin&status=active&from=1994&to=1994").text
    rows = re.findall(r"<tbody>(.*?)</tbody>", berlin, flags=re.S)[0]
    assert BERLIN_BEIJING_EN in text_of(rows)
    assert "Los Angeles" not in text_of(rows)  # 1967
    assert "Wuppertal" not in text_of(rows)
    chinese_page = client.get("/partnerships?country=cn").text
    chinese = text_of(re.findall(r"<tbody>(.*?)</tbody>", chinese_page, flags=re.S)[0])
    assert "Beijing" in chinese
    assert "Los Angeles" not in chinese


def test_bad_filter_values(client: TestClient) -> None:
    assert client.get("/partnerships?from=soon").status_code == 400
    empty = client.get("/partnerships?type=no-such-type")
    assert empty.status_code == 200
    assert "Nothing found" in empty.text


def test_places_and_sources_indexes(client: TestClient) -> None:
    places = client.get("/places").text
    assert 'href="http://testserver/doc/city/de-berlin"' in places
    german_page = client.get("/places?country=de").text
    german = text_of(re.findall(r"<tbody>(.*?)</tbody>", german_page, flags=re.S)[0])
    assert "Berlin" in german
    assert "Beijing" not in german
    sources = client.get("/sources").text
    assert 'href="http://testserver/doc/source/berlin-de-beijing-de"' in sources


def test_home_page(client: TestClient) -> None:
    page = client.get("/").text
    for target in ("partnerships", "places", "sources", "sparql", "map", "dataset"):
        assert f'href="http://testserver/{target}' in page
    assert "<main" in page
    assert 'aria-label="Main"' in page


@pytest.mark.parametrize(
    "path", ["/", BERLIN, BERLIN_BEIJING, "/partnerships", "/ontology", "/shapes"]
)
def test_pages_are_accessible_by_construction(client: TestClient, path: str) -> None:
    page = client.get(path).text
    assert page.count("<main") == 1
    assert "<header" in page
    assert "<nav" in page
    assert "<footer" in page
    assert re.search(r"<h1[ >]", page)
    assert 'class="skip" href="#content"' in page
    for img in re.findall(r"<img[^>]*>", page):
        assert "alt=" in img
    for table in re.findall(r"<table.*?</table>", page, flags=re.S):
        assert "<caption>" in table
        assert 'scope="col"' in table


def test_the_dataset_page_and_void(client: TestClient) -> None:
    page = text_of(client.get("/dataset").text)
    assert "CC BY 4.0" in page or "creativecommons.org/licenses/by/4.0" in page
    assert "Links to Wikidata" in page
    assert "Links to GeoNames" in page


def test_sitemap_lists_documents(client: TestClient) -> None:
    sitemap = client.get("/sitemap.xml")
    assert sitemap.headers["content-type"].startswith("application/xml")
    assert "<loc>http://testserver/doc/city/de-berlin</loc>" in sitemap.text
    assert "<loc>http://testserver/vocab/theme/sport</loc>" in sitemap.text


def test_claims_of_disagreeing_sources_sit_side_by_side(client: TestClient) -> None:
    page = client.get("/doc/partnership/de-berlin--id-jakarta").text
    claims = re.search(r'<table class="claims">(.*?)</table>', page, flags=re.S)
    assert claims is not None
    rows = [text_of(r) for r in re.findall(r"<tr>(.*?)</tr>", claims.group(1), flags=re.S)]
    assert any("1993-04-22" in r and "2008" in r for r in rows)
    assert any("1994-04-13" in r and "current" in r for r in rows)


def test_a_source_page_groups_what_was_taken_by_kind(client: TestClient) -> None:
    page = client.get("/doc/source/berlin-de-beijing-de").text
    headings = [text_of(h) for h in re.findall(r"<h3>(.*?)</h3>", page, flags=re.S)]
    assert "Agreement (3)" in headings
    assert any(h.startswith("Partnership (") for h in headings)

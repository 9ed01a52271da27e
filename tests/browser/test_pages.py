"""The server-rendered pages in a real browser: no script errors, search as one types (issue 13)."""

from __future__ import annotations

import re

import httpx
import pytest
import rdflib
from playwright.sync_api import Page, expect

from .support import ROOT, PageLog, select

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(
    "path",
    ["doc/city/de-berlin", "doc/city/de-duesseldorf", "doc/partnership/cn-beijing--de-berlin", ""],
    ids=["place", "place-without-partners", "partnership", "home"],
)
def test_pages_run_their_scripts_without_errors(
    page: Page, page_log: PageLog, server: str, path: str
) -> None:
    page.goto(server + path)
    page.wait_for_load_state("networkidle")
    assert not page_log.errors, page_log.errors
    assert not page_log.failures, page_log.failures  # the favicon included


def test_a_place_page_draws_its_small_map(page: Page, server: str) -> None:
    page.goto(server + "doc/city/de-berlin")
    expect(page.locator("#map")).to_have_attribute("data-state", "ready")
    expect(page.locator("#map svg")).to_be_visible()


def test_the_search_box_suggests_as_one_types_and_opens_the_choice(page: Page, server: str) -> None:
    page.goto(server + "places")
    box = page.locator("header.site input[name=q]")
    box.fill("Peki")
    option = page.locator("header.site datalist option").first
    expect(option).to_have_attribute("value", re.compile(r"^Beijing"))
    box.fill(option.get_attribute("value") or "")
    page.wait_for_url(re.compile(r"/doc/city/cn-beijing"))


def test_the_search_box_works_without_javascript(no_script_page: Page, server: str) -> None:
    no_script_page.goto(server + "sources")
    no_script_page.locator("header.site input[name=q]").fill("北京")
    no_script_page.locator("header.site input[name=q]").press("Enter")
    no_script_page.wait_for_url(re.compile(r"/search\?q="))
    expect(no_script_page.locator("ol.results a").first).to_have_text("Beijing")


def test_an_unknown_address_is_an_html_page_with_search(page: Page, server: str) -> None:
    response = page.goto(server + "timeline/zz")
    assert response is not None
    assert response.status == 404
    expect(page.locator("main input[name=q]")).to_be_visible()
    assert httpx.get(server + "favicon.ico").status_code == 200


def partners_in_data(key: str) -> int:
    """Partnerships of the city ``key`` in data/ (rdflib: not the server under test)."""
    graph = rdflib.Graph()
    for path in sorted((ROOT / "data").glob("*.ttl")):
        graph.parse(path)
    cg = rdflib.Namespace("https://w3id.org/citygraph/ontology#")
    place = rdflib.URIRef(f"https://w3id.org/citygraph/id/city/{key}")
    return len(set(graph.subjects(cg.partner, place)))


def test_the_map_filters_by_a_city_name_in_any_language(page: Page, server: str) -> None:
    page.goto(server + "map?lang=de")
    expect(page.locator("#worldmap")).to_have_attribute("data-state", "ready")
    name = page.locator("#city-name")
    name.fill("Pekin")
    expect(page.locator("#cities option[value=Peking]")).to_have_count(1)
    name.fill("Peking")
    name.press("Enter")
    page.wait_for_url(re.compile(r"city=cn-beijing"))
    expect(page.locator("#worldmap")).to_have_attribute("data-state", "ready")
    expect(page.locator("#partnerships tbody tr")).to_have_count(partners_in_data("cn-beijing"))


def test_the_map_shows_the_name_of_the_city_in_its_address(page: Page, server: str) -> None:
    page.goto(server + "map?city=de-berlin&lang=en")
    expect(page.locator("#worldmap")).to_have_attribute("data-state", "ready")
    expect(page.locator("#city-name")).to_have_value("Berlin")


def partnerships_of(key: str) -> list[dict[str, str]]:
    """The partnerships of the city ``key`` in data/, with start, end and status."""
    graph = rdflib.Graph()
    for path in sorted((ROOT / "data").glob("*.ttl")):
        graph.parse(path)
    cg = rdflib.Namespace("https://w3id.org/citygraph/ontology#")
    place = rdflib.URIRef(f"https://w3id.org/citygraph/id/city/{key}")
    return [
        {
            "start": str(graph.value(p, cg.startDate) or ""),
            "end": str(graph.value(p, cg.endDate) or ""),
            "status": str(graph.value(p, cg.status) or "").rsplit("/", 1)[-1],
        }
        for p in set(graph.subjects(cg.partner, place))
    ]


@pytest.mark.parametrize("key", ["de-east-berlin", "de-berlin"])
def test_the_timeline_ends_ended_partnerships_and_lists_undated_ones_apart(
    page: Page, server: str, key: str
) -> None:
    rows = partnerships_of(key)
    open_ended = [r for r in rows if r["status"] == "ended" and r["start"] and not r["end"]]
    undated = [r for r in rows if not r["start"]]
    page.goto(f"{server}timeline/{key}")
    svg = page.locator("#timeline")
    expect(svg).to_have_attribute("data-state", "ready")
    expect(svg).to_have_attribute("data-rows", str(len(rows) - len(undated)))
    expect(page.locator("#timeline line.end-unknown")).to_have_count(len(open_ended))
    expect(page.locator("#undated li")).to_have_count(len(undated))
    expect(page.locator("#undated")).to_be_visible() if undated else expect(
        page.locator("#undated")
    ).to_be_hidden()
    expect(page.locator(".legend li")).to_have_count(6)


def test_the_map_zooms_and_names_a_place_on_keyboard_focus(page: Page, server: str) -> None:
    page.goto(server + "map?city=de-berlin&lang=en")
    svg = page.locator("#worldmap")
    expect(svg).to_have_attribute("data-state", "ready")
    page.locator("#zoom-in").click()
    expect(svg).to_have_attribute("data-zoom", "1.50")
    page.locator("#zoom-reset").click()
    expect(svg).to_have_attribute("data-zoom", "1.00")
    berlin = page.locator("#worldmap .places a:has(circle.chosen)")
    berlin.focus()
    expect(page.locator("#worldmap .names text")).to_have_text("Berlin")


def places_on_the_curated_map(server: str) -> set[str]:
    """The partners of the curated partnerships that have coordinates (what /map draws)."""
    rows = select(
        server,
        "PREFIX cg: <https://w3id.org/citygraph/ontology#>\n"
        "PREFIX schema: <https://schema.org/>\n"
        "SELECT DISTINCT ?place WHERE {\n"
        "  GRAPH <https://w3id.org/citygraph/graph/curated> { ?p a cg:Partnership }\n"
        "  ?p cg:partner ?place, ?other . FILTER (?place != ?other)\n"
        "  ?place schema:latitude ?lat ; schema:longitude ?long .\n"
        "  ?other schema:latitude ?lat2 ; schema:longitude ?long2 .\n}",
    )
    return {row["place"]["value"] for row in rows}


def shown_places(page: Page) -> tuple[int, int]:
    """(places drawn as single dots, places counted in clusters) on the map."""
    singles = page.locator("#worldmap circle.place").count()
    in_clusters = page.locator("#worldmap .cluster").evaluate_all(
        "gs => gs.reduce((n, g) => n + Number(g.dataset.count), 0)"
    )
    return singles, in_clusters


def test_the_map_clusters_the_places_that_pile_up_and_opens_a_cluster(
    page: Page, page_log: PageLog, server: str
) -> None:
    page.goto(server + "map?lang=en")
    svg = page.locator("#worldmap")
    expect(svg).to_have_attribute("data-state", "ready")
    places = places_on_the_curated_map(server)
    singles, in_clusters = shown_places(page)
    # Europe: Berlin, Wuppertal and their European partners lie too close for single dots.
    assert in_clusters > 0
    assert singles + in_clusters == len(places)
    biggest = max(
        page.locator("#worldmap .cluster").all(), key=lambda g: int(g.get_attribute("data-count"))
    )
    size = int(biggest.get_attribute("data-count") or 0)
    # named on keyboard focus, with the number of places in the reader's language
    biggest.focus()
    expect(page.locator("#worldmap .names text")).to_contain_text(f"{size} places:")
    page.keyboard.press("Enter")
    expect(svg).not_to_have_attribute("data-zoom", "1.00")
    assert float(svg.get_attribute("data-zoom") or 0) > 1
    # closer in, the same places, and more of them drawn one by one
    page.wait_for_function(
        f"document.querySelectorAll('#worldmap circle.place').length > {singles}"
    )
    after_singles, after_in_clusters = shown_places(page)
    assert after_singles + after_in_clusters == len(places)
    page.locator("#zoom-reset").click()
    expect(svg).to_have_attribute("data-zoom", "1.00")
    page.wait_for_function(
        f"document.querySelectorAll('#worldmap circle.place').length === {singles}"
    )
    assert not page_log.errors, page_log.errors
    assert not [u for u in page_log.requests if not u.startswith((server, "data:"))]


def test_at_the_closest_zoom_every_place_is_a_dot_of_its_own(page: Page, server: str) -> None:
    page.goto(server + "map?lang=de")
    svg = page.locator("#worldmap")
    expect(svg).to_have_attribute("data-state", "ready")
    total = len(places_on_the_curated_map(server))
    for _ in range(12):  # 1.5 times per click: 1.5 ** 11 > 64, the closest zoom
        page.locator("#zoom-in").click()
    expect(svg).to_have_attribute("data-zoom", "64.00")
    expect(page.locator("#worldmap .cluster")).to_have_count(0)
    expect(page.locator("#worldmap circle.place")).to_have_count(total)


def test_the_map_of_a_country_without_a_city(page: Page, server: str) -> None:
    page.goto(server + "map?country=cn&lang=zh")
    expect(page.locator("#worldmap")).to_have_attribute("data-state", "ready")
    rows = select(
        server,
        "PREFIX cg: <https://w3id.org/citygraph/ontology#>\n"
        "SELECT (COUNT(DISTINCT ?p) AS ?n) WHERE {\n"
        "  ?p a cg:Partnership ;\n"
        "     cg:partner/cg:country <https://w3id.org/citygraph/id/country/cn> .\n}",
    )
    expect(page.locator("#partnerships tbody tr")).to_have_count(int(rows[0]["n"]["value"]))

"""The query UI, the map and the timeline in a real browser (issue 4 §3, §4, §6)."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import httpx
import pytest
import rdflib
from playwright.sync_api import Locator, Page, expect

from citygraph.query import read_query_file

from .support import ROOT, PageLog, data_graph, select

pytestmark = pytest.mark.e2e

CG = "PREFIX cg: <https://w3id.org/citygraph/ontology#>\n"
BERLIN = "<https://w3id.org/citygraph/id/city/de-berlin>"
VOCAB = "https://w3id.org/citygraph/vocab/"
ENDED = f"<{VOCAB}status/ended>"


def expected_rows(query_file: Path) -> int | None:
    """Data rows in the file's ``#+ expect:`` CSV (None without one)."""
    expect_header = read_query_file(query_file).header.get("expect")
    if not expect_header:
        return None
    with (query_file.parent / expect_header).open(encoding="utf-8", newline="") as handle:
        return len(list(csv.reader(handle))) - 1


def an_example_with_rows() -> tuple[Path, int]:
    for path in sorted((ROOT / "queries").glob("*.rq")):
        rows = expected_rows(path)
        if rows:
            return path, rows
    pytest.fail("no query in queries/ expects rows")


def berlin_partnerships(server: str, where: str = "") -> int:
    query = (
        CG + "SELECT (COUNT(DISTINCT ?p) AS ?n) WHERE {\n"
        f"  ?p a cg:Partnership ; cg:partner {BERLIN} .\n  {where}\n}}"
    )
    return int(select(server, query)[0]["n"]["value"])


def assert_only_our_server(page_log: PageLog, server: str) -> None:
    """No CDN, no call home: every request went to our own server (or was inline data)."""
    elsewhere = [u for u in page_log.requests if not u.startswith((server, "data:"))]
    assert not elsewhere, elsewhere
    assert not page_log.failures, page_log.failures
    assert not page_log.errors, page_log.errors


# -- §3 the query UI ------------------------------------------------------------------------


def run_in_query_ui(page: Page, url: str, query: str) -> Locator:
    """Open the query UI at ``url``, type ``query`` into its editor, run it; its result panel."""
    page.goto(url)
    page.wait_for_function("window.citygraphYasgui !== undefined")
    page.evaluate("q => { window.citygraphYasgui.getTab().setQuery(q); }", query)
    panel = page.locator(".tabPanel.active")
    panel.locator(".yasqe_queryButton").click()
    return panel


def test_query_ui_offers_every_query_file_in_a_grouped_menu(page: Page, server: str) -> None:
    page.goto(server + "sparql-ui")
    options = page.locator("#example-menu optgroup option")
    files = sorted((ROOT / "queries").glob("*.rq"))
    expect(options).to_have_count(len(files))
    assert sorted(options.all_inner_texts()) == sorted(read_query_file(p).summary for p in files)
    assert page.locator("#example-menu optgroup").count() > 1


def test_query_ui_filters_the_examples_and_shows_them_without_test_headers(
    page: Page, server: str
) -> None:
    path, _ = an_example_with_rows()
    summary = read_query_file(path).summary
    page.goto(server + "sparql-ui")
    page.locator("#example-filter").fill(summary)
    shown = page.locator("#example-menu option:not([hidden])")
    expect(shown).to_have_count(1)
    page.locator("#example-menu").select_option(path.name)
    editor = page.locator(".tabPanel.active .CodeMirror")
    expect(editor).to_contain_text(summary)
    assert "#+" not in page.evaluate("window.citygraphYasgui.getTab().getQuery()")


def test_query_ui_runs_an_example_and_shows_its_rows(
    page: Page, server: str, page_log: PageLog
) -> None:
    path, rows = an_example_with_rows()
    page.goto(server + "sparql-ui")
    page.locator("#example-menu").select_option(path.name)
    panel = page.locator(".tabPanel.active")
    panel.locator(".yasqe_queryButton").click()
    table_rows = panel.locator(".yasr table.dataTable tbody tr")
    expect(table_rows.first).to_be_visible()
    assert table_rows.count() == min(rows, 50)  # YASR's default page size is 50
    summary = panel.locator(".yasr_response_chip").inner_text()
    assert re.match(rf"^{rows} results?\b", summary), summary
    hrefs = panel.locator(".yasr table a").evaluate_all("links => links.map(a => a.href)")
    canonical = [h for h in hrefs if h.startswith("https://w3id.org/citygraph/id/")]
    assert not canonical, "result IRIs should link to this server's pages"
    assert_only_our_server(page_log, server)


def test_query_ui_shows_results_with_coordinates_on_a_map(page: Page, server: str) -> None:
    query = (
        CG + "PREFIX schema: <https://schema.org/>\n"
        "SELECT ?partner ?lat ?long WHERE {\n"
        f"  [] a cg:Partnership ; cg:partner {BERLIN}, ?partner .\n"
        f"  FILTER (?partner != {BERLIN})\n"
        "  ?partner schema:latitude ?lat ; schema:longitude ?long .\n}"
    )
    panel = run_in_query_ui(page, server + "sparql-ui", query)
    expect(panel.locator(".yasr table.dataTable tbody tr").first).to_be_visible()
    panel.locator(".yasr .select_citygraphMap").click()
    expect(panel.locator("#cg-results-map svg")).to_have_attribute(
        "data-places", str(len(select(server, query)))
    )
    # every place is drawn, alone or counted in a cluster
    singles = panel.locator("#cg-results-map circle.place").count()
    clustered = panel.locator("#cg-results-map .cluster").evaluate_all(
        "gs => gs.reduce((n, g) => n + Number(g.dataset.count), 0)"
    )
    assert singles + clustered == len(select(server, query))


def test_an_example_of_queries_renders_on_the_map(page: Page, server: str) -> None:
    """At least one file of queries/ answers with coordinates, and the UI draws every row."""
    mappable = [
        p for p in sorted((ROOT / "queries").glob("*.rq")) if "map" in read_query_file(p).summary
    ]
    assert mappable, "no example in queries/ is meant for the map"
    path = mappable[0]
    rows = expected_rows(path)
    assert rows
    page.goto(server + "sparql-ui")
    page.locator("#example-menu").select_option(path.name)
    panel = page.locator(".tabPanel.active")
    panel.locator(".yasqe_queryButton").click()
    expect(panel.locator(".yasr .select_citygraphMap")).to_be_visible()
    panel.locator(".yasr .select_citygraphMap").click()
    expect(panel.locator("#cg-results-map svg")).to_have_attribute("data-places", str(rows))
    # it zooms from the keyboard too
    panel.locator("#cg-results-map .zoom button").first.focus()
    page.keyboard.press("Enter")
    expect(panel.locator("#cg-results-map svg")).to_have_attribute("data-zoom", "1.50")


def test_query_results_show_prefixed_names_and_linked_labels_in_the_readers_language(
    page: Page, server: str
) -> None:
    graph = data_graph()
    beijing = rdflib.URIRef("https://w3id.org/citygraph/id/city/cn-beijing")
    chinese = next(
        str(label)
        for label in graph.objects(beijing, rdflib.RDFS.label)
        if (label.language or "").lower() == "zh-hans"
    )
    page.goto(server + "sparql-ui?lang=zh")
    page.locator("#example-menu").select_option("berlin-partners-on-the-map.rq")
    panel = page.locator(".tabPanel.active")
    panel.locator(".yasqe_queryButton").click()
    link = panel.locator(".yasr td a[data-iri$='/id/city/cn-beijing']")
    expect(link).to_have_text(chinese)
    assert link.get_attribute("href") == server + "doc/city/cn-beijing?lang=zh"
    # the prefixed name beside it, and datatypes compacted too, with prefixes the query lacks
    expect(link.locator("xpath=following-sibling::span[@class='curie']")).to_have_text(
        "city:cn-beijing"
    )
    expect(panel.locator(".yasr td sup a", has_text="xsd:decimal").first).to_be_visible()
    assert "PREFIX xsd:" not in page.evaluate("window.citygraphYasgui.getTab().getQuery()")


def test_a_label_missing_in_the_readers_language_is_marked_in_query_results(
    page: Page, server: str
) -> None:
    query = (
        "SELECT ?org WHERE { VALUES ?org { "
        "<https://w3id.org/citygraph/id/org/cn-beijing-basketball-association> } }"
    )
    panel = run_in_query_ui(page, server + "sparql-ui?lang=de", query)
    link = panel.locator(".yasr td a[data-named]")
    expect(link).to_have_attribute("lang", "en")
    expect(link).to_have_class(re.compile(r"\bfallback\b"))


def test_a_browser_get_of_sparql_without_a_query_opens_the_query_ui(
    page: Page, server: str
) -> None:
    response = page.goto(server + "sparql")
    assert response is not None
    assert response.status == 200
    expect(page.locator("#yasgui .yasqe")).to_be_visible()


# -- §4 the map -----------------------------------------------------------------------------


def test_map_draws_an_arc_for_each_of_berlins_partnerships(
    page: Page, server: str, page_log: PageLog
) -> None:
    page.goto(server + "map?city=de-berlin")
    expect(page.locator("#worldmap")).to_have_attribute("data-state", "ready")
    arcs = page.locator("#worldmap path.arc")
    assert arcs.count() == berlin_partnerships(server) > 0
    assert_only_our_server(page_log, server)


def test_map_arcs_lead_to_the_partnership_pages(page: Page, server: str) -> None:
    page.goto(server + "map?city=de-berlin")
    expect(page.locator("#worldmap")).to_have_attribute("data-state", "ready")
    hrefs = page.locator("#worldmap .arcs a").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))"
    )
    assert hrefs
    assert all(h.startswith(server + "doc/partnership/") for h in hrefs), hrefs
    # By keyboard: arcs are thin and cross each other, and keyboard users follow them too.
    page.locator("#worldmap .arcs a").first.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/doc/partnership/"))
    expect(page.locator("h1")).to_be_visible()


@pytest.mark.parametrize(
    ("query", "where"),
    [
        pytest.param("status=ended", f"?p cg:status {ENDED} .", id="status"),
        pytest.param(
            "type=friendship",
            f"?p cg:partnershipType <{VOCAB}partnership-type/friendship> .",
            id="type",
        ),
        pytest.param(
            "country=cn",
            "?p cg:partner/cg:country <https://w3id.org/citygraph/id/country/cn> .",
            id="country",
        ),
    ],
)
def test_map_filters_narrow_the_arcs(page: Page, server: str, query: str, where: str) -> None:
    page.goto(f"{server}map?city=de-berlin&{query}")
    expect(page.locator("#worldmap")).to_have_attribute("data-state", "ready")
    assert page.locator("#worldmap path.arc").count() == berlin_partnerships(server, where)


def test_map_period_filter_keeps_partnerships_that_overlap_it(page: Page, server: str) -> None:
    page.goto(server + "map?city=de-berlin")
    expect(page.locator("#worldmap")).to_have_attribute("data-state", "ready")
    everything = page.locator("#worldmap path.arc").count()
    page.fill("input[name=to]", "1990")
    page.press("input[name=to]", "Enter")
    expect(page.locator("#worldmap")).to_have_attribute("data-state", "ready")
    # Partnerships that began in 1991 or later (dates of any precision compare as text).
    later = berlin_partnerships(server, '?p cg:startDate ?start . FILTER (STR(?start) >= "1991")')
    assert page.locator("#worldmap path.arc").count() == everything - later
    assert "to=1990" in page.url


def test_map_without_a_city_or_country_shows_the_curated_graph(page: Page, server: str) -> None:
    page.goto(server + "map")
    expect(page.locator("#worldmap")).to_have_attribute("data-state", "ready")
    curated = select(
        server,
        CG + "SELECT (COUNT(DISTINCT ?p) AS ?n) WHERE { GRAPH "
        "<https://w3id.org/citygraph/graph/curated> { ?p a cg:Partnership } }",
    )
    shown = page.locator("#partnerships tbody tr").count()
    assert shown == int(curated[0]["n"]["value"]) > 0


# -- §4 the timeline ------------------------------------------------------------------------


def test_timeline_shows_a_row_per_partnership_of_berlin(
    page: Page, server: str, page_log: PageLog
) -> None:
    page.goto(server + "timeline/de-berlin")
    expect(page.locator("#timeline")).to_have_attribute("data-state", "ready")
    expect(page.locator("#timeline-heading")).to_contain_text("Berlin")
    assert page.locator("#timeline .row").count() == berlin_partnerships(server)
    dated = berlin_partnerships(server, "?p cg:startDate [] .")
    assert page.locator("#timeline rect.bar").count() == dated
    assert_only_our_server(page_log, server)


def test_map_of_a_city_links_to_its_timeline(page: Page, server: str) -> None:
    page.goto(server + "map?city=de-berlin")
    expect(page.locator("#worldmap")).to_have_attribute("data-state", "ready")
    page.locator("#timeline-link a").click()
    page.wait_for_url(re.compile(r"/timeline/de-berlin"))
    expect(page.locator("#timeline")).to_have_attribute("data-state", "ready")


def test_timeline_of_a_key_no_place_can_have_is_404(server: str) -> None:
    assert httpx.get(server + "timeline/Berlin%3E").status_code == 404


# -- languages and no JavaScript -----------------------------------------------------------


@pytest.mark.parametrize("path", ["map", "timeline/de-berlin", "sparql-ui"])
def test_language_switch_on_our_pages(page: Page, server: str, path: str) -> None:
    page.goto(f"{server}{path}?lang=en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    english = page.locator("h1").inner_text()
    page.locator("nav.lang a[hreflang=de]").click()
    expect(page.locator("html")).to_have_attribute("lang", "de")
    assert "lang=de" in page.url
    assert page.locator("h1").inner_text() != english
    page.locator("nav.lang a[hreflang=zh-Hans]").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")


def test_language_switch_on_a_city_page(page: Page, server: str) -> None:
    response = page.goto(server + "doc/city/de-berlin?lang=en")
    assert response is not None
    assert response.status == 200
    expect(page.locator("h1")).to_contain_text("Berlin")
    page.locator("nav.lang a[hreflang=zh-Hans]").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    expect(page.locator("h1")).to_contain_text("柏林")


def test_accept_language_chooses_the_page_language(browser_page_de: Page, server: str) -> None:
    browser_page_de.goto(server + "map")
    expect(browser_page_de.locator("html")).to_have_attribute("lang", "de")
    expect(browser_page_de.locator("h1")).to_have_text("Weltkarte der Partnerschaften")


@pytest.mark.parametrize("path", ["map", "timeline/de-berlin", "sparql-ui"])
def test_pages_make_sense_without_javascript(no_script_page: Page, server: str, path: str) -> None:
    no_script_page.goto(server + path)
    links = no_script_page.locator("noscript a, .noscript a")
    hrefs = links.evaluate_all("links => links.map(a => a.href)")
    assert hrefs, "no links for readers without JavaScript"
    for href in hrefs:
        assert httpx.get(href, timeout=60).status_code == 200, href

"""Finding things by any of their names, in any language (issue 13 §1)."""

from __future__ import annotations

import re

import pytest
import rdflib
from rdflib.namespace import RDFS, SKOS
from tests.backends import every_backend

from citygraph.web.linked_data.search import SearchIndex

from .support import BASE, REPO, TestClient, links_of, text_of

pytestmark = [every_backend, pytest.mark.virtuoso]

BEIJING = BASE + "id/city/cn-beijing"


def names_in_data(iri: str) -> list[str]:
    """Every label and alternative name of ``iri`` in data/ (read by rdflib, not by the app)."""
    graph = rdflib.Graph()
    for path in sorted((REPO / "data").glob("*.ttl")):
        graph.parse(path)
    subject = rdflib.URIRef(iri)
    return sorted(
        {
            str(o)
            for p in (RDFS.label, SKOS.prefLabel, SKOS.altLabel)
            for o in graph.objects(subject, p)
        }
    )


def test_beijing_has_names_in_three_languages_in_the_data() -> None:
    assert {"Peking", "Beijing", "北京"} <= set(names_in_data(BEIJING))


@pytest.mark.parametrize("name", names_in_data(BEIJING))
def test_every_name_of_beijing_finds_it_first(client: TestClient, name: str) -> None:
    response = client.get("/search", params={"q": name, "format": "json"})
    assert response.status_code == 200
    results = response.json()["results"]
    assert results, name
    assert results[0]["iri"] == BEIJING


@pytest.mark.parametrize("prefix", ["pek", "BEIJ", "北"])
def test_the_start_of_a_name_finds_it_as_one_types(client: TestClient, prefix: str) -> None:
    results = client.get("/search", params={"q": prefix, "format": "json"}).json()["results"]
    assert BEIJING in [r["iri"] for r in results]


def test_a_json_result_names_the_thing_in_the_readers_language_and_links_its_page(
    client: TestClient,
) -> None:
    response = client.get(
        "/search", params={"q": "Peking", "lang": "zh"}, headers={"Accept": "application/json"}
    )
    assert response.headers["content-type"].startswith("application/json")
    first = response.json()["results"][0]
    assert first["label"] == "北京"
    assert first["matched"] == "Peking"
    assert first["href"] == "http://testserver/doc/city/cn-beijing?lang=zh"
    assert first["kind"] == BASE + "ontology#City"


def test_a_word_inside_a_name_finds_it(client: TestClient) -> None:
    # "Berlin - Beijing": the partnership is found by its second partner's name too
    results = client.get("/search", params={"q": "beijing", "format": "json"}).json()["results"]
    assert BASE + "id/partnership/cn-beijing--de-berlin" in [r["iri"] for r in results]
    assert results[0]["iri"] == BEIJING  # the place itself comes first


def test_the_html_answer_lists_links_to_the_pages(client: TestClient) -> None:
    response = client.get("/search", params={"q": "北京"}, headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "http://testserver/doc/city/cn-beijing" in links_of(response.text)
    assert 'value="北京"' in response.text  # the box keeps what was asked


def test_nothing_found_says_so(client: TestClient) -> None:
    page = client.get("/search", params={"q": "qqqqzzzz"}, headers={"Accept": "text/html"}).text
    assert "Nothing found." in page
    assert client.get("/search", params={"q": "qqqqzzzz", "format": "json"}).json() == {
        "query": "qqqqzzzz",
        "results": [],
    }


def test_limit_bounds_the_results(client: TestClient) -> None:
    results = client.get("/search", params={"q": "b", "format": "json", "limit": "2"}).json()
    assert len(results["results"]) == 2


def test_an_unknown_format_is_a_400(client: TestClient) -> None:
    response = client.get("/search", params={"q": "b", "format": "xml"})
    assert response.status_code == 400
    assert "format must be json or html" in response.text


@pytest.mark.parametrize("path", ["/", "/doc/city/de-berlin", "/partnerships", "/search"])
def test_every_page_has_the_search_box(client: TestClient, path: str) -> None:
    page = client.get(path, headers={"Accept": "text/html"}).text
    assert 'role="search"' in page
    assert 'action="http://testserver/search"' in page
    assert "assets/js/search.js" in page


def test_the_index_is_made_once_per_data_version(client: TestClient) -> None:
    client.get("/search", params={"q": "berlin"})
    site = client.app.state.linked_data  # type: ignore[attr-defined]
    index = site.snapshot().cached("search", lambda: None)
    assert isinstance(index, SearchIndex)
    client.get("/search", params={"q": "peking"})
    assert site.snapshot().cached("search", lambda: None) is index


def _data() -> rdflib.Graph:
    graph = rdflib.Graph()
    for path in sorted((REPO / "data").glob("*.ttl")):
        graph.parse(path)
    return graph


CG = rdflib.Namespace(BASE + "ontology#")
PLACE_CLASSES = (CG.City, CG.Region, CG.District)


def test_the_home_page_says_what_the_curated_graph_covers(client: TestClient) -> None:
    data = _data()
    partnerships = set(data.subjects(rdflib.RDF.type, CG.Partnership))
    places = {s for c in PLACE_CLASSES for s in data.subjects(rdflib.RDF.type, c)}
    partners = {o for p in partnerships for o in data.objects(p, CG.partner)}
    countries = {c for p in partners for c in data.objects(p, CG.country)}
    sources = set(data.objects(None, rdflib.PROV.wasDerivedFrom))
    page = client.get("/", headers={"Accept": "text/html"}).text
    layer = re.search(r'<section class="layer"[^>]*>(.*?)</section>', page, re.S)
    assert layer is not None
    text = text_of(layer.group(1))
    assert text.startswith("Curated graph")
    for number, what in (
        (len(partnerships), "Partnerships"),
        (len(places), "Places"),
        (len(countries), "countries"),
        (len(sources), "Sources"),
    ):
        assert f"{number} {what}" in text


def test_places_without_partnerships_are_shown_as_what_they_are(client: TestClient) -> None:
    data = _data()
    partners = set(data.objects(None, CG.partner))
    places = {s for c in PLACE_CLASSES for s in data.subjects(rdflib.RDF.type, c)}
    not_partners = {str(p).rsplit("/", 1)[-1] for p in places - partners}
    assert {"de-duesseldorf", "de-duisburg", "de-krefeld", "de-trier"} <= not_partners
    page = client.get("/places", headers={"Accept": "text/html"}).text
    partner_table, other_table = re.findall(r"<tbody>(.*?)</tbody>", page, re.S)
    for key in not_partners:
        assert f'/doc/city/{key}"' in other_table, key
        assert f'/doc/city/{key}"' not in partner_table, key
    assert "venue of an event" in text_of(page)
    # every place the graph names without a partnership has a reason: an event, an organisation
    # or an agreement signed there
    for row in re.findall(r"<tr>(.*?)</tr>", other_table, re.S):
        counts = [int(n) for n in re.findall(r'<td class="num"[^>]*>(\d+)</td>', row)]
        assert sum(counts) > 0, text_of(row)


def test_a_value_being_computed_is_computed_once_for_every_caller() -> None:
    import threading
    import time

    import pyoxigraph as ox

    from citygraph.engine.snapshots import Snapshot

    snap = Snapshot(store=ox.Store(), version="v")
    calls: list[int] = []

    def slow() -> int:
        calls.append(1)
        time.sleep(0.2)
        return 42

    results: list[int] = []
    threads = [
        threading.Thread(target=lambda: results.append(snap.cached("k", slow))) for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [42, 42, 42, 42]
    assert len(calls) == 1

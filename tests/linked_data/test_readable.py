"""Pages that read like a reference work, not like triples (issue 13 §2)."""

from __future__ import annotations

import json
import re

import pyoxigraph as ox
import pytest
import rdflib
from rdflib.namespace import OWL, SKOS
from tests.backends import VIRTUOSO_WKT, every_backend, fails_on

from citygraph.documents import ThingGraph
from citygraph.web.i18n import fallback_mark
from citygraph.web.linked_data.iris import Links
from citygraph.web.linked_data.pages import build_view
from citygraph.web.linked_data.vocabulary_labels import LABELS

from .support import BASE, REPO, TestClient, text_of

pytestmark = [every_backend, pytest.mark.virtuoso]

HTML = {"Accept": "text/html"}
SCHEMA = rdflib.Namespace("https://schema.org/")
PLACES = ["de-berlin", "cn-beijing", "de-wuppertal", "us-los-angeles"]


def data_graph() -> rdflib.Graph:
    """data/ as rdflib reads it: the expected values come from here, not from the app."""
    graph = rdflib.Graph()
    for path in sorted((REPO / "data").glob("*.ttl")):
        graph.parse(path)
    return graph


DATA = data_graph()


def city(key: str) -> rdflib.URIRef:
    return rdflib.URIRef(BASE + "id/city/" + key)


@pytest.mark.parametrize("key", PLACES)
@pytest.mark.parametrize("lang", ["en", "de", "zh"])
def test_a_place_page_shows_no_blank_node_and_no_prefixed_property(
    client: TestClient, key: str, lang: str
) -> None:
    page = client.get(f"/doc/city/{key}?lang={lang}", headers=HTML).text
    text = text_of(page)
    assert "_:" not in text
    for raw in ("geo:hasGeometry", "owl:sameAs", "skos:exactMatch", "prov:wasDerivedFrom"):
        assert raw not in text, raw


@pytest.mark.parametrize(
    ("lang", "same_as", "source"),
    [("en", "Coordinates", "Sources"), ("de", "Koordinaten", "Quellen"), ("zh", "坐标", "来源")],
)
def test_a_place_shows_its_coordinates_in_the_readers_language(
    client: TestClient, lang: str, same_as: str, source: str
) -> None:
    lat = DATA.value(city("de-berlin"), SCHEMA.latitude)
    lon = DATA.value(city("de-berlin"), SCHEMA.longitude)
    page = client.get(f"/doc/city/de-berlin?lang={lang}", headers=HTML).text
    summary = text_of(re.search(r'<dl class="summary">(.*?)</dl>', page, re.S).group(1))  # type: ignore[union-attr]
    assert f"{same_as} {lat}° N, {lon}° E" in summary
    assert f'data-lat="{lat}" data-lon="{lon}"' in page  # the small map's point
    assert f">{source}</h2>" in page


def test_the_identifiers_block_names_wikidata_and_geonames(client: TestClient) -> None:
    wikidata = str(DATA.value(city("de-berlin"), OWL.sameAs)).rsplit("/", 1)[-1]
    geonames = str(DATA.value(city("de-berlin"), SKOS.exactMatch)).rstrip("/").rsplit("/", 1)[-1]
    page = client.get("/doc/city/de-berlin", headers=HTML).text
    block = re.search(r'<section[^>]*class="identifiers">(.*?)</section>', page, re.S)
    assert block is not None
    text = text_of(block.group(1))
    assert f"Wikidata {wikidata}" in text
    assert f"GeoNames {geonames}" in text
    assert f'href="https://www.wikidata.org/wiki/{wikidata}"' in block.group(1)


def test_reused_vocabulary_terms_are_named_in_german(client: TestClient) -> None:
    page = client.get("/doc/source/berlin-de-beijing-de?lang=de", headers=HTML).text
    facts = text_of(re.search(r'<table class="facts">(.*?)</table>', page, re.S).group(1))  # type: ignore[union-attr]
    assert "Herausgeber" in facts  # dcterms:publisher
    assert "Sprache" in facts  # dcterms:language
    assert "dcterms:" not in facts


def test_each_statement_shows_the_source_its_claim_names(client: TestClient) -> None:
    # data/claims.ttl: the rdf:Statement whose object is the partnership's own start date
    partnership = rdflib.URIRef(BASE + "id/partnership/de-berlin--id-jakarta")
    cg_start = rdflib.URIRef(BASE + "ontology#startDate")
    start = DATA.value(partnership, cg_start)
    statement = next(
        s
        for s in DATA.subjects(rdflib.RDF.subject, partnership)
        if DATA.value(s, rdflib.RDF.predicate) == cg_start
        and DATA.value(s, rdflib.RDF.object) == start
    )
    source = DATA.value(statement, rdflib.PROV.wasDerivedFrom)
    page = client.get("/doc/partnership/de-berlin--id-jakarta", headers=HTML).text
    facts = re.search(r'<table class="facts">(.*?)</table>', page, re.S).group(1)  # type: ignore[union-attr]
    row = next(r for r in re.findall(r"<tr>(.*?)</tr>", facts, re.S) if f">{start}<" in r)
    assert "statement-source" in row
    assert str(source).replace(BASE + "id/", "http://testserver/doc/") in row


def test_statement_sources_from_a_small_fixture() -> None:
    ex = "https://w3id.org/citygraph/id/"
    thing, claim = ex + "city/xx-a", ex + "claim/xx-a-country"
    rdf = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
    prov = "http://www.w3.org/ns/prov#"
    country = ox.NamedNode(ex + "country/xx")
    triples = [
        ox.Triple(ox.NamedNode(thing), ox.NamedNode(BASE + "ontology#country"), country),
        ox.Triple(ox.NamedNode(thing), ox.NamedNode(BASE + "ontology#isoCode"), ox.Literal("A")),
        ox.Triple(ox.NamedNode(claim), ox.NamedNode(rdf + "subject"), ox.NamedNode(thing)),
        ox.Triple(
            ox.NamedNode(claim),
            ox.NamedNode(rdf + "predicate"),
            ox.NamedNode(BASE + "ontology#country"),
        ),
        ox.Triple(ox.NamedNode(claim), ox.NamedNode(rdf + "object"), country),
        ox.Triple(
            ox.NamedNode(claim),
            ox.NamedNode(prov + "wasDerivedFrom"),
            ox.NamedNode(ex + "source/s1"),
        ),
    ]
    view = build_view(
        ThingGraph.from_triples(triples),
        thing,
        language="en",
        links=Links(BASE, "/"),
        index={},
    )
    by_property = {f.prop.iri: f for f in view.facts}
    assert [s.iri for s in by_property[BASE + "ontology#country"].sources[0]] == [ex + "source/s1"]
    assert by_property[BASE + "ontology#isoCode"].sources == ((),)  # no statement node: none
    assert view.claims == []  # one source that agrees is not a dispute


@pytest.mark.parametrize("key", ["de-berlin", "cn-beijing"])
def test_a_place_page_embeds_its_schema_org_description(client: TestClient, key: str) -> None:
    page = client.get(f"/doc/city/{key}", headers=HTML).text
    found = re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    assert found is not None
    described = json.loads(found.group(1))
    assert described["@context"] == "https://schema.org"
    assert described["@type"] == "City"
    assert described["@id"] == str(city(key))
    assert described["geo"]["latitude"] == float(DATA.value(city(key), SCHEMA.latitude))
    wikidata = str(DATA.value(city(key), OWL.sameAs)).rsplit("/", 1)[-1]
    assert f"https://www.wikidata.org/wiki/{wikidata}" in described["sameAs"]


def test_the_home_page_tells_search_engines_about_the_search(client: TestClient) -> None:
    page = client.get("/", headers=HTML).text
    found = re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    assert found is not None
    action = json.loads(found.group(1))["potentialAction"]
    assert action["target"]["urlTemplate"] == "http://testserver/search?q={query}"


def test_every_page_carries_the_configuration_its_scripts_read(client: TestClient) -> None:
    # common.js and search.js read <script id="cg-config">; place pages had none (a JS error)
    page = client.get("/doc/city/de-berlin", headers=HTML).text
    found = re.search(r'<script type="application/json" id="cg-config">(.*?)</script>', page)
    assert found is not None
    assert json.loads(found.group(1))["endpoint"] == "http://testserver/sparql"


def test_the_turtle_document_keeps_the_geometrys_point(
    client: TestClient, backend: str, request: pytest.FixtureRequest
) -> None:
    fails_on(request, backend, "virtuoso", VIRTUOSO_WKT)
    body = client.get("/doc/city/de-berlin.ttl").text
    wkt = next(
        DATA.objects(
            DATA.value(
                city("de-berlin"), rdflib.URIRef("http://www.opengis.net/ont/geosparql#hasGeometry")
            ),
            rdflib.URIRef("http://www.opengis.net/ont/geosparql#asWKT"),
        )
    )
    parsed = rdflib.Graph().parse(data=body, format="turtle")
    assert wkt in set(
        parsed.objects(None, rdflib.URIRef("http://www.opengis.net/ont/geosparql#asWKT"))
    )


def test_a_geometry_without_latitude_and_longitude_reads_as_coordinates() -> None:
    geo = "http://www.opengis.net/ont/geosparql#"
    thing, node = ox.NamedNode(BASE + "id/event/x"), ox.BlankNode("g1")
    triples = [
        ox.Triple(thing, ox.NamedNode(geo + "hasGeometry"), node),
        ox.Triple(node, ox.NamedNode(geo + "asWKT"), ox.Literal("POINT(-3.70256 40.4165)")),
    ]
    view = build_view(
        ThingGraph.from_triples(triples),
        thing.value,
        language="de",
        links=Links(BASE, "/"),
        index={},
    )
    [fact] = view.facts
    assert fact.prop.text == "Lage"
    assert [v.text for v in fact.values] == ["40.4165° N, 3.70256° W"]


def test_undated_items_of_a_partnership_are_grouped_apart(client: TestClient) -> None:
    page = client.get("/doc/partnership/cn-beijing--de-berlin", headers=HTML).text
    dated = re.search(r'<ol class="timeline">(.*?)</ol>', page, re.S)
    undated = re.search(r'<ul class="undated"[^>]*>(.*?)</ul>', page, re.S)
    assert dated is not None
    assert undated is not None
    dated_items = re.findall(r"<li>(.*?)</li>", dated.group(1), re.S)
    undated_items = re.findall(r"<li>(.*?)</li>", undated.group(1), re.S)
    assert dated_items
    assert undated_items
    assert all("<time>" in item for item in dated_items)
    assert not any("<time>" in item for item in undated_items)
    assert "undated" not in text_of(dated.group(1))


def test_a_partnership_page_names_the_signatories_of_its_agreements(client: TestClient) -> None:
    cg = rdflib.Namespace(BASE + "ontology#")
    agreement = rdflib.URIRef(BASE + "id/agreement/cn-beijing--de-east-berlin-1988-05-05-agreement")
    signatories = sorted(str(s) for s in DATA.objects(agreement, cg.signatory))
    assert len(signatories) == 2
    page = client.get("/doc/partnership/cn-beijing--de-berlin", headers=HTML).text
    item = next(
        i
        for i in re.findall(r"<li>(.*?)</li>", page, re.S)
        if "/doc/agreement/cn-beijing--de-east-berlin-1988-05-05-agreement" in i
    )
    signed = re.search(r'<span class="signatories">(.*?)</span>', item, re.S)
    assert signed is not None
    for signatory in signatories:
        assert signatory.replace(BASE + "id/", "http://testserver/doc/") in signed.group(1)


def test_a_name_missing_in_the_readers_language_falls_back_visibly(client: TestClient) -> None:
    # data/: the association has names in English only, so a German page shows it marked "en"
    key = "cn-beijing-basketball-association"
    thing = rdflib.URIRef(BASE + "id/org/" + key)
    names = [rdflib.RDFS.label, rdflib.SKOS.prefLabel, rdflib.DCTERMS.title]
    languages = {lit.language for p in names for lit in DATA.objects(thing, p)}
    assert languages == {"en"}
    page = client.get("/doc/city/cn-beijing?lang=de", headers=HTML).text
    link = re.search(rf'<a href="[^"]*/doc/org/{key}[^"]*"([^>]*)>', page)
    assert link is not None
    assert 'lang="en"' in link.group(1)
    assert 'class="fallback"' in link.group(1)
    assert "mit der Sprache dahinter" in page


def test_a_statement_shows_only_the_sources_that_give_it_and_no_bookkeeping(
    client: TestClient,
) -> None:
    """data/berlin-beijing.ttl notes that only the German page gives the start date of
    Berlin-Beijing (the English one says "April 1994"); the note itself is not shown."""
    partnership = "partnership/cn-beijing--de-berlin"
    start = DATA.value(
        rdflib.URIRef(BASE + "id/" + partnership), rdflib.URIRef(BASE + "ontology#startDate")
    )
    page = client.get(f"/doc/{partnership}", headers=HTML).text
    facts = re.search(r'<table class="facts">(.*?)</table>', page, re.S).group(1)  # type: ignore[union-attr]
    row = next(r for r in re.findall(r"<tr>(.*?)</tr>", facts, re.S) if f">{start}<" in r)
    assert "/doc/source/berlin-de-beijing-de" in row
    assert "/doc/source/berlin-de-beijing-en" not in row
    assert "sourceNote" not in facts


def test_the_style_sheets_fallback_marks_are_the_interface_texts() -> None:
    """The marks the style sheet writes after class="fallback" (HTML) and the ones the pages
    write where no markup can carry them (options, SVG titles) read the same."""
    css = (REPO / "src" / "citygraph" / "web" / "static" / "css" / "citygraph.css").read_text(
        encoding="utf-8"
    )
    rules = re.findall(
        r'html\[lang="([^"]+)"\] \.fallback:lang\(([a-z]+)\)::after \{ content: "([^"]*)"; \}', css
    )
    assert len(rules) == 6  # each of en, de, zh pages, with names in each other language
    for page_lang, name_lang, mark in rules:
        language = page_lang.split("-")[0].lower()
        assert mark == fallback_mark(name_lang, language), (page_lang, name_lang)


#: RDF list cells: pages show the list, never its rdf:first/rdf:rest cells.
LIST_CELLS = {
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#first",
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#rest",
}


def test_every_property_the_data_uses_has_a_name_in_each_language(store: ox.Store) -> None:
    """A page never falls back to a prefixed name for a property (issue 13 §2): each property
    of the build is labelled in the ontology (de, en, zh-Hans) or in the table of reused terms."""
    labelled: dict[str, set[str]] = {}
    for row in store.query(
        "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
        "SELECT ?p ?label WHERE { GRAPH ?g { ?p rdfs:label ?label } }"
    ):
        labelled.setdefault(row["p"].value, set()).add((row["label"].language or "").lower())
    for iri, names in LABELS.items():
        labelled.setdefault(iri, set()).update(names)
    used = {
        row["p"].value for row in store.query("SELECT DISTINCT ?p WHERE { GRAPH ?g { ?s ?p ?o } }")
    }
    unnamed = {
        iri: sorted({"en", "de", "zh-hans"} - labelled.get(iri, set()))
        for iri in used - LIST_CELLS
        if {"en", "de", "zh-hans"} - labelled.get(iri, set())
    }
    assert not unnamed

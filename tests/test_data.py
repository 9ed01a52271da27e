"""Checks a maintainer of the curated data (data/*.ttl) relies on.

The research table lives outside the repository, in ../shared/facts/ (CI always has it); the
tests that need it fail, never skip, when it is missing.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import OWL, RDF, SKOS, Graph, Literal, Namespace, URIRef

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
VOCAB_DIR = ROOT / "ontology" / "vocab"
FACTS = Path(__file__).resolve().parents[2] / "shared" / "facts"
CITIES_CSV = FACTS / "cities.csv"

DATA_FILES = sorted(DATA.glob("*.ttl"))

CG = Namespace("https://w3id.org/citygraph/ontology#")
ID = "https://w3id.org/citygraph/id/"
VOCAB = "https://w3id.org/citygraph/vocab/"
CITY = Namespace(ID + "city/")
PLACE_NAMESPACES = (ID + "city/", ID + "region/", ID + "district/")
PROV = Namespace("http://www.w3.org/ns/prov#")
ORG = Namespace("http://www.w3.org/ns/org#")
WD = "http://www.wikidata.org/entity/"
GEONAMES = re.compile(r"^https://sws\.geonames\.org/(\d+)/$")
XSD = "http://www.w3.org/2001/XMLSchema#"
DATE_FORMS = {
    XSD + "date": re.compile(r"^\d{4}-\d{2}-\d{2}$"),
    XSD + "gYearMonth": re.compile(r"^\d{4}-\d{2}$"),
    XSD + "gYear": re.compile(r"^\d{4}$"),
}
DATE_PROPERTIES = (CG.startDate, CG.endDate, CG.statusSince, CG.signedOn, CG.retrieved)

PREFIXES = """
PREFIX cg: <https://w3id.org/citygraph/ontology#>
PREFIX city: <https://w3id.org/citygraph/id/city/>
"""

# Berlin's partnerships of type "partnership" in force on a day: started on or before it and not
# ended by then. Dates have mixed precision (date, gYearMonth, gYear) and Oxigraph does not
# compare a gYear with a date, so the lexical forms are compared (ISO 8601 sorts as text; a
# year or month counts as on or before any day it contains).
BERLIN_AS_OF = (
    PREFIXES
    + """
SELECT (COUNT(DISTINCT ?p) AS ?n) WHERE {
  ?p a cg:Partnership ;
     cg:partner city:de-berlin ;
     cg:partnershipType <https://w3id.org/citygraph/vocab/partnership-type/partnership> ;
     cg:status ?status ;
     cg:startDate ?start .
  FILTER (STR(?start) <= ?day)
  FILTER (?status != <https://w3id.org/citygraph/vocab/status/ended>)
  FILTER NOT EXISTS { ?p cg:endDate ?end . FILTER (STR(?end) <= ?day) }
}"""
)


@cache
def data_graph() -> Graph:
    graph = Graph()
    for path in DATA_FILES:
        graph.parse(path, format="turtle")
    return graph


@cache
def data_store() -> ox.Store:
    store = ox.Store()
    for path in DATA_FILES:
        store.load(path=path, format=ox.RdfFormat.TURTLE)
    return store


def research_rows() -> list[dict[str, str]]:
    if not CITIES_CSV.is_file():
        pytest.fail(
            f"research table not found: {CITIES_CSV} (the tests expect the shared facts "
            "next to the repository, as in CI: ../shared/facts/cities.csv)"
        )
    with CITIES_CSV.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def typed_nodes(graph: Graph) -> Iterator[tuple[URIRef, URIRef]]:
    for node, cls in graph.subject_objects(RDF.type):
        if isinstance(node, URIRef) and isinstance(cls, URIRef):
            yield node, cls


def place_key(place: URIRef) -> str:
    for namespace in PLACE_NAMESPACES:
        if str(place).startswith(namespace):
            return str(place)[len(namespace) :]
    raise AssertionError(f"{place} is not in a place namespace")


def test_there_is_data() -> None:
    assert DATA_FILES, f"no Turtle files in {DATA}"


@pytest.mark.parametrize("path", DATA_FILES, ids=lambda p: p.name)
def test_file_parses_with_rdflib(path: Path) -> None:
    graph = Graph()
    graph.parse(path, format="turtle")
    assert len(graph) > 0


@pytest.mark.parametrize("path", DATA_FILES, ids=lambda p: p.name)
def test_file_parses_with_pyoxigraph(path: Path) -> None:
    store = ox.Store()
    store.load(path=path, format=ox.RdfFormat.TURTLE)
    assert len(store) > 0


def test_fact_bearing_nodes_have_a_source() -> None:
    graph = data_graph()
    exempt = {CG.Source, CG.Country}
    missing = sorted(
        str(node)
        for node, cls in typed_nodes(graph)
        if (str(cls).startswith(str(CG)) or cls in (ORG.Organization, RDF.Statement))
        and cls not in exempt
        and (node, PROV.wasDerivedFrom, None) not in graph
    )
    assert not missing, f"without prov:wasDerivedFrom: {missing}"


def test_every_cited_source_is_a_source() -> None:
    graph = data_graph()
    bad = sorted(
        {
            str(s)
            for s in graph.objects(None, PROV.wasDerivedFrom)
            if (s, RDF.type, CG.Source) not in graph
        }
    )
    assert not bad, f"cited but not described as cg:Source: {bad}"


def test_every_citygraph_resource_used_is_described() -> None:
    graph = data_graph()
    typed = set(graph.subjects(RDF.type, None))
    used = {o for o in graph.objects() if isinstance(o, URIRef) and str(o).startswith(ID)}
    assert not sorted(used - typed), f"used but not described: {sorted(map(str, used - typed))}"


def test_no_twinned_with_by_hand() -> None:
    assert (None, CG.twinnedWith, None) not in data_graph(), (
        "cg:twinnedWith is derived by the build; never assert it in data/"
    )


def test_concepts_exist_in_the_vocabularies() -> None:
    vocab = Graph()
    for path in sorted(VOCAB_DIR.glob("*.ttl")):
        vocab.parse(path, format="turtle")
    concepts = set(vocab.subjects(RDF.type, SKOS.Concept))
    used = {o for o in data_graph().objects() if str(o).startswith(VOCAB)}
    unknown = sorted(str(c) for c in used - concepts)
    assert not unknown, f"not a concept of ontology/vocab/: {unknown}"


def test_dates_carry_their_precision() -> None:
    bad = []
    for prop in DATE_PROPERTIES:
        for node, value in data_graph().subject_objects(prop):
            form = DATE_FORMS.get(str(value.datatype)) if isinstance(value, Literal) else None
            if form is None or not form.match(str(value)):
                bad.append(f"{node} {prop} {value!r}")
    assert not bad, "dates must be xsd:date, xsd:gYearMonth or xsd:gYear:\n" + "\n".join(bad)


def test_partnerships_have_two_distinct_partners() -> None:
    graph = data_graph()
    partnerships = set(graph.subjects(RDF.type, CG.Partnership))
    assert partnerships
    bad = {}
    for p in partnerships:
        partners = set(graph.objects(p, CG.partner))
        if len(partners) != 2:
            bad[str(p)] = sorted(map(str, partners))
    assert not bad, f"a partnership has exactly two distinct partners: {bad}"


def test_partnership_iri_is_the_sorted_pair_of_keys() -> None:
    graph = data_graph()
    bad = []
    for p in graph.subjects(RDF.type, CG.Partnership):
        keys = sorted(place_key(x) for x in graph.objects(p, CG.partner))
        if str(p) != ID + "partnership/" + "--".join(keys):
            bad.append(str(p))
    assert not bad, f"IRI is not partnership:{{key}}--{{key}} (sorted): {bad}"


def test_wikidata_links_of_places_are_confirmed() -> None:
    """owl:sameAs to Wikidata only for IDs graded A or B in the research table."""
    confirmed: dict[str, set[str]] = {}
    for row in research_rows():
        qid = row["wikidata_qid"].strip()
        # A cell with a note ("Q239 (City of Brussels; region item unconfirmed)") is not a
        # confirmed ID of the row's place.
        if row["qid_confidence"] in {"A", "B"} and re.fullmatch(r"Q\d+", qid):
            confirmed[qid] = set(re.findall(r"\d+", row["geonames_id"]))
    graph = data_graph()
    places = {s for s, c in typed_nodes(graph) if c in (CG.City, CG.Region, CG.District)}
    bad = []
    for place in places:
        for target in graph.objects(place, OWL.sameAs):
            if not str(target).startswith(WD):
                continue
            qid = str(target)[len(WD) :]
            if qid not in confirmed:
                bad.append(f"{place}: {qid} is not an A/B-graded ID of the research table")
                continue
            geonames = {
                m.group(1)
                for m in map(GEONAMES.match, map(str, graph.objects(place, SKOS.exactMatch)))
                if m
            }
            if geonames and confirmed[qid] and not geonames & confirmed[qid]:
                bad.append(f"{place}: {qid} belongs to a row with other GeoNames IDs")
    assert not bad, "\n".join(bad)


def test_berlin_city_is_not_the_state_record() -> None:
    links = set(map(str, data_graph().objects(CITY["de-berlin"], SKOS.exactMatch)))
    assert "https://sws.geonames.org/2950159/" in links
    assert "https://sws.geonames.org/2950157/" not in links


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        ("2025-01-01", 18),
        ("2025-05-04", 18),
        ("2025-05-05", 19),
        ("2026-01-01", 19),
    ],
)
def test_berlin_partnerships_as_of(day: str, expected: int) -> None:
    query = BERLIN_AS_OF.replace("?day", f'"{day}"')
    result = data_store().query(query)
    assert isinstance(result, ox.QuerySolutions)
    (row,) = list(result)
    count = row["n"]
    assert isinstance(count, ox.Literal)
    assert int(count.value) == expected

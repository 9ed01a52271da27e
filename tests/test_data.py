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
from rdflib import OWL, RDF, RDFS, SKOS, Graph, Literal, Namespace, URIRef

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
  FILTER (?status NOT IN (<https://w3id.org/citygraph/vocab/status/ended>, ?excluded))
  FILTER NOT EXISTS { ?p cg:endDate ?end . FILTER (STR(?end) <= ?day) }
}"""
)
UNCONFIRMED = "<https://w3id.org/citygraph/vocab/status/unconfirmed>"


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


@pytest.mark.parametrize("derived", ["twinnedWith", "startYear", "searchKey"])
def test_no_derived_property_by_hand(derived: str) -> None:
    assert (None, CG[derived], None) not in data_graph(), (
        f"cg:{derived} is derived by the build; never assert it in data/"
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
    ("day", "confirmed_only", "expected"),
    [
        ("2025-01-01", False, 18),
        ("2025-05-04", False, 18),
        ("2025-05-05", False, 19),
        ("2026-01-01", False, 19),
        # Tel Aviv-Yafo's signing was scheduled, never confirmed by a later report.
        ("2025-05-05", True, 18),
        ("2026-01-01", True, 18),
    ],
)
def test_berlin_partnerships_as_of(day: str, confirmed_only: bool, expected: int) -> None:
    excluded = UNCONFIRMED if confirmed_only else "<https://w3id.org/citygraph/vocab/status/ended>"
    query = BERLIN_AS_OF.replace("?day", f'"{day}"').replace("?excluded", excluded)
    result = data_store().query(query)
    assert isinstance(result, ox.QuerySolutions)
    (row,) = list(result)
    count = row["n"]
    assert isinstance(count, ox.Literal)
    assert int(count.value) == expected


# --- Statement-level provenance (docs/model.md, "Who says this?") ---------------------------

# A triple about a curated thing (not a source, a claim or a country) that the build must reify.
REIFIED = """
PREFIX cg: <https://w3id.org/citygraph/ontology#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
SELECT ?s ?p ?o WHERE {
  GRAPH <https://w3id.org/citygraph/graph/curated> {
    ?s ?p ?o .
    FILTER (isIRI(?s) && !isBlank(?o) && ?p NOT IN (prov:wasDerivedFrom, cg:sourceNote))
    FILTER (STRSTARTS(STR(?s), "https://w3id.org/citygraph/id/"))
    FILTER NOT EXISTS { ?s a ?kind . FILTER (?kind IN (cg:Source, cg:Country, rdf:Statement)) }
  }
  FILTER NOT EXISTS {
    GRAPH <https://w3id.org/citygraph/graph/derived> {
      ?statement rdf:subject ?s ; rdf:predicate ?p ; rdf:object ?o ; prov:wasDerivedFrom ?source .
    }
    GRAPH <https://w3id.org/citygraph/graph/curated> { ?source a cg:Source }
  }
}"""


@cache
def derived_store() -> ox.Store:
    """The curated data in graph:curated with the build's derivations run on it."""
    from citygraph.build import derive
    from citygraph.namespaces import GRAPH_CURATED

    store = ox.Store()
    for path in DATA_FILES:
        store.load(path=path, format=ox.RdfFormat.TURTLE, to_graph=ox.NamedNode(GRAPH_CURATED))
    derive(store)
    return store


def test_every_curated_statement_names_its_sources() -> None:
    result = derived_store().query(REIFIED)
    assert isinstance(result, ox.QuerySolutions)
    missing = [f"{row['s'].value} {row['p'].value} {row['o']}" for row in result]
    assert not missing, "statements without an rdf:Statement naming a cg:Source:\n" + "\n".join(
        missing[:20]
    )


def test_source_notes_cover_properties_the_node_has() -> None:
    """A cg:sourceNote names properties its node really has, and a source for them."""
    graph = data_graph()
    bad = []
    for node, note in graph.subject_objects(CG.sourceNote):
        properties = list(graph.objects(note, CG.aboutProperty))
        if not properties or (note, CG.statedIn, None) not in graph:
            bad.append(f"{node}: a note needs cg:aboutProperty and cg:statedIn")
        bad += [
            f"{node}: note about {prop}, which the node does not have"
            for prop in properties
            if (node, prop, None) not in graph
        ]
        bad += [
            f"{node}: cg:statedIn {source} is not a cg:Source"
            for source in graph.objects(note, CG.statedIn)
            if (source, RDF.type, CG.Source) not in graph
        ]
    assert not bad, "\n".join(bad)


def test_a_known_status_names_the_source_that_gives_it() -> None:
    """Unknown is a status: any other needs a cg:sourceNote naming who gives it."""
    graph = data_graph()
    unknown = URIRef(VOCAB + "status/unknown")
    bad = sorted(
        str(p)
        for p, status in graph.subject_objects(CG.status)
        if status != unknown
        and not any(
            (note, CG.aboutProperty, CG.status) in graph for note in graph.objects(p, CG.sourceNote)
        )
    )
    assert not bad, f"status other than unknown without a cg:sourceNote for cg:status: {bad}"


SCHEMA = Namespace("https://schema.org/")
DCTERMS = Namespace("http://purl.org/dc/terms/")
EVENT = Namespace(ID + "event/")
AGREEMENT = Namespace(ID + "agreement/")


def test_a_scheduled_signing_leaves_its_partnership_unconfirmed() -> None:
    graph = data_graph()
    signing = URIRef(VOCAB + "event-type/signing")
    confirmed = {URIRef(VOCAB + "status/" + s) for s in ("active", "dormant", "ended")}
    bad = [
        str(partnership)
        for event in graph.subjects(CG.eventType, signing)
        if (event, SCHEMA.eventStatus, SCHEMA.EventScheduled) in graph
        for partnership in graph.objects(event, CG.inPartnership)
        if set(graph.objects(partnership, CG.status)) & confirmed
    ]
    assert not bad, f"confirmed although their signing is only scheduled: {bad}"


@pytest.mark.parametrize(
    ("node", "prop"),
    [
        # The page gives the occasion (25th anniversary), not the year: 1994 + 25 is worked out.
        (EVENT["alba-berlin-tournament-german-school-beijing"], CG.startDate),
        # The pages say "memorandum on exchange programmes", nothing about its themes.
        (AGREEMENT["cn-beijing--de-berlin-1994-04-05-memorandum"], CG.theme),
    ],
    ids=["alba-tournament-year", "memorandum-themes"],
)
def test_values_not_in_the_source_stay_out(node: URIRef, prop: URIRef) -> None:
    assert (node, prop, None) not in data_graph()


def test_the_pandas_are_not_recorded_as_a_loan() -> None:
    """The page says the pandas came from China, not on what terms."""
    loan = URIRef(VOCAB + "event-type/animal-loan")
    assert (EVENT["berlin-zoo-pandas"], CG.eventType, loan) not in data_graph()


def test_the_2024_anniversary_programme_is_planned_not_held() -> None:
    programme = EVENT["berlin-beijing-30th-anniversary-2024"]
    assert (programme, SCHEMA.eventStatus, SCHEMA.EventScheduled) in data_graph()


def test_no_unchecked_first_claim() -> None:
    """'The first West-East German town partnership' could not be checked (docs/model.md)."""
    bad = [
        f"{node}: {text}"
        for node, text in data_graph().subject_objects(RDFS.comment)
        if re.search(r"\bthe first (town )?partnership between", str(text), re.I)
    ]
    assert not bad, bad


def test_east_berlin_is_a_historical_place_of_the_gdr() -> None:
    graph = data_graph()
    east = CITY["de-east-berlin"]
    assert set(graph.objects(east, CG.country)) == {URIRef(ID + "country/dd")}
    assert (east, DCTERMS.isReplacedBy, CITY["de-berlin"]) in graph
    # Identifiers only where confirmed: none is for the historical place.
    assert (east, OWL.sameAs, None) not in graph
    assert (east, SKOS.exactMatch, None) not in graph


# Curated things left without a zh-Hans label because no established Chinese name is certain
# (docs/model.md lists them): adding a label means taking it off this list.
WITHOUT_ZH_HANS = {
    "district/de-berlin-tempelhof-schoeneberg",
    "partnership/de-berlin-tempelhof-schoeneberg--de-wuppertal",
    "org/de-berlin-senate",
    "org/de-berlin-senate-chancellery",
    "org/de-berlin-senate-economics",
    "org/de-berlin-business-desk-china",
    "org/de-east-berlin-magistrat",
    "org/de-berlin-football-association",
    "org/de-berlin-gaerten-der-welt",
    "org/cn-beijing-basketball-association",
    "org/cn-german-school-beijing",
    "org/de-wuppertal-c3",
    "org/de-engagement-global",
    "org/de-skew",
    "org/de-krefeld-wirtschaftsfoerderung",
    "org/de-krefeld-wirtschaftsfoerderung-international-desk",
    "event/berlin-business-desk-china-opening",
    "event/alba-berlin-tournament-german-school-beijing",
    "event/micro-era-exhibition",
    "event/ring-des-nibelungen-peking-opera-premiere",
    "event/round-table-china",
    "event/round-table-china-4",
    "event/round-table-china-5",
    "event/round-table-china-6",
}


def test_curated_things_have_a_simplified_chinese_label() -> None:
    graph = data_graph()
    classes = (CG.City, CG.Region, CG.District, CG.Country, CG.Partnership, ORG.Organization)
    things = {
        n for cls in (*classes, CG.Event, CG.EventSeries) for n in graph.subjects(RDF.type, cls)
    }
    without = {
        str(n)[len(ID) :]
        for n in things
        if not any(
            isinstance(label, Literal) and label.language == "zh-Hans"
            for label in graph.objects(n, RDFS.label)
        )
    }
    assert without == WITHOUT_ZH_HANS, (
        f"new without zh-Hans: {sorted(without - WITHOUT_ZH_HANS)}; "
        f"labelled now, take off the list: {sorted(WITHOUT_ZH_HANS - without)}"
    )


def test_no_east_berlin_madrid_predecessor_without_a_source() -> None:
    """Only the research notes named it, with no date, instrument or source (docs/model.md)."""
    graph = data_graph()
    madrid = CITY["es-madrid"]
    east_berlin = CITY["de-east-berlin"]
    assert not [
        p for p in graph.subjects(CG.partner, madrid) if (p, CG.partner, east_berlin) in graph
    ]

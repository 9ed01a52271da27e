"""The ontology (`ontology/citygraph.ttl`) and the concept schemes (`ontology/vocab/*.ttl`).

These tests check the repository's own artefacts against the contract in `docs/model.md`:
every term is declared, labelled in de, en and zh-Hans, defined in en and tied to the ontology;
every concept scheme holds exactly the keys the model lists.
"""

import re
from pathlib import Path

import pyoxigraph
import pytest
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS, XSD

ROOT = Path(__file__).resolve().parents[1]
ONTOLOGY_FILE = ROOT / "ontology" / "citygraph.ttl"
VOCAB_DIR = ROOT / "ontology" / "vocab"
MODEL_FILE = ROOT / "docs" / "model.md"

CG = Namespace("https://w3id.org/citygraph/ontology#")
CGV = "https://w3id.org/citygraph/vocab/"
VANN = Namespace("http://purl.org/vocab/vann/")
ONTOLOGY = URIRef("https://w3id.org/citygraph/ontology")
CC_BY_4 = URIRef("https://creativecommons.org/licenses/by/4.0/")
EU_DATA_THEME = "http://publications.europa.eu/resource/authority/data-theme/"
# The 13 codes of the EU data-theme authority table; nothing else may be linked.
EU_DATA_THEME_CODES = frozenset(
    {
        "AGRI",
        "ECON",
        "EDUC",
        "ENER",
        "ENVI",
        "GOVE",
        "HEAL",
        "INTR",
        "JUST",
        "REGI",
        "SOCI",
        "TECH",
        "TRAN",
    }
)

LANGUAGES = ("de", "en", "zh-Hans")
SCHEMES = (
    "agreement-type",
    "event-type",
    "exchange-form",
    "organisation-type",
    "partnership-type",
    "principle",
    "role",
    "status",
    "theme",
)
TERM_TYPES = frozenset({OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty})
# Namespaces whose terms OWL 2 DL treats as built in (they need no declaration here).
BUILT_IN = (str(RDF), str(RDFS), str(OWL), str(XSD))


def _parse(path: Path) -> Graph:
    return Graph().parse(path, format="turtle")


def _model_text() -> str:
    return MODEL_FILE.read_text(encoding="utf-8")


def _model_schemes() -> dict[str, list[str]]:
    """The concept keys per scheme, as listed under "Concept schemes" in docs/model.md."""
    section = _model_text().split("## Concept schemes", 1)[1]
    schemes: dict[str, list[str]] = {}
    for bullet in re.split(r"^- ", section, flags=re.MULTILINE)[1:]:
        name = re.match(r"`cgv:([a-z-]+)`:", bullet)
        if name:
            schemes[name.group(1)] = re.findall(r"`([a-z][a-z-]*)`", bullet[name.end() :])
    return schemes


def _cg_terms(graph: Graph) -> set[URIRef]:
    return {s for s in graph.subjects() if isinstance(s, URIRef) and str(s).startswith(str(CG))}


def _languages(graph: Graph, subject: URIRef, predicate: URIRef) -> list[str | None]:
    return sorted(
        (o.language for o in graph.objects(subject, predicate) if isinstance(o, Literal)),
        key=str,
    )


@pytest.fixture
def ontology() -> Graph:
    return _parse(ONTOLOGY_FILE)


@pytest.fixture
def vocab() -> Graph:
    graph = Graph()
    for scheme in SCHEMES:
        graph.parse(VOCAB_DIR / f"{scheme}.ttl", format="turtle")
    return graph


# --- files ------------------------------------------------------------------------------------


def test_vocab_directory_holds_one_file_per_scheme() -> None:
    assert sorted(p.stem for p in VOCAB_DIR.glob("*.ttl")) == sorted(SCHEMES)


def test_model_lists_the_same_schemes() -> None:
    assert sorted(_model_schemes()) == sorted(SCHEMES)


@pytest.mark.parametrize(
    "path",
    [ONTOLOGY_FILE, *(VOCAB_DIR / f"{scheme}.ttl" for scheme in SCHEMES)],
    ids=lambda p: p.relative_to(ROOT).as_posix(),
)
def test_file_parses_with_rdflib_and_pyoxigraph_alike(path: Path) -> None:
    rdflib_triples = len(_parse(path))
    oxigraph_triples = list(pyoxigraph.parse(path=path, format=pyoxigraph.RdfFormat.TURTLE))
    assert rdflib_triples > 0
    assert len(oxigraph_triples) == rdflib_triples


# --- ontology header --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("predicate", "expected"),
    [
        pytest.param(OWL.versionIRI, URIRef(f"{ONTOLOGY}/0.1.0"), id="versionIRI"),
        pytest.param(OWL.versionInfo, Literal("0.1.0"), id="versionInfo"),
        pytest.param(DCTERMS.license, CC_BY_4, id="license"),
        pytest.param(DCTERMS.creator, Literal("citygraph maintainers"), id="creator"),
        pytest.param(DCTERMS.created, Literal("2026-11-27", datatype=XSD.date), id="created"),
        pytest.param(DCTERMS.modified, Literal("2026-11-27", datatype=XSD.date), id="modified"),
        pytest.param(VANN.preferredNamespacePrefix, Literal("cg"), id="namespacePrefix"),
        pytest.param(VANN.preferredNamespaceUri, Literal(str(CG)), id="namespaceUri"),
    ],
)
def test_header_has(ontology: Graph, predicate: URIRef, expected: URIRef | Literal) -> None:
    assert (ONTOLOGY, RDF.type, OWL.Ontology) in ontology
    assert list(ontology.objects(ONTOLOGY, predicate)) == [expected]


@pytest.mark.parametrize(
    "predicate", [DCTERMS.title, DCTERMS.description], ids=["title", "description"]
)
def test_header_is_described_in_de_and_en(ontology: Graph, predicate: URIRef) -> None:
    assert _languages(ontology, ONTOLOGY, predicate) == ["de", "en"]


def test_there_is_one_ontology(ontology: Graph) -> None:
    assert list(ontology.subjects(RDF.type, OWL.Ontology)) == [ONTOLOGY]


# --- ontology terms ---------------------------------------------------------------------------


def test_every_term_has_exactly_one_kind(ontology: Graph) -> None:
    wrong = {
        term.n3(ontology.namespace_manager): kinds
        for term in _cg_terms(ontology)
        if len(kinds := set(ontology.objects(term, RDF.type)) & TERM_TYPES) != 1
    }
    assert not wrong


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_term_has_one_label_in(ontology: Graph, language: str) -> None:
    missing = sorted(
        term.n3(ontology.namespace_manager)
        for term in _cg_terms(ontology)
        if _languages(ontology, term, RDFS.label).count(language) != 1
    )
    assert not missing


def test_every_term_has_one_english_definition(ontology: Graph) -> None:
    missing = sorted(
        term.n3(ontology.namespace_manager)
        for term in _cg_terms(ontology)
        if _languages(ontology, term, SKOS.definition) != ["en"]
    )
    assert not missing


def test_every_term_is_defined_by_the_ontology(ontology: Graph) -> None:
    missing = sorted(
        term.n3(ontology.namespace_manager)
        for term in _cg_terms(ontology)
        if list(ontology.objects(term, RDFS.isDefinedBy)) != [ONTOLOGY]
    )
    assert not missing


def test_every_cg_term_in_the_model_tables_is_declared(ontology: Graph) -> None:
    table_rows = [line for line in _model_text().splitlines() if line.startswith("|")]
    used = {CG[name] for row in table_rows for name in re.findall(r"\bcg:([A-Za-z]+)", row)}
    assert used, "no cg: terms found in the tables of docs/model.md"
    undeclared = sorted(str(term) for term in used if not set(ontology.objects(term, RDF.type)))
    assert not undeclared


def test_twinned_with_is_a_symmetric_shortcut_matched_to_wikidata_and_dbpedia(
    ontology: Graph,
) -> None:
    assert (CG.twinnedWith, RDF.type, OWL.SymmetricProperty) in ontology
    assert set(ontology.objects(CG.twinnedWith, SKOS.closeMatch)) == {
        URIRef("http://www.wikidata.org/prop/direct/P190"),
        URIRef("http://dbpedia.org/ontology/twinCity"),
    }
    definition = str(ontology.value(CG.twinnedWith, SKOS.definition))
    assert "derived at build time" in definition
    assert "cg:Partnership" in definition


@pytest.mark.parametrize(
    ("cls", "superclass"),
    [
        (CG.City, CG.Place),
        (CG.Region, CG.Place),
        (CG.District, CG.Place),
        (CG.EventSeries, CG.Event),
        (CG.Partnership, URIRef("http://www.w3.org/ns/prov#Entity")),
        (CG.Source, URIRef("http://xmlns.com/foaf/0.1/Document")),
    ],
    ids=lambda term: str(term).rsplit("#", 1)[-1].rsplit("/", 1)[-1],
)
def test_class_has_superclass(ontology: Graph, cls: URIRef, superclass: URIRef) -> None:
    assert (cls, RDFS.subClassOf, superclass) in ontology


def test_annotation_properties_are_declared(ontology: Graph) -> None:
    """OWL 2 DL: a reused property that is not built in must be declared (structural spec 5.8)."""
    undeclared = sorted(
        str(p)
        for p in set(ontology.predicates())
        if not str(p).startswith(BUILT_IN)
        and not (str(p).startswith(str(CG)) or (p, RDF.type, OWL.AnnotationProperty) in ontology)
    )
    assert not undeclared


def test_classes_used_in_axioms_are_declared(ontology: Graph) -> None:
    """OWL 2 DL: every named class in subClassOf, domain, range or unionOf is declared."""
    used: set[URIRef] = set()
    for predicate in (RDFS.subClassOf, RDFS.domain, RDFS.range):
        used |= {o for o in ontology.objects(None, predicate) if isinstance(o, URIRef)}
    for union in ontology.objects(None, OWL.unionOf):
        used |= {m for m in ontology.items(union) if isinstance(m, URIRef)}
    undeclared = sorted(
        str(term)
        for term in used
        if not str(term).startswith(str(XSD)) and (term, RDF.type, OWL.Class) not in ontology
    )
    assert not undeclared


def test_date_properties_have_no_xsd_range(ontology: Graph) -> None:
    """Dates carry their precision (xsd:date, gYearMonth, gYear): one xsd range would lie."""
    for term in (CG.statusSince, CG.startDate, CG.endDate, CG.signedOn, CG.retrieved):
        assert ontology.value(term, RDFS.range) is None, term


def test_union_domains_are_class_expressions(ontology: Graph) -> None:
    unions = list(ontology.subjects(OWL.unionOf, None))
    assert unions
    assert all(isinstance(u, BNode) and (u, RDF.type, OWL.Class) in ontology for u in unions)


# --- concept schemes --------------------------------------------------------------------------


@pytest.mark.parametrize("scheme", SCHEMES)
def test_scheme_has_exactly_the_keys_in_the_model(vocab: Graph, scheme: str) -> None:
    iri = URIRef(CGV + scheme)
    assert (iri, RDF.type, SKOS.ConceptScheme) in vocab
    concepts = {str(c) for c in vocab.subjects(SKOS.inScheme, iri)}
    expected = {f"{CGV}{scheme}/{key}" for key in _model_schemes()[scheme]}
    assert concepts == expected


@pytest.mark.parametrize("scheme", SCHEMES)
def test_scheme_has_titles_and_a_licence(vocab: Graph, scheme: str) -> None:
    iri = URIRef(CGV + scheme)
    assert _languages(vocab, iri, DCTERMS.title) == sorted(LANGUAGES)
    assert list(vocab.objects(iri, DCTERMS.license)) == [CC_BY_4]


@pytest.mark.parametrize("scheme", SCHEMES)
def test_top_concepts_point_both_ways(vocab: Graph, scheme: str) -> None:
    iri = URIRef(CGV + scheme)
    assert set(vocab.objects(iri, SKOS.hasTopConcept)) == set(
        vocab.subjects(SKOS.topConceptOf, iri)
    )
    assert set(vocab.subjects(SKOS.topConceptOf, iri)) == set(vocab.subjects(SKOS.inScheme, iri))


def test_every_concept_has_one_declared_scheme(vocab: Graph) -> None:
    schemes = set(vocab.subjects(RDF.type, SKOS.ConceptScheme))
    wrong = sorted(
        str(concept)
        for concept in vocab.subjects(RDF.type, SKOS.Concept)
        if len(in_schemes := list(vocab.objects(concept, SKOS.inScheme))) != 1
        or in_schemes[0] not in schemes
        or not str(concept).startswith(f"{in_schemes[0]}/")
    )
    assert not wrong


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_concept_has_one_pref_label_in(vocab: Graph, language: str) -> None:
    missing = sorted(
        str(concept)
        for concept in vocab.subjects(RDF.type, SKOS.Concept)
        if _languages(vocab, concept, SKOS.prefLabel).count(language) != 1
    )
    assert not missing


def test_every_concept_has_one_english_definition(vocab: Graph) -> None:
    missing = sorted(
        str(concept)
        for concept in vocab.subjects(RDF.type, SKOS.Concept)
        if _languages(vocab, concept, SKOS.definition) != ["en"]
    )
    assert not missing


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("language", LANGUAGES)
def test_pref_labels_are_unique_within_a_scheme(vocab: Graph, scheme: str, language: str) -> None:
    labels = [
        str(label)
        for concept in vocab.subjects(SKOS.inScheme, URIRef(CGV + scheme))
        for label in vocab.objects(concept, SKOS.prefLabel)
        if isinstance(label, Literal) and label.language == language
    ]
    duplicates = sorted({label for label in labels if labels.count(label) > 1})
    assert not duplicates


def test_partnership_types_carry_the_rgre_names_in_german(vocab: Graph) -> None:
    expected = {
        "partnership": "Partnerschaft",
        "friendship": "Freundschaft",
        "contact": "Kontakt",
        "project-partnership": "Projektpartnerschaft",
        "cooperation-agreement": "Kooperationsvereinbarung",
    }
    actual = {
        key: str(label)
        for key in expected
        for label in vocab.objects(URIRef(f"{CGV}partnership-type/{key}"), SKOS.prefLabel)
        if isinstance(label, Literal) and label.language == "de"
    }
    assert actual == expected


def test_themes_link_only_to_existing_eu_data_themes(vocab: Graph) -> None:
    targets = {
        str(target)
        for relation in (SKOS.closeMatch, SKOS.broadMatch, SKOS.exactMatch, SKOS.narrowMatch)
        for target in vocab.objects(None, relation)
    }
    assert targets, "no theme is linked to the EU data-theme table"
    assert {t.removeprefix(EU_DATA_THEME) for t in targets} <= EU_DATA_THEME_CODES
    assert all(t.startswith(EU_DATA_THEME) for t in targets)

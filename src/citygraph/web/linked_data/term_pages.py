"""Views of the ontology, the shapes and the dataset description (for their HTML pages)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import pyoxigraph as ox

from citygraph.dataset import DATASET, LINK_SETS, DatasetStatistics
from citygraph.documents import ThingGraph
from citygraph.namespaces import CG, PREFIXES, SH, SHAPES
from citygraph.web.i18n import pick
from citygraph.web.linked_data.pages import Fact, Labeller, Link

__all__ = [
    "DatasetView",
    "OntologyView",
    "ShapeView",
    "TermView",
    "dataset_view",
    "ontology_view",
    "shapes_view",
]

RDF = PREFIXES["rdf"]
RDFS = PREFIXES["rdfs"]
OWL = PREFIXES["owl"]
SKOS = PREFIXES["skos"]
DCTERMS = PREFIXES["dcterms"]
ONTOLOGY = CG.rstrip("#")

#: Kinds of term, each with the interface text key (i18n.ui) and anchor of its section.
_SECTIONS: tuple[tuple[str, str], ...] = (
    (OWL + "Class", "classes"),
    (OWL + "ObjectProperty", "object-properties"),
    (OWL + "DatatypeProperty", "datatype-properties"),
    (OWL + "AnnotationProperty", "annotation-properties"),
)
_TERM_FACTS = (
    RDFS + "subClassOf",
    RDFS + "subPropertyOf",
    RDFS + "domain",
    RDFS + "range",
    OWL + "inverseOf",
    SKOS + "closeMatch",
    SKOS + "exactMatch",
    RDFS + "seeAlso",
)


@dataclass(frozen=True)
class TermView:
    """One ontology term or shape: anchor, label, definition and facts."""

    anchor: str
    iri: str
    title: str
    definition: str
    facts: tuple[Fact, ...]
    #: the language tags of title and definition when not the reader's (shown marked)
    title_lang: str = ""
    definition_lang: str = ""


@dataclass
class OntologyView:
    """The ontology's page: header facts and its terms, by section."""

    title: str
    description: str
    facts: list[Fact]
    sections: list[tuple[str, list[TermView]]] = field(default_factory=list)
    #: the language tags of title and description when not the reader's (shown marked)
    title_lang: str = ""
    description_lang: str = ""


def _facts(label: Labeller, iri: str, predicates: Iterable[str]) -> tuple[Fact, ...]:
    facts = []
    for predicate in predicates:
        values = label.graph.values(iri, predicate)
        if values:
            facts.append(Fact(label.link(predicate), tuple(label.link(v) for v in values)))
    return tuple(facts)


def ontology_view(label: Labeller) -> OntologyView:
    """The ontology's header and every ``cg:`` term, grouped by kind of term."""
    graph = label.graph
    title, title_lang = label.tagged_text(ONTOLOGY, DCTERMS + "title")
    description, description_lang = label.tagged_text(ONTOLOGY, DCTERMS + "description")
    view = OntologyView(
        title=title or "citygraph ontology",
        title_lang=title_lang if title else "en",
        description=description,
        description_lang=description_lang,
        facts=list(
            _facts(
                label,
                ONTOLOGY,
                (
                    OWL + "versionIRI",
                    OWL + "versionInfo",
                    DCTERMS + "license",
                    DCTERMS + "creator",
                    DCTERMS + "created",
                    DCTERMS + "modified",
                ),
            )
        ),
    )
    for cls, heading in _SECTIONS:
        terms = [
            _term_view(label, s)
            for s in sorted(graph.forward)
            if s.startswith(CG) and cls in graph.types(s)
        ]
        if terms:
            view.sections.append((heading, terms))
    return view


def _term_view(label: Labeller, iri: str) -> TermView:
    title, title_lang = label.tagged_name(iri)
    definition, definition_lang = label.tagged_text(iri, SKOS + "definition")
    if not definition:
        definition, definition_lang = label.tagged_text(iri, RDFS + "comment")
    return TermView(
        anchor=iri[len(CG) :],
        iri=iri,
        title=title,
        definition=definition,
        facts=_facts(label, iri, _TERM_FACTS),
        title_lang=title_lang,
        definition_lang=definition_lang,
    )


@dataclass(frozen=True)
class ShapeView:
    """One node shape and its property shapes."""

    shape: TermView
    properties: tuple[TermView, ...]


def _shape_term(label: Labeller, iri: str, predicates: Iterable[str]) -> TermView:
    messages = {
        (v.language or "").lower(): v.value
        for v in label.graph.values(iri, SH + "message")
        if isinstance(v, ox.Literal)
    }
    return TermView(
        anchor=iri[len(SHAPES) :] if iri.startswith(SHAPES) else "",
        iri=iri,
        title=label.name(iri),
        definition=pick(messages, label.language),
        facts=_facts(label, iri, predicates),
    )


def shapes_view(label: Labeller) -> list[ShapeView]:
    """Every node shape under ``cgsh:`` with its property shapes."""
    graph = label.graph
    shapes = []
    for iri in sorted(graph.forward):
        if not iri.startswith(SHAPES) or SH + "NodeShape" not in graph.types(iri):
            continue
        shape = _shape_term(
            label, iri, (SH + "targetClass", SH + "targetSubjectsOf", SH + "class", SH + "severity")
        )
        properties = tuple(
            _shape_term(
                label,
                p,
                (
                    SH + "path",
                    SH + "minCount",
                    SH + "maxCount",
                    SH + "datatype",
                    SH + "class",
                    SH + "node",
                    SH + "severity",
                ),
            )
            for p in graph.iris(iri, SH + "property")
        )
        shapes.append(ShapeView(shape, properties))
    return shapes


@dataclass
class DatasetView:
    """The dataset description's page."""

    facts: list[Fact]
    per_class: list[tuple[Link, int]]
    per_graph: list[tuple[str, int]]
    links: list[tuple[str, int]]
    distributions: list[Link]
    stats: DatasetStatistics


def dataset_view(label: Labeller, stats: DatasetStatistics) -> DatasetView:
    """Header facts, statistics, link sets and downloads of the dataset description."""
    void = PREFIXES["void"]
    dcat = PREFIXES["dcat"]
    facts = _facts(
        label,
        DATASET,
        (
            DCTERMS + "description",
            DCTERMS + "license",
            DCTERMS + "publisher",
            void + "sparqlEndpoint",
            void + "uriSpace",
            void + "vocabulary",
            void + "triples",
            void + "entities",
            OWL + "versionInfo",
            DCTERMS + "modified",
        ),
    )
    return DatasetView(
        facts=list(facts),
        per_class=[(label.link(cls), n) for cls, n in stats.per_class.items()],
        per_graph=list(stats.per_graph.items()),
        links=[(link.title, stats.links.get(link.name, 0)) for link in LINK_SETS],
        distributions=[label.link(d) for d in label.graph.iris(DATASET, dcat + "distribution")],
        stats=stats,
    )


def graph_of(triples: Iterable[ox.Triple]) -> ThingGraph:
    """Index ``triples`` for the views above."""
    return ThingGraph.from_triples(triples)

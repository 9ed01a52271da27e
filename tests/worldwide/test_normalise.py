"""Names and countries of the Wikipedia lists, normalised (table tests)."""

from __future__ import annotations

import pytest

from citygraph.worldwide.geonames import GeoNamesIndex
from citygraph.worldwide.normalise import (
    Country,
    PlaceKind,
    clean,
    match_key,
    parse_country,
    parse_place,
    slugify,
)

NAMES = {"germany": "DE", "united kingdom": "GB", "portugal": "PT", "france": "FR", "italy": "IT"}


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("Germany", Country("DE")),
        ("England", Country("GB", constituent="England")),
        ("England, United Kingdom", Country("GB", constituent="England")),
        ("Wales, United Kingdom", Country("GB", constituent="Wales")),
        ("Northern Ireland, United Kingdom", Country("GB", constituent="Northern Ireland")),
        ("Algarve, Portugal", Country("PT", qualifier="Algarve")),
        ("Réunion, France", Country("RE")),
        ("Georgia (country)", Country("GE")),
        ("Republic of Ireland", Country("IE")),
        ("in Italy", Country("IT")),
        ("Grece", Country("GR")),
        ("", Country(None)),
        ("Atlantis", Country(None)),
        ("Somewhere, Atlantis", Country(None)),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_country_cells(cell: str, expected: Country) -> None:
    assert parse_country(cell, NAMES) == expected


@pytest.mark.parametrize(
    ("cell", "kind", "name", "parent"),
    [
        ("Tempelhof-Schöneberg (Berlin)", PlaceKind.DISTRICT, "Tempelhof-Schöneberg", "Berlin"),
        (
            "Berlin \u2013 Tempelhof-Schöneberg",
            PlaceKind.DISTRICT,
            "Tempelhof-Schöneberg",
            "Berlin",
        ),
        ("Berlin - Tempelhof-Schöneberg", PlaceKind.DISTRICT, "Tempelhof-Schöneberg", "Berlin"),
        ("Vienna 5 \u2013 Margareten", PlaceKind.DISTRICT, "Margareten", "Vienna"),
        ("Budapest XIX \u2013 Kispest", PlaceKind.DISTRICT, "Kispest", "Budapest"),
        ("Prague 6 (Prague)", PlaceKind.DISTRICT, "6", "Prague"),
        ("Prague 6", PlaceKind.DISTRICT, "6", "Prague"),
        ("Budapest XV", PlaceKind.DISTRICT, "XV", "Budapest"),
        ("Forchheim (district)", PlaceKind.REGION, "Forchheim", None),
        ("Calabria", PlaceKind.REGION, "Calabria", None),
        ("Kyiv Oblast", PlaceKind.REGION, "Kyiv Oblast", None),
        ("Madrid", PlaceKind.CITY, "Madrid", None),
        ("Frankfurt (Oder)", PlaceKind.CITY, "Frankfurt", None),
        ("Doksy (Česká Lípa District)", PlaceKind.CITY, "Doksy", None),
        ("Kłodzko (rural gmina)", PlaceKind.CITY, "Kłodzko (rural gmina)", None),
        ("Lagoa, Algarve", PlaceKind.CITY, "Lagoa", None),
        ("Inner West \u2013 Marrickville", PlaceKind.CITY, "Inner West \u2013 Marrickville", None),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_place_cells(cell: str, kind: PlaceKind, name: str, parent: str | None) -> None:
    cities = {"Berlin", "Vienna", "Budapest", "Madrid", "Frankfurt", "Prague"}
    regions = {"Calabria", "Madrid"}  # GeoNames subdivisions (Madrid is a city too)
    parsed = parse_place(
        cell, "XX", is_city=lambda n, _: n in cities, is_region=lambda n, _: n in regions
    )
    assert (parsed.kind, parsed.name, parsed.parent) == (kind, name, parent)


def test_a_country_qualifier_becomes_part_of_the_name() -> None:
    place = parse_place("Lagoa", "PT", qualifier="Azores", is_city=lambda n, _: False)
    assert (place.display, place.qualifier) == ("Lagoa, Azores", "Azores")


def test_both_district_forms_give_the_same_key() -> None:
    def known(name: str, iso: str) -> bool:
        return name == "Berlin"

    a = parse_place("Tempelhof-Schöneberg (Berlin)", "DE", is_city=known)
    b = parse_place("Berlin \u2013 Tempelhof-Schöneberg", "DE", is_city=known)
    assert slugify(a.name) == slugify(b.name) == "tempelhof-schoeneberg"


def test_a_subdivision_that_is_no_city_is_a_region(geo: GeoNamesIndex) -> None:
    # No region word, no list: GeoNames knows a subdivision "Calabria" and no city of that name.
    place = parse_place("Calabria", "IT", is_city=geo.is_city, is_region=geo.is_region)
    assert place.kind is PlaceKind.REGION
    # Without the subdivision index, the same cell is taken for a town.
    assert parse_place("Calabria", "IT", is_city=geo.is_city).kind is PlaceKind.CITY


def test_a_hamlet_named_like_a_region_does_not_hide_the_region(geo: GeoNamesIndex) -> None:
    # cities500 has a village Molise (167 inhabitants) in the region Molise: the partner
    # "Molise, Italy" is the region.
    place = parse_place("Molise", "IT", is_city=geo.is_city, is_region=geo.is_region)
    assert place.kind is PlaceKind.REGION


def test_a_region_name_that_is_also_a_geonames_city_stays_a_city(geo: GeoNamesIndex) -> None:
    # "Brussels" names a region too, but GeoNames knows the city: the cell is the city.
    assert parse_place("Brussels", "BE", is_city=geo.is_city).kind is PlaceKind.CITY


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Saint-Étienne", "St. Etienne"),
        ("Sankt Pölten", "Saint Polten"),
        ("Łódź", "Lodz"),
        ("Be'er Sheva", "Beer Sheva"),
        ("Tempelhof-Schöneberg", "Tempelhof Schöneberg"),
    ],
)
def test_spelling_variants_share_a_match_key(a: str, b: str) -> None:
    assert match_key(a) == match_key(b)


def test_different_names_do_not_share_a_match_key() -> None:
    assert match_key("San Marino") != match_key("Saint Marino")
    assert match_key("Halle") != match_key("Hall")


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Berlin", "berlin"),
        ("Tempelhof-Schöneberg", "tempelhof-schoeneberg"),
        ("Saint-Étienne", "saint-etienne"),
        ("Košice", "kosice"),
        ("Mexico City", "mexico-city"),
        ("Łódź", "lodz"),
        ("Frankfurt (Oder)", "frankfurt-oder"),
    ],
)
def test_slugs(name: str, slug: str) -> None:
    assert slugify(name) == slug


def test_clean_normalises_spaces_dashes_and_footnotes() -> None:
    assert clean("  Berlin  -  Mitte[1] ") == "Berlin \u2013 Mitte"

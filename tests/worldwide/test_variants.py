"""The matching rules of 2026-12 (issue 12 §1): spelling variants, German additions, districts of
city-states. Each test builds a small GeoNames index by hand, so the rule is seen alone."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from citygraph.worldwide.cells import resolve_cell
from citygraph.worldwide.curated import CuratedIndex
from citygraph.worldwide.geonames import GeoNamesIndex, MatchStatus
from citygraph.worldwide.normalise import PlaceKind, parse_place

COUNTRIES = {
    "AT": "Austria",
    "CH": "Switzerland",
    "DE": "Germany",
    "ES": "Spain",
    "FR": "France",
    "GB": "United Kingdom",
    "GR": "Greece",
    "IL": "Israel",
    "IT": "Italy",
    "JO": "Jordan",
    "JP": "Japan",
    "KR": "South Korea",
    "LY": "Libya",
    "PS": "Palestine",
    "RU": "Russia",
    "UA": "Ukraine",
}


def index(
    cities: Sequence[tuple[int, str, str, float, float, int, tuple[int, ...]]],
    subdivisions: Sequence[tuple[int, str, list[str], str, int, int]] = (),
    alternates: dict[int, list[str]] | None = None,
) -> GeoNamesIndex:
    """An index of (ID, name, country, latitude, longitude, population, subdivision IDs) and
    subdivisions (ID, name, aliases, country, level, parent)."""
    return GeoNamesIndex.from_records(
        [
            {
                "geonameid": gid,
                "name": name,
                "countrycode": iso,
                "latitude": lat,
                "longitude": lon,
                "population": population,
                "subdivisions": within,
                "alternatenames": (alternates or {}).get(gid, []),
            }
            for gid, name, iso, lat, lon, population, within in cities
        ],
        countries=COUNTRIES,
        subdivisions=[
            {
                "geonameid": gid,
                "name": name,
                "aliases": aliases,
                "countrycode": iso,
                "level": level,
                "parent": parent,
            }
            for gid, name, aliases, iso, level, parent in subdivisions
        ],
    )


def linked(
    geo: GeoNamesIndex, city: str, country: str, point: tuple[float, float] | None = None
) -> tuple[MatchStatus, int | None]:
    """How the cell (city, country) matched, and the GeoNames ID it was linked to."""
    cell = resolve_cell(city, country, point, geo, CuratedIndex())
    return cell.status, cell.geonames.id if cell.geonames else None


@pytest.mark.parametrize(
    ("listed", "geonames", "iso"),
    [
        # Wikipedia's Ukrainian transliteration against GeoNames' BGN/PCGN one.
        ("Velykyi Bereznyi", "Velykyy Bereznyy", "UA"),
        ("Koriukivka", "Koryukivka", "UA"),
        ("Tiachiv", "Tyachiv", "UA"),
        ("Strugi Krasnye", "Strugi-Krasnyye", "RU"),
        ("Pogranichny", "Pogranichnyy", "RU"),
        # Demotic and katharevousa Greek, and χ as "h" or "ch".
        ("Ermoupoli", "Ermoúpolis", "GR"),
        ("Argostoli", "Argostólion", "GR"),
        ("Haidari", "Chaïdári", "GR"),
        # Popular English forms of Arabic names against GeoNames' BGN/PCGN ones.
        ("Beit Sahour", "Bayt Sāḩūr", "PS"),
        ("Birzeit", "Bīr Zayt", "PS"),
        ("Beitunia", "Baytūnyā", "PS"),
        ("Mas-ha", "Masḩah", "PS"),
        ("Al-Bireh", "Al Bīrah", "PS"),
        ("Deir Alla", "Dayr \u2018Allā", "JO"),
        ("Awjila", "Awjilah", "LY"),
        # Japanese: a hyphen, and the municipal word after the name.
        ("Hitachiōta", "Hitachi-ōta", "JP"),
        ("Ikata", "Ikata-chō", "JP"),
        # Spaces only.
        ("Purbach am Neusiedlersee", "Purbach am Neusiedler See", "AT"),
        # GeoNames names in two languages.
        ("Bleiburg", "Bleiburg/Pliberk", "AT"),
        ("Schenna", "Scena - Schenna", "IT"),
        # A German title or addition GeoNames keeps.
        ("Binz", "Ostseebad Binz", "DE"),
        ("Breisach", "Breisach am Rhein", "DE"),
    ],
)
def test_a_spelling_variant_finds_the_record(listed: str, geonames: str, iso: str) -> None:
    geo = index([(1, geonames, iso, 45.0, 10.0, 5000, ())])
    assert linked(geo, listed, COUNTRIES[iso]) == (MatchStatus.MATCHED, 1)


def test_a_name_in_two_languages_in_the_lists_is_looked_up_by_each_part() -> None:
    geo = index([(2513794, "Mogente", "ES", 38.87, -0.75, 4514, ())])
    assert linked(geo, "Mogente/Moixent", "Spain") == (MatchStatus.MATCHED, 2513794)


def test_the_folds_belong_to_their_countries() -> None:
    # "Velykyi" and "Velykyy" are one Ukrainian name; in Italy the names stay apart.
    geo = index([(1, "Mariya", "IT", 45.0, 10.0, 5000, ())])
    assert linked(geo, "Maria", "Italy") == (MatchStatus.NO_CANDIDATE, None)


def test_the_arabic_fold_belongs_to_the_arabic_speaking_countries() -> None:
    # The same two spellings in Israel, whose names GeoNames transliterates from Hebrew.
    geo = index([(1, "Bayt Sāḩūr", "IL", 31.7, 35.2, 5000, ())])
    assert linked(geo, "Beit Sahour", "Israel") == (MatchStatus.NO_CANDIDATE, None)


def test_an_arabic_name_a_vowel_apart_needs_the_point() -> None:
    # "Zababdeh" and *Az Zabābidah*: alike after the fold, not the same; the record 0.2 km
    # from the file's point is the village, the name alone finds nothing.
    geo = index([(284487, "Az Zabābidah", "PS", 32.3871, 35.3249, 3751, ())])
    assert linked(geo, "Zababdeh", "Palestine") == (MatchStatus.NO_CANDIDATE, None)
    assert linked(geo, "Zababdeh", "Palestine", (32.3853, 35.3233)) == (
        MatchStatus.MATCHED,
        284487,
    )


def test_the_name_itself_goes_before_a_variant() -> None:
    # "Oberwil" is a record's own name: the record "Oberwil im Simmental", found by its bare
    # name in the third tier, is not even considered.
    geo = index(
        [
            (1, "Oberwil", "CH", 47.51, 7.55, 10187, ()),
            (2, "Oberwil im Simmental", "CH", 46.65, 7.43, 800, ()),
        ]
    )
    assert linked(geo, "Oberwil", "Switzerland") == (MatchStatus.MATCHED, 1)


def test_two_records_of_one_variant_stay_ambiguous() -> None:
    geo = index(
        [
            (1, "Velykyy Bychkiv", "UA", 47.97, 24.0, 9000, ()),
            (2, "Velykyi Bychkiv", "UA", 49.0, 30.0, 8000, ()),
        ]
    )
    assert linked(geo, "Velykyi Bychkiv", "Ukraine")[0] is MatchStatus.MATCHED  # its own name
    assert linked(geo, "Velykyj Bychkiv", "Ukraine") == (MatchStatus.AMBIGUOUS, None)


def test_a_german_addition_in_the_lists_qualifies_the_bare_name() -> None:
    name = parse_place("Weiden in der Oberpfalz", "DE", is_city=lambda n, i: False)
    assert (name.kind, name.name, name.qualifier) == (PlaceKind.CITY, "Weiden", "Oberpfalz")
    assert name.display == "Weiden in der Oberpfalz"
    # Not in other countries: "in" is a word of Italian names too.
    italian = parse_place("Castiglione in Teverina", "IT", is_city=lambda n, i: False)
    assert (italian.name, italian.qualifier) == ("Castiglione in Teverina", None)


def test_an_addition_naming_a_subdivision_chooses_the_record_in_it() -> None:
    # Two Weidens; only one lies in the Upper Palatinate, which the addition names.
    geo = index(
        [
            (2813040, "Weiden", "DE", 49.68, 12.16, 42550, (2951839, 2861322)),
            (2813041, "Weiden", "DE", 50.9, 6.8, 40000, (2861876,)),
        ],
        subdivisions=[
            (2951839, "Bavaria", ["Bayern"], "DE", 1, 0),
            (2861322, "Upper Palatinate", ["Oberpfalz"], "DE", 2, 2951839),
            (2861876, "North Rhine-Westphalia", [], "DE", 1, 0),
        ],
    )
    assert linked(geo, "Weiden in der Oberpfalz", "Germany") == (MatchStatus.MATCHED, 2813040)


def test_an_addition_naming_no_subdivision_needs_a_point() -> None:
    # "am Main" names a river: the only "Hattersheim" of GeoNames may be another town, so
    # without a point it stays unlinked; the geocoded point settles it.
    geo = index([(2910685, "Hattersheim", "DE", 50.06, 8.49, 25035, ())])
    assert linked(geo, "Hattersheim am Main", "Germany") == (MatchStatus.AMBIGUOUS, None)
    near = linked(geo, "Hattersheim am Main", "Germany", point=(50.07, 8.48))
    assert near == (MatchStatus.MATCHED, 2910685)
    assert linked(geo, "Hattersheim am Main", "Germany", point=(53.5, 10.0))[1] is None


SEOUL = 1835847  # the first-level subdivision Seoul, a city of its own


def city_state() -> GeoNamesIndex:
    return index(
        [
            (1835848, "Seoul", "KR", 37.566, 126.9784, 10349312, (SEOUL,)),
            (1838524, "Busan", "KR", 35.1028, 129.0403, 3678555, (1838519,)),
            (1, "Ansan", "KR", 37.32, 126.83, 650000, (1841597,)),
        ],
        subdivisions=[
            (SEOUL, "Seoul", ["Seoul Special City"], "KR", 1, 0),
            (1838519, "Busan", [], "KR", 1, 0),
            (1841597, "Gyeonggi-do", [], "KR", 1, 0),
            # No cities500 place lies in these second-level subdivisions.
            (1845581, "Jongno-gu", ["Jongno District"], "KR", 2, SEOUL),
            (1833594, "Eunpyeong-gu", [], "KR", 2, SEOUL),
            (1836645, "Seo-gu", [], "KR", 2, 1838519),
            (9, "Danwon-gu", [], "KR", 2, 1841597),
        ],
    )


def test_a_district_of_a_city_state_is_its_subdivision_without_a_place_in_it() -> None:
    geo = city_state()
    assert linked(geo, "Jongno (Seoul)", "South Korea") == (MatchStatus.MATCHED, 1845581)
    assert linked(geo, "Seoul \u2013 Jongno", "South Korea") == (MatchStatus.MATCHED, 1845581)
    # "-gu" is the Korean word for an urban district, as "-ku" is the Japanese one.
    assert linked(geo, "Seoul \u2013 Eunpyeong", "South Korea") == (MatchStatus.MATCHED, 1833594)
    # Seo-gu of Busan is not a district of Seoul.
    assert linked(geo, "Seo (Busan)", "South Korea") == (MatchStatus.MATCHED, 1836645)
    assert linked(geo, "Seo (Seoul)", "South Korea")[1] is None


def test_a_district_of_a_city_inside_a_province_still_needs_a_place_near_the_city() -> None:
    # Ansan lies in the province Gyeonggi-do, not a city of its own: Danwon-gu has no place
    # of cities500 that would show it near Ansan, so it is not taken.
    assert linked(city_state(), "Danwon (Ansan)", "South Korea")[1] is None


# A name with a geographical addition, near the file's point (2026-12-07, third review). Real
# records: Aguilar (ES), Beaupréau (FR), Oissel-sur-Seine (FR), Bardsey (GB).
ADDITIONS = [
    (2522335, "Aguilar", "ES", 37.51476, -4.65717, 13509, ()),
    (3034111, "Beaupréau", "FR", 47.20464, -0.98703, 6932, ()),
    (2989646, "Oissel-sur-Seine", "FR", 49.33309, 1.09413, 11495, ()),
    (2656354, "Bardsey", "GB", 53.8833, -1.45, 2876, ()),
]


@pytest.mark.parametrize(
    ("listed", "country", "point", "expected"),
    [
        ("Aguilar de la Frontera", "Spain", (37.5167, -4.65), 2522335),
        ("Oissel", "France", (49.3425, 1.0922), 2989646),
    ],
    ids=["the lists add it", "GeoNames adds it"],
)
def test_a_name_with_an_addition_is_the_record_near_the_point(
    listed: str, country: str, point: tuple[float, float], expected: int
) -> None:
    geo = index(ADDITIONS)
    assert linked(geo, listed, country, point) == (MatchStatus.MATCHED, expected)


def test_a_name_with_an_addition_needs_the_point() -> None:
    geo = index(ADDITIONS)
    assert linked(geo, "Aguilar de la Frontera", "Spain") == (MatchStatus.NO_CANDIDATE, None)
    # 40 km off: the point is not the record's.
    assert linked(geo, "Aguilar de la Frontera", "Spain", (37.87, -4.65))[1] is None


@pytest.mark.parametrize(
    ("listed", "country", "point"),
    [
        # A commune nouvelle (2015) named after its seat: the record is the former commune.
        ("Beaupréau-en-Mauges", "France", (47.2028, -0.9933)),
        # Two villages joined ("cum"): the parish, not the village Bardsey.
        ("Bardsey cum Rigton", "England", (53.8853, -1.4439)),
    ],
    ids=["french commune nouvelle", "two names joined"],
)
def test_a_merged_municipality_is_not_its_part(
    listed: str, country: str, point: tuple[float, float]
) -> None:
    geo = index(ADDITIONS)
    assert linked(geo, listed, country, point) == (MatchStatus.NO_CANDIDATE, None)

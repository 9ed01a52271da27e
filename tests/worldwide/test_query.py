"""queries/sources-disagree-worldwide.rq on a small store: what each source lacks or types."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox

from citygraph import store
from citygraph.namespaces import PREFIXES
from citygraph.query import read_query_file, run_query
from citygraph.worldwide.geonames import GeoNamesIndex
from citygraph.worldwide.importer import import_twins

QUERY = Path(__file__).resolve().parents[2] / "queries" / "sources-disagree-worldwide.rq"
CITY = PREFIXES["city"]
BERLIN = CITY + "de-berlin"


def disagreements(root: Path) -> set[tuple[str, str, str]]:
    current, _ = store.open_current(root)
    result = run_query(current, read_query_file(QUERY).text)
    assert isinstance(result, ox.QuerySolutions)
    rows = set()
    for row in result:
        kind, place, other = row["kind"], row["place"], row["other"]
        assert kind is not None
        assert place is not None
        assert other is not None
        rows.add((kind.value, place.value, other.value))
    return rows


def test_disagreements_between_curated_and_worldwide(
    data: Path, curated_store: Path, tiny_geonames: GeoNamesIndex
) -> None:
    import_twins(curated_store, [data / "raw-small.csv"])
    rows = disagreements(curated_store)
    # Curated pairs the lists lack; London and Paris are confirmed by the lists' claims.
    curated_only = {(p, o) for k, p, o in rows if k == "curated-only"}
    assert curated_only == {
        (BERLIN, CITY + "ru-moscow"),
        (BERLIN, PREFIXES["region"] + "be-brussels-capital"),
    }
    # The Brussels partner is a region in one source, a city in the other.
    assert ("type", BERLIN, CITY + "be-brussels") in rows
    # Worldwide partnerships of curated places the curated data lacks (Kyiv, Smallville...).
    worldwide_only = {(p, o) for k, p, o in rows if k == "worldwide-only"}
    assert (BERLIN, CITY + "ua-kyiv") in worldwide_only
    assert (BERLIN, CITY + "de-smallville") in worldwide_only
    assert not [r for r in rows if r[0] == "date"]


def test_no_worldwide_layer_means_every_curated_pair_is_curated_only(curated_store: Path) -> None:
    rows = disagreements(curated_store)
    assert {k for k, _, _ in rows} == {"curated-only"}
    assert len(rows) == 4

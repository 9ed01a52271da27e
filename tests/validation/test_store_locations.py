"""`citygraph validate --store`: results point at the inputs the build recorded, while unchanged."""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.checkouts import ROOT, checkout, citygraph

FAILING = ROOT / "tests" / "data" / "validation" / "failing.ttl"


def test_store_results_point_at_the_recorded_inputs(tmp_path: Path) -> None:
    repo = checkout(tmp_path / "fork", "ontology", "shapes")
    (repo / "data").mkdir()
    mine = repo / "data" / "mine.ttl"
    # failing.ttl without its Violation (line 45), so that the build publishes it
    text = FAILING.read_text(encoding="utf-8")
    mine.write_text(text.replace('"May 1990" ;', '"1990"^^xsd:gYear ;'), encoding="utf-8")
    built = citygraph(repo, "build", "--store", "store", "--quiet")
    assert built.returncode == 0, built.stderr

    items = json.loads(citygraph(repo, "validate", "--store", "store", "--format", "json").stdout)
    places = {
        (i["focus_node"].rsplit("/", 1)[-1], i["file"], i["line"], i["column"]) for i in items
    }
    assert places == {
        ("de-b", "data/mine.ttl", 34, 1),  # no Wikidata link, no coordinates: the city's subject
    }

    # changed after the build: the store no longer says what the file says, so no place
    later = mine.stat().st_mtime + 10
    os.utime(mine, (later, later))
    items = json.loads(citygraph(repo, "validate", "--store", "store", "--format", "json").stdout)
    assert {(i["file"], i["line"]) for i in items} == {(None, None)}

"""`citygraph validate --store`: results point at the inputs the build recorded, while unchanged."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CITYGRAPH = Path(sys.executable).parent / "citygraph"
FAILING = ROOT / "tests" / "data" / "validation" / "failing.ttl"


def _run(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CITYGRAPH), *args], cwd=repo, capture_output=True, text=True, check=False, timeout=600
    )


def test_store_results_point_at_the_recorded_inputs(tmp_path: Path) -> None:
    repo = tmp_path / "fork"
    for folder in ("ontology", "shapes"):
        shutil.copytree(ROOT / folder, repo / folder)
    (repo / "data").mkdir()
    mine = repo / "data" / "mine.ttl"
    # failing.ttl without its Violation (line 45), so that the build publishes it
    text = FAILING.read_text(encoding="utf-8")
    mine.write_text(text.replace('"May 1990" ;', '"1990"^^xsd:gYear ;'), encoding="utf-8")
    built = _run(repo, "build", "--store", "store", "--quiet")
    assert built.returncode == 0, built.stderr

    items = json.loads(_run(repo, "validate", "--store", "store", "--format", "json").stdout)
    places = {
        (i["focus_node"].rsplit("/", 1)[-1], i["file"], i["line"], i["column"]) for i in items
    }
    assert places == {
        ("de-b", "data/mine.ttl", 34, 1),  # no Wikidata link, no coordinates: the city's subject
    }

    # changed after the build: the store no longer says what the file says, so no place
    later = mine.stat().st_mtime + 10
    os.utime(mine, (later, later))
    items = json.loads(_run(repo, "validate", "--store", "store", "--format", "json").stdout)
    assert {(i["file"], i["line"]) for i in items} == {(None, None)}

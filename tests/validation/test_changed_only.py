"""`citygraph validate --changed-only`: the nodes of the changed files and the nodes that refer to
them, with exactly the results a full run gives for those nodes (files and --store)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from rdflib import Graph, URIRef

ROOT = Path(__file__).resolve().parents[2]
CITYGRAPH = Path(sys.executable).parent / "citygraph"
SAINT_ETIENNE = "https://w3id.org/citygraph/id/partnership/de-wuppertal--fr-saint-etienne"
#: Wuppertal - Saint-Etienne loses its source (a Warning, so that a build still publishes it).
UNSOURCED = (
    '    cg:startDate "1960"^^xsd:gYear ;\n'
    "    prov:wasDerivedFrom source:engels-kultur-partner-cities .\n",
    '    cg:startDate "1960"^^xsd:gYear .\n',
)
#: … and, for the file runs, its date becomes a plain string (a Violation).
UNDATED = (UNSOURCED[0], '    cg:startDate "1960" .\n')


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=t@example.org", "-c", "user.name=t", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


def _fork(tmp_path: Path, change: tuple[str, str]) -> Path:
    """A copy of this checkout's inputs, committed, then one edit to data/wuppertal.ttl."""
    repo = tmp_path / "fork"
    for folder in ("ontology", "shapes", "data"):
        shutil.copytree(ROOT / folder, repo / folder)
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "base")
    path = repo / "data" / "wuppertal.ttl"
    text = path.read_text(encoding="utf-8")
    assert text.count(change[0]) == 1
    path.write_text(text.replace(*change), encoding="utf-8")
    return repo


def _run(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CITYGRAPH), *args], cwd=repo, capture_output=True, text=True, check=False, timeout=600
    )


def _expected_nodes(repo: Path) -> set[str]:
    """Written from the definition: subjects of the changed file, and who refers to them."""
    changed = Graph().parse(repo / "data" / "wuppertal.ttl")
    nodes = {str(s) for s in changed.subjects() if isinstance(s, URIRef)}
    everything = Graph()
    for path in sorted((repo / "data").glob("*.ttl")):
        everything.parse(path)
    referrers = {str(s) for s, _, o in everything if str(o) in nodes and isinstance(s, URIRef)}
    return nodes | referrers


def test_changed_only_on_files_agrees_with_a_full_run(tmp_path: Path) -> None:
    repo = _fork(tmp_path, UNDATED)
    full = _run(repo, "validate", "--format", "json")
    changed = _run(repo, "validate", "--changed-only", "--format", "json")
    assert (full.returncode, changed.returncode) == (1, 1), changed.stderr
    assert "1 files changed since HEAD" in changed.stderr
    expected = _expected_nodes(repo)
    mine = json.loads(changed.stdout)
    assert mine == [r for r in json.loads(full.stdout) if r["focus_node"] in expected]
    assert {r["focus_node"] for r in mine} < {r["focus_node"] for r in json.loads(full.stdout)}
    broken = [r for r in mine if r["focus_node"] == SAINT_ETIENNE]
    assert {(r["severity"], r["shape"].rsplit("#", 1)[-1]) for r in broken} >= {
        ("violation", "Common-startDate"),
        ("warning", "Common-source"),
    }


def test_nothing_changed_validates_nothing(tmp_path: Path) -> None:
    repo = _fork(tmp_path, UNDATED)
    _git(repo, "commit", "-q", "-am", "the change")
    done = _run(repo, "validate", "--changed-only")
    assert done.returncode == 0, done.stderr
    assert "0 nodes in 0 files changed since HEAD" in done.stderr
    assert done.stdout == "0 results: 0 violations, 0 warnings, 0 infos\n"


def test_a_changed_shape_validates_everything(tmp_path: Path) -> None:
    repo = _fork(tmp_path, UNDATED)
    shapes = repo / "shapes" / "common.ttl"
    shapes.write_text(shapes.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    done = _run(repo, "validate", "--changed-only", "--format", "json")
    assert "shapes or ontology changed, validating all" in done.stderr
    full = _run(repo, "validate", "--format", "json")
    assert json.loads(done.stdout) == json.loads(full.stdout)


@pytest.mark.slow
def test_changed_only_on_a_store_agrees_with_a_full_run(tmp_path: Path) -> None:
    repo = _fork(tmp_path, UNSOURCED)
    built = _run(repo, "build", "--store", "var/store", "--quiet")
    assert built.returncode == 0, built.stderr
    full = _run(repo, "validate", "--store", "var/store", "--format", "json")
    changed = _run(repo, "validate", "--store", "var/store", "--changed-only", "--format", "json")
    assert (full.returncode, changed.returncode) == (0, 0), changed.stderr
    expected = _expected_nodes(repo)
    mine = json.loads(changed.stdout)
    assert mine == [r for r in json.loads(full.stdout) if r["focus_node"] in expected]
    assert any(
        r["focus_node"] == SAINT_ETIENNE and r["shape"].endswith("Common-source") for r in mine
    )


def test_the_nodes_that_refer_to_a_changed_node_are_validated(tmp_path: Path) -> None:
    from citygraph.validate import validate_paths

    city = tmp_path / "city.ttl"
    city.write_text(
        "@prefix cg: <https://w3id.org/citygraph/ontology#> .\n"
        "<http://example.org/c> a cg:City .\n",
        encoding="utf-8",
    )
    others = tmp_path / "others.ttl"
    others.write_text(
        "@prefix cg: <https://w3id.org/citygraph/ontology#> .\n"
        "<http://example.org/p> a cg:Partnership ; cg:partner <http://example.org/c> .\n"
        "<http://example.org/q> a cg:Partnership .\n",
        encoding="utf-8",
    )
    shapes = ROOT / "shapes"
    full = validate_paths([city, others], shapes_dir=shapes)
    mine = validate_paths([city, others], shapes_dir=shapes, focus={"http://example.org/c"})
    assert {r.focus_node for r in mine.results} == {"http://example.org/c", "http://example.org/p"}
    assert mine.results == tuple(r for r in full.results if r.focus_node != "http://example.org/q")


def test_the_store_engine_validates_the_referring_nodes_too() -> None:
    import pyoxigraph as ox

    from citygraph.fastshacl import validate_store

    store = ox.Store()
    store.load(
        "<http://example.org/c> a <https://w3id.org/citygraph/ontology#City> .\n"
        "<http://example.org/p> a <https://w3id.org/citygraph/ontology#Partnership> ;"
        " <https://w3id.org/citygraph/ontology#partner> <http://example.org/c> .\n"
        "<http://example.org/q> a <https://w3id.org/citygraph/ontology#Partnership> .\n",
        format=ox.RdfFormat.TURTLE,
    )
    shapes = ROOT / "shapes"
    full = validate_store(store, shapes_dir=shapes, copy=False)
    mine = validate_store(store, shapes_dir=shapes, copy=False, focus={"http://example.org/c"})
    assert {r.focus_node for r in mine.results} == {"http://example.org/c", "http://example.org/p"}
    assert mine.results == tuple(r for r in full.results if r.focus_node != "http://example.org/q")
    assert validate_store(store, shapes_dir=shapes, copy=False, focus=set()).results == ()

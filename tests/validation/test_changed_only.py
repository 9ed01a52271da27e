"""`citygraph validate --changed-only`: the nodes of the changed files and the nodes that refer to
them, with exactly the results a full run gives for those nodes (files and --store)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rdflib import Graph, URIRef
from tests.checkouts import ROOT, checkout, citygraph, committed, git

SAINT_ETIENNE = "https://w3id.org/citygraph/id/partnership/de-wuppertal--fr-saint-etienne"
#: Wuppertal - Saint-Etienne loses its source (a Warning, so that a build still publishes it).
UNSOURCED = (
    '    cg:startDate "1960"^^xsd:gYear ;\n'
    "    prov:wasDerivedFrom source:engels-kultur-partner-cities .\n",
    '    cg:startDate "1960"^^xsd:gYear .\n',
)
#: … and, for the file runs, its date becomes a plain string (a Violation).
UNDATED = (UNSOURCED[0], '    cg:startDate "1960" .\n')


def _fork(tmp_path: Path, change: tuple[str, str]) -> Path:
    """A copy of this checkout's inputs, committed, then one edit to data/wuppertal.ttl."""
    repo = committed(checkout(tmp_path / "fork", "ontology", "shapes", "data"))
    path = repo / "data" / "wuppertal.ttl"
    text = path.read_text(encoding="utf-8")
    assert text.count(change[0]) == 1
    path.write_text(text.replace(*change), encoding="utf-8")
    return repo


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
    full = citygraph(repo, "validate", "--format", "json")
    changed = citygraph(repo, "validate", "--changed-only", "--format", "json")
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
    git(repo, "commit", "-q", "-am", "the change")
    done = citygraph(repo, "validate", "--changed-only")
    assert done.returncode == 0, done.stderr
    assert "0 nodes in 0 files changed since HEAD" in done.stderr
    assert done.stdout == "0 results: 0 violations, 0 warnings, 0 infos\n"


def test_a_changed_shape_validates_everything(tmp_path: Path) -> None:
    repo = _fork(tmp_path, UNDATED)
    shapes = repo / "shapes" / "common.ttl"
    shapes.write_text(shapes.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    done = citygraph(repo, "validate", "--changed-only", "--format", "json")
    assert "shapes or ontology changed, validating all" in done.stderr
    full = citygraph(repo, "validate", "--format", "json")
    assert json.loads(done.stdout) == json.loads(full.stdout)


@pytest.mark.slow
def test_changed_only_on_a_store_agrees_with_a_full_run(tmp_path: Path) -> None:
    repo = _fork(tmp_path, UNSOURCED)
    built = citygraph(repo, "build", "--store", "var/store", "--quiet")
    assert built.returncode == 0, built.stderr
    full = citygraph(repo, "validate", "--store", "var/store", "--format", "json")
    changed = citygraph(
        repo, "validate", "--store", "var/store", "--changed-only", "--format", "json"
    )
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


@pytest.mark.parametrize("limit", [1_000, 0], ids=["restricted-queries", "over-the-limit"])
def test_the_store_engine_validates_the_referring_nodes_too(
    limit: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pyoxigraph as ox

    from citygraph import fastshacl
    from citygraph.fastshacl import validate_store

    monkeypatch.setattr(fastshacl, "FOCUS_LIMIT", limit)

    store = ox.Store()
    store.load(
        "<http://example.org/c> a <https://w3id.org/citygraph/ontology#City> .\n"
        # two partnership nodes for one pair (a SPARQL target): one pair in focus, one not
        + "".join(
            f"<http://example.org/{n}> a <https://w3id.org/citygraph/ontology#Partnership> ;"
            f" <https://w3id.org/citygraph/ontology#partner> <http://example.org/{a}>,"
            f" <http://example.org/{b}> .\n"
            for n, a, b in (("p", "c", "d"), ("p2", "c", "d"), ("q", "x", "y"), ("q2", "x", "y"))
        )
        # end before start, a SHACL-SPARQL constraint: one in focus, one not
        + "".join(
            f"<http://example.org/{n}> a <https://w3id.org/citygraph/ontology#Participation> ;"
            ' <https://w3id.org/citygraph/ontology#startDate> "2001"^^'
            "<http://www.w3.org/2001/XMLSchema#gYear> ;"
            ' <https://w3id.org/citygraph/ontology#endDate> "2000"^^'
            "<http://www.w3.org/2001/XMLSchema#gYear> .\n"
            for n in ("e", "f")
        ),
        format=ox.RdfFormat.TURTLE,
    )
    shapes = ROOT / "shapes"
    full = validate_store(store, shapes_dir=shapes, copy=False)
    focus = {"http://example.org/c", "http://example.org/f"}
    mine = validate_store(store, shapes_dir=shapes, copy=False, focus=focus)
    validated = {f"http://example.org/{n}" for n in ("c", "p", "p2", "f")}
    assert {r.focus_node for r in mine.results} == validated
    shapes_found = {r.shape.rsplit("#", 1)[-1] for r in mine.results}
    assert {"PartnerPairShape", "EndDateShape"} <= shapes_found
    assert any(r.focus_node.endswith("/q") for r in full.results)
    assert mine.results == tuple(r for r in full.results if r.focus_node in validated)
    assert validate_store(store, shapes_dir=shapes, copy=False, focus=set()).results == ()


def test_changed_only_in_a_repository_of_ones_own_turtle_files(tmp_path: Path) -> None:
    """Outside a citygraph checkout: the installed shapes, the repository's changed files."""
    repo = tmp_path / "their-data"
    repo.mkdir()
    good = (ROOT / "tests" / "data" / "validation" / "failing.ttl").read_text(encoding="utf-8")
    fixed = good.replace('"May 1990" ;', '"1990"^^xsd:gYear ;')
    (repo / "a.ttl").write_text(fixed, encoding="utf-8")
    # b.ttl: the same file about other nodes (its own ex: namespace and cities), unchanged
    other = good.replace("<http://example.org/>", "<http://example.org/b/>")
    (repo / "b.ttl").write_text(other.replace("city:de-", "city:xx-"), encoding="utf-8")
    committed(repo)
    (repo / "a.ttl").write_text(good, encoding="utf-8")  # the bad date comes back
    done = citygraph(repo, "validate", "a.ttl", "b.ttl", "--changed-only", "--format", "github")
    assert done.returncode == 1, done.stderr
    assert "in 1 files changed since HEAD" in done.stderr
    files = {line.split(",")[0] for line in done.stdout.splitlines()}
    assert files == {"::error file=a.ttl", "::warning file=a.ttl", "::notice file=a.ttl"}

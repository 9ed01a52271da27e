"""`citygraph diff`: what a maintainer's change does to the graph, per thing, in their language.

A realistic change (tests/data/validation/diff/before.ttl → after.ttl): a new partnership with
its agreement and source, a corrected start date, a status change, a source added, and a city
rewritten without changing what it says (its blank-node geometry included). The expected lines
are written from those two files and the ontology's labels.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pyoxigraph as ox
import pytest
from tests.checkouts import ROOT, checkout, citygraph, committed, git

from citygraph.diff import changed_nodes_between

DIFF = ROOT / "tests" / "data" / "validation" / "diff"

EXPECTED_TEXT = """\
+ agreement:xx-a--xx-c-2001  (Agreement)  added
    + type: Agreement
    + source: source:xx-b-partners
    + signed on: "2001-06-01"^^xsd:date
+ partnership:xx-a--xx-c  (Partnership)  added
    + type: Partnership
    + source: source:xx-b-partners
    + agreement: agreement:xx-a--xx-c-2001
    + partner: city:xx-a
    + partner: city:xx-c
    + start date: "2001-06-01"^^xsd:date
+ source:xx-b-partners  (Source)  added
    + type: Source
    + label: "B's partner cities"@en
~ partnership:xx-a--xx-b  (Partnership)  changed
    ~ start date: "1990"^^xsd:gYear → "1991-05-12"^^xsd:date
    ~ status: Active → Ended
    + source: source:xx-b-partners

4 things differ: 3 added, 1 changed, 0 removed
"""


@pytest.fixture
def fork(tmp_path: Path) -> Path:
    """A checkout whose data/ has the change of after.ttl on top of the commit of before.ttl."""
    repo = checkout(tmp_path / "fork", "ontology", "shapes")
    (repo / "data").mkdir()
    shutil.copy(DIFF / "before.ttl", repo / "data" / "partners.ttl")
    committed(repo)
    shutil.copy(DIFF / "after.ttl", repo / "data" / "partners.ttl")
    return repo


def _diff(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return citygraph(repo, "diff", *args)


def test_text_diff_of_a_realistic_change(fork: Path) -> None:
    done = _diff(fork)
    assert done.returncode == 0, done.stderr
    assert done.stdout == EXPECTED_TEXT


def test_text_diff_in_german(fork: Path) -> None:
    lines = _diff(fork, "--lang", "de").stdout.splitlines()
    assert '    ~ Beginn: "1990"^^xsd:gYear → "1991-05-12"^^xsd:date' in lines
    assert "    ~ Status: Aktiv → Beendet" in lines
    assert "+ agreement:xx-a--xx-c-2001  (Vereinbarung)  hinzugefügt" in lines
    assert lines[-1] == "4 Dinge unterscheiden sich: 3 hinzugefügt, 1 geändert, 0 entfernt"


def test_json_diff(fork: Path) -> None:
    document = json.loads(_diff(fork, "--format", "json").stdout)
    assert document["summary"] == {"added": 3, "changed": 1, "removed": 0}
    [changed] = [t for t in document["things"] if t["change"] == "changed"]
    assert changed["node"] == "https://w3id.org/citygraph/id/partnership/xx-a--xx-b"
    assert changed["changed"] == [
        {
            "predicate": "https://w3id.org/citygraph/ontology#startDate",
            "from": '"1990"^^<http://www.w3.org/2001/XMLSchema#gYear>',
            "to": '"1991-05-12"^^<http://www.w3.org/2001/XMLSchema#date>',
        },
        {
            "predicate": "https://w3id.org/citygraph/ontology#status",
            "from": "<https://w3id.org/citygraph/vocab/status/active>",
            "to": "<https://w3id.org/citygraph/vocab/status/ended>",
        },
    ]


def test_markdown_diff_for_a_pull_request_comment(fork: Path) -> None:
    lines = _diff(fork, "--format", "markdown").stdout.splitlines()
    assert lines[:3] == [
        "### What this change changes (HEAD → working tree)",
        "",
        "4 things differ: 3 added, 1 changed, 0 removed",
    ]
    assert "**~ `partnership:xx-a--xx-b`** (Partnership): changed" in lines
    assert '- ~ start date: `"1990"^^xsd:gYear → "1991-05-12"^^xsd:date`' in lines


def test_a_removed_thing_and_a_removed_file(fork: Path) -> None:
    (fork / "data" / "partners.ttl").unlink()
    done = _diff(fork)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "- partnership:xx-a--xx-b  (Partnership)  removed" in lines
    assert '    - start date: "1990"^^xsd:gYear' in lines
    assert lines[-1] == "5 things differ: 0 added, 0 changed, 5 removed"


def test_no_change_is_no_difference(fork: Path) -> None:
    git(fork, "commit", "-q", "-am", "after")
    assert _diff(fork).stdout == "no differences\n"


@pytest.mark.parametrize(
    ("args", "says"),
    [
        pytest.param(["--base", "no-such-ref"], "unknown revision 'no-such-ref'", id="bad-ref"),
        pytest.param(["--store", "a"], "give --store twice", id="one-store"),
        pytest.param(
            ["data/typo.ttl"],
            "data/typo.ttl: no such file or directory, here or at HEAD",
            id="missing-path",
        ),
    ],
)
def test_a_comparison_that_cannot_be_made_exits_2(fork: Path, args: list[str], says: str) -> None:
    done = _diff(fork, *args)
    assert done.returncode == 2
    assert says in done.stderr
    assert "Traceback" not in done.stderr


def _store_of(root: Path, turtle: Path, version: str) -> Path:
    import pyoxigraph as ox
    from tests.web.conftest import make_build

    graph = ox.NamedNode("https://w3id.org/citygraph/graph/curated")
    quads = [
        ox.Quad(q.subject, q.predicate, q.object, graph)
        for q in ox.parse(path=str(turtle), format=ox.RdfFormat.TURTLE)
    ]
    make_build(root, quads, version)
    return root


def test_two_stores_compare_like_the_files_they_were_built_from(tmp_path: Path) -> None:
    old = _store_of(tmp_path / "old", DIFF / "before.ttl", "20260101T000000000000Z-aaaaaaaaaa")
    new = _store_of(tmp_path / "new", DIFF / "after.ttl", "20260102T000000000000Z-bbbbbbbbbb")
    done = citygraph(ROOT, "diff", "--store", str(old), "--store", str(new))
    assert done.returncode == 0, done.stderr
    assert done.stdout == EXPECTED_TEXT


def test_a_missing_store_exits_2(tmp_path: Path) -> None:
    done = citygraph(ROOT, "diff", "--store", str(tmp_path / "a"), "--store", str(tmp_path / "b"))
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1].startswith(
        f"citygraph: error: no built store at {tmp_path}"
    )


# --- changed_nodes_between: what an HTTP write validates ---------------------------------------

_G = "https://w3id.org/citygraph/graph/curated"
_E = "http://example.org/"


def _store_and_copy(tmp_path: Path, data: str) -> tuple[ox.Store, ox.Store]:
    old = ox.Store(str(tmp_path / "old"))
    old.update(f"INSERT DATA {{ GRAPH <{_G}> {{ {data} }} }}")
    old.flush()
    old.backup(str(tmp_path / "new"))  # a checkpoint, as a write makes
    return old, ox.Store(str(tmp_path / "new"))


def test_changed_nodes_between_names_the_subjects_and_objects_of_changed_triples(
    tmp_path: Path,
) -> None:
    old, new = _store_and_copy(tmp_path, f"<{_E}a> <{_E}p> <{_E}b> . <{_E}c> <{_E}p> 1 .")
    assert changed_nodes_between(old, new) == (set(), set())
    new.update(
        f"INSERT DATA {{ GRAPH <{_G}> {{ <{_E}d> <{_E}p> <{_E}a> }} }} ;"
        f"DELETE DATA {{ GRAPH <{_G}> {{ <{_E}c> <{_E}p> 1 }} }} ;"
        "INSERT DATA { GRAPH <https://w3id.org/citygraph/graph/meta> { <x:v> <x:v> 2 } }"
    )
    # subjects d (the added triple) and c (the removed one), with the referrers; a only gained
    # an edge into it, validated alone; graph:meta does not count
    assert changed_nodes_between(old, new) == ({_E + "c", _E + "d"}, {_E + "a"})


def test_a_changed_blank_node_stands_for_the_iris_that_refer_to_it(tmp_path: Path) -> None:
    old, new = _store_and_copy(tmp_path, f'<{_E}a> <{_E}note> [ <{_E}text> "x" ] .')
    new.update(
        f'WITH <{_G}> DELETE {{ ?n <{_E}text> "x" }} INSERT {{ ?n <{_E}text> "y" }} '
        f'WHERE {{ ?n <{_E}text> "x" }}'
    )
    assert changed_nodes_between(old, new) == ({_E + "a"}, set())


def test_a_change_to_the_class_hierarchy_validates_everything(tmp_path: Path) -> None:
    old, new = _store_and_copy(tmp_path, f"<{_E}a> <{_E}p> <{_E}b> .")
    new.update(
        f"INSERT DATA {{ GRAPH <{_G}> {{ <{_E}C> "
        f"<http://www.w3.org/2000/01/rdf-schema#subClassOf> <{_E}D> }} }}"
    )
    assert changed_nodes_between(old, new) is None

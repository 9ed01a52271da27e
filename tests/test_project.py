"""Which inputs a command uses: --project, else the working tree, else the installed copies.

Runs the `citygraph` installed from this checkout (a real process) in another checkout, as a
maintainer with a fork or a second clone does (issue 15 §2).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from tests.checkouts import ROOT, checkout, citygraph

from citygraph.project import Project, ProjectError

FAILING = ROOT / "tests" / "data" / "validation" / "failing.ttl"


@pytest.fixture
def other_checkout(tmp_path: Path) -> Path:
    """A second checkout: the same ontology and shapes, different data (one bad date)."""
    other = checkout(tmp_path / "fork", "ontology", "shapes")
    (other / "data").mkdir()
    shutil.copy(FAILING, other / "data" / "mine.ttl")
    (other / "docs").mkdir()
    return other


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return citygraph(cwd, *args)


def test_installed_citygraph_validates_the_working_trees_data(other_checkout: Path) -> None:
    done = _run("validate", "--format", "github", cwd=other_checkout)
    assert done.stderr.splitlines()[0] == f"citygraph: inputs: working tree {other_checkout}"
    assert done.returncode == 1, done.stderr
    assert done.stdout.splitlines()[0].startswith(
        "::error file=data/mine.ttl,line=45,col=18,title=Violation%3A Common-startDate::"
    )


def test_project_option_wins_over_the_working_tree(other_checkout: Path) -> None:
    done = _run("validate", "--project", str(other_checkout), "--format", "json", cwd=ROOT)
    assert done.stderr.splitlines()[0] == f"citygraph: inputs: --project {other_checkout}"
    assert done.returncode == 1, done.stderr
    assert str(other_checkout / "data" / "mine.ttl") in done.stdout


def test_outside_a_checkout_the_installed_copies_are_used(tmp_path: Path) -> None:
    mine = tmp_path / "mine.ttl"
    shutil.copy(FAILING, mine)
    done = _run("validate", "mine.ttl", cwd=tmp_path)
    shipped = Project.shipped().root
    assert done.stderr.splitlines()[0] == (
        f"citygraph: inputs: the copies installed with citygraph ({shipped})"
    )
    assert done.returncode == 1, done.stderr
    assert "(mine.ttl:45:18)" in done.stdout


def test_a_project_option_without_inputs_is_a_clear_error(tmp_path: Path) -> None:
    done = _run("validate", "--project", str(tmp_path), cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"citygraph: error: {tmp_path}: not a citygraph project "
        "(needs shapes/ and ontology/citygraph.ttl)"
    )


def test_the_installed_copies_are_complete() -> None:
    shipped = Project.shipped()
    assert shipped.ontology.is_file()
    assert {p.name for p in shipped.shapes.glob("*.ttl")} == {
        p.name for p in (ROOT / "shapes").glob("*.ttl")
    }
    assert {p.name for p in shipped.data.glob("*.ttl")} == {
        p.name for p in (ROOT / "data").glob("*.ttl")
    }
    assert (shipped.queries / "berlin-partners.rq").is_file()


def test_find_walks_up_to_the_checkout(other_checkout: Path) -> None:
    found = Project.find(cwd=other_checkout / "docs")
    assert (found.root, found.origin) == (other_checkout, "working tree")
    with pytest.raises(ProjectError):
        Project.find(other_checkout / "docs")

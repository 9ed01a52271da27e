"""``citygraph build`` when it cannot do its work: one line on stderr, exit 2, no store published
(README: "a command that cannot do its work says so in one line and exits 2"; a failed build
leaves the previous store). The command is run as a maintainer runs it, in a subprocess."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def build(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "citygraph", "build", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "says"),
    [
        pytest.param(["--project", "{empty}"], "not a citygraph project", id="not-a-project"),
        pytest.param(
            ["--backend-update", "http://127.0.0.1:9/update"], "need backend", id="update-alone"
        ),
        pytest.param(["--backend", "ftp://example.org/sparql"], "http://", id="not-http"),
    ],
)
def test_a_build_that_cannot_start_says_why_in_one_line_and_exits_2(
    tmp_path: Path, args: list[str], says: str
) -> None:
    (tmp_path / "empty").mkdir()
    store_dir = tmp_path / "store"
    given = [arg.format(empty=tmp_path / "empty") for arg in args]

    result = build("--store", str(store_dir), *given, cwd=ROOT)

    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("citygraph: error: "), result.stderr
    assert says in result.stderr
    assert result.stdout == ""
    assert not (store_dir / "current").exists()


def test_a_syntax_error_in_the_data_exits_2_naming_file_and_line(tmp_path: Path) -> None:
    project = tmp_path / "project"
    for folder in ("ontology", "shapes", "data"):
        shutil.copytree(ROOT / folder, project / folder)
    broken = project / "data" / "zz-broken.ttl"
    broken.write_text('@prefix ex: <http://example.org/> .\n\nex:a ex:b "open\n', encoding="utf-8")
    store_dir = tmp_path / "store"

    result = build("--project", str(project), "--store", str(store_dir), "--quiet", cwd=tmp_path)

    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.startswith(f"citygraph: error: {broken}:3"), result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert not (store_dir / "current").exists()


def test_a_remote_store_that_cannot_be_reached_exits_2_after_the_local_build(
    tmp_path: Path,
) -> None:
    # docs/backends.md: the validated build is published to the remote store after it is built
    # locally; a store that refuses it keeps serving its previous build, the command says so
    store_dir = tmp_path / "store"
    nothing = "http://127.0.0.1:9/"  # nothing listens on the discard port

    result = build(
        "--store", str(store_dir), "--quiet",
        "--backend", nothing + "query", "--backend-store", nothing + "store",
        cwd=ROOT,
    )  # fmt: skip

    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("citygraph: error: "), result.stderr
    assert "unreachable" in result.stderr
    assert result.stdout.startswith("built ")  # the local build was made and published
    assert (store_dir / "current").exists()

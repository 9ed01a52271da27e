"""`.pre-commit-hooks.yaml`: valid for pre-commit, and the documented local hook runs for real."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from pre_commit.clientlib import load_manifest
from tests.checkouts import git

ROOT = Path(__file__).resolve().parents[2]
FAILING = ROOT / "tests" / "data" / "validation" / "failing.ttl"
PASSING = ROOT / "tests" / "data" / "shapes" / "PartnershipShape" / "pass.ttl"
BIN = Path(sys.executable).parent


def test_hooks_file_is_a_valid_pre_commit_manifest() -> None:
    [hook] = load_manifest(str(ROOT / ".pre-commit-hooks.yaml"))
    assert hook["id"] == "citygraph-validate"
    assert hook["entry"] == "citygraph validate"
    assert hook["require_serial"] is True  # all files in one run: nodes refer across files


def _repository(tmp_path: Path, *files: Path) -> Path:
    repo = tmp_path / "their-data"
    repo.mkdir()
    for file in files:
        shutil.copy(file, repo / file.name)
    entry = f"{shlex.quote(str(BIN / 'citygraph'))} validate --format github"
    (repo / ".pre-commit-config.yaml").write_text(
        "repos:\n"
        "  - repo: local\n"
        "    hooks:\n"
        "      - id: citygraph-validate\n"
        "        name: citygraph validate\n"
        f"        entry: {entry}\n"
        "        language: system\n"
        "        files: \\.ttl$\n"
        "        require_serial: true\n",
        encoding="utf-8",
    )
    git(repo, "init", "-q")
    git(repo, "add", ".")
    return repo


def _pre_commit(repo: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "cache")}
    return subprocess.run(
        [str(BIN / "pre-commit"), "run", "--all-files"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def test_pre_commit_blocks_a_violation_and_names_the_line(tmp_path: Path) -> None:
    done = _pre_commit(_repository(tmp_path, FAILING, PASSING), tmp_path)
    assert done.returncode == 1, done.stdout
    assert "::error file=failing.ttl,line=45,col=18," in done.stdout


def test_pre_commit_passes_conforming_files(tmp_path: Path) -> None:
    done = _pre_commit(_repository(tmp_path, PASSING), tmp_path)
    assert done.returncode == 0, done.stdout

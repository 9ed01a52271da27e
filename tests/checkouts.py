"""Other checkouts for end-to-end tests: a git repository with copies of this one's inputs, and
the installed `citygraph` run in it as a real process."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CITYGRAPH = Path(sys.executable).parent / "citygraph"


def git(repo: Path, *args: str) -> None:
    """Run git in ``repo`` with a fixed author; fail the test if it fails."""
    subprocess.run(
        ["git", "-c", "user.email=t@example.org", "-c", "user.name=t", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


def checkout(target: Path, *folders: str) -> Path:
    """``target`` with copies of this checkout's ``folders`` (``ontology``, ``shapes``…)."""
    for folder in folders:
        shutil.copytree(ROOT / folder, target / folder)
    return target


def committed(repo: Path) -> Path:
    """``repo`` made a git repository with everything in it committed."""
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "base")
    return repo


def citygraph(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The installed ``citygraph`` with ``args``, run in ``cwd``; its output as text."""
    return subprocess.run(
        [str(CITYGRAPH), *args], cwd=cwd, capture_output=True, text=True, check=False, timeout=600
    )

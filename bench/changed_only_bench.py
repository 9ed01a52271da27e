"""``citygraph validate --store --changed-only`` against a full run, on the worldwide graph.

Run from the repository root (docs/validation.md has the figures)::

    python -m bench.changed_only_bench
    python -m bench.changed_only_bench --runs 5 --csv path/to/twin_cities_geocoded.csv

What it does, in a temporary copy of the repository's inputs made a git repository:

1. commits the inputs, then makes a maintainer's change to ``data/`` files (the scenarios
   below: one file changed since ``HEAD``, two since ``HEAD~1``), builds the store
   (``citygraph build``) and imports the worldwide twin-town list (``citygraph import twins``),
   as a pull request's CI would;
2. times ``citygraph validate --store … --format json`` and the same with ``--changed-only``
   for each scenario, in turn, ``--runs`` times each, each in its own process (wall time);
3. checks that the changed-only report is exactly the full report's results on the nodes it
   must validate (the changed file's subjects and the IRIs that refer to them in the store).

The machine's load average is printed with each run: a run on a busy machine is not a
measurement of the engine.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rdflib import Graph, URIRef

ROOT = Path(__file__).resolve().parents[1]
CITYGRAPH = Path(sys.executable).parent / "citygraph"
DEFAULT_CSV = ROOT.parent / "shared/datasets/wikipedia-twin-cities/twin_cities_geocoded.csv"

#: (name, file, text before, text after): small edits a maintainer makes.
SCENARIOS = (
    (
        "a partnership loses its source (data/wuppertal.ttl)",
        "wuppertal.ttl",
        '    cg:startDate "1960"^^xsd:gYear ;\n'
        "    prov:wasDerivedFrom source:engels-kultur-partner-cities .\n",
        '    cg:startDate "1960"^^xsd:gYear .\n',
    ),
    (
        "a city's coordinates corrected (data/places.ttl)",
        "places.ttl",
        "    schema:latitude 45.43389 ; schema:longitude 4.39 ;\n",
        "    schema:latitude 45.4339 ; schema:longitude 4.3872 ;\n",
    ),
)


def _run(args: list[str], cwd: Path) -> tuple[float, subprocess.CompletedProcess[str]]:
    start = time.perf_counter()
    done = subprocess.run(
        [str(CITYGRAPH), *args], cwd=cwd, capture_output=True, text=True, check=False, timeout=1800
    )
    seconds = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(f"citygraph {' '.join(args)} failed:\n{done.stderr}")
    return seconds, done


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=bench@example.org", "-c", "user.name=bench", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


def _expected(repo: Path, changed: list[Path]) -> set[str]:
    """The nodes --changed-only must validate, from its definition: the changed files' subjects
    and the IRIs that refer to one of them in the store."""
    import pyoxigraph as ox

    from citygraph import store

    written = {
        str(s) for path in changed for s in Graph().parse(path).subjects() if isinstance(s, URIRef)
    }
    target, _ = store.open_current(repo / "store")
    referrers = set()
    for node in written:
        for quad in target.quads_for_pattern(None, None, ox.NamedNode(node), None):
            if isinstance(quad.subject, ox.NamedNode):
                referrers.add(quad.subject.value)
    return written | referrers


def _edit(repo: Path, file: str, before: str, after: str) -> None:
    path = repo / "data" / file
    text = path.read_text(encoding="utf-8")
    if text.count(before) != 1:
        raise SystemExit(f"{file}: the scenario's text is not there once")
    path.write_text(text.replace(before, after), encoding="utf-8")


def _prepare(work: Path, csv: Path) -> Path:
    """One repository and one build for every scenario: commit the inputs, commit the second
    scenario's edit, leave the first one's in the working tree, build and import. Then
    ``--base HEAD`` sees the first file changed, ``--base HEAD~1`` both."""
    repo = work / "repo"
    for folder in ("ontology", "shapes", "data"):
        shutil.copytree(ROOT / folder, repo / folder)
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "base")
    _edit(repo, *SCENARIOS[1][1:])
    _git(repo, "commit", "-q", "-am", "second scenario")
    _edit(repo, *SCENARIOS[0][1:])
    for args in (
        ["build", "--store", "store", "--quiet"],
        ["import", "twins", str(csv), "--store", "store"],
    ):
        _, done = _run(args, repo)
        if done.returncode != 0:
            raise SystemExit(f"citygraph {' '.join(args)}:\n{done.stderr}")
    return repo


def _measure(repo: Path, runs: int) -> list[dict[str, object]]:
    full_args = ["validate", "--store", "store", "--format", "json"]
    kinds = {
        "full": full_args,
        SCENARIOS[0][0]: [*full_args, "--changed-only", "--base", "HEAD"],
        f"{SCENARIOS[0][0]} and {SCENARIOS[1][0]}": [
            *full_args,
            "--changed-only",
            "--base",
            "HEAD~1",
        ],
    }
    files = {
        SCENARIOS[0][0]: [SCENARIOS[0][1]],
        f"{SCENARIOS[0][0]} and {SCENARIOS[1][0]}": [SCENARIOS[0][1], SCENARIOS[1][1]],
    }
    times: dict[str, list[float]] = {kind: [] for kind in kinds}
    reports: dict[str, list[dict[str, object]]] = {}
    said: dict[str, str] = {}
    for _ in range(runs):
        for kind, args in kinds.items():
            seconds, done = _run(args, repo)
            times[kind].append(seconds)
            reports[kind] = json.loads(done.stdout)
            said[kind] = done.stderr.strip().splitlines()[-1]
            load = os.getloadavg()[0]
            print(f"  {seconds:6.1f} s  (load {load:.1f})  {kind}", file=sys.stderr)
    full = reports["full"]
    rows = []
    for kind in files:
        expected = _expected(repo, [repo / "data" / f for f in files[kind]])
        rows.append(
            {
                "scenario": kind,
                "nodes": said[kind].removeprefix("citygraph: --changed-only: "),
                "full_s": statistics.median(times["full"]),
                "changed_s": statistics.median(times[kind]),
                "full_results": len(full),
                "changed_results": len(reports[kind]),
                "agree": reports[kind] == [r for r in full if r["focus_node"] in expected],
            }
        )
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV, help="The twin-town list.")
    parser.add_argument("--runs", type=int, default=3, help="Runs of each kind (median).")
    parser.add_argument(
        "--prepared", type=Path, help="A repository an earlier run prepared (skip the build)."
    )
    args = parser.parse_args(argv)
    if args.prepared:
        rows = _measure(args.prepared, args.runs)
    else:
        with tempfile.TemporaryDirectory(prefix="changed-only-") as folder:
            rows = _measure(_prepare(Path(folder), args.csv), args.runs)
    print(
        "| change | validated | full run | --changed-only | results (full / changed-only) | agree |"
    )
    print("|---|---|---:|---:|---:|---|")
    for row in rows:
        print(
            f"| {row['scenario']} | {row['nodes']} | {row['full_s']:.1f} s "
            f"| {row['changed_s']:.1f} s | {row['full_results']:,} / {row['changed_results']:,} "
            f"| {row['agree']} |"
        )


if __name__ == "__main__":
    main()

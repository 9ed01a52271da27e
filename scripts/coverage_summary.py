"""Summarise `make coverage`: line and branch coverage per module of src/citygraph.

Reads the JSON report of coverage.py (``--cov-report=json:FILE``) and prints, per module,
statements and branches covered, the modules that carry the promises first (docs/testing.md).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

PROMISE_MODULES = (
    "build.py",
    "store.py",
    "validate.py",
    "cli.py",
    "web/endpoint.py",
    "web/sparql_text.py",
    "engine/pool.py",
    "engine/query_process.py",
    "web/negotiation.py",
    "web/linked_data/iris.py",
)


def main(argv: list[str]) -> int:
    report = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    rows = []
    for path, data in report["files"].items():
        name = path.split("citygraph/", 1)[-1]
        summary = data["summary"]
        rows.append((name not in PROMISE_MODULES, name, summary))
    print(f"{'module':40} {'lines':>7} {'branches':>9}")
    for _, name, s in sorted(rows):
        branches = s["covered_branches"] / s["num_branches"] if s["num_branches"] else 1.0
        marker = "*" if name in PROMISE_MODULES else " "
        print(f"{marker}{name:39} {s['percent_covered'] / 100:>7.1%} {branches:>9.1%}")
    totals = report["totals"]
    branches = totals["covered_branches"] / max(totals["num_branches"], 1)
    print(f" {'all of src/citygraph':39} {totals['percent_covered'] / 100:>7.1%} {branches:>9.1%}")
    print("(* the modules that carry the README's and docs' promises)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

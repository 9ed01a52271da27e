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
    "web/linked_data/routes.py",
    "report.py",
)


def _lines(summary: dict[str, int]) -> float:
    # not "percent_covered": with branch coverage on, that mixes lines and branches
    return (
        summary["covered_lines"] / summary["num_statements"] if summary["num_statements"] else 1.0
    )


def _branches(summary: dict[str, int]) -> float:
    return summary["covered_branches"] / summary["num_branches"] if summary["num_branches"] else 1.0


def main(argv: list[str]) -> int:
    report = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    rows = []
    for path, data in report["files"].items():
        name = path.split("citygraph/", 1)[-1]
        summary = data["summary"]
        rows.append((name not in PROMISE_MODULES, name, summary))
    print(f"{'module':40} {'lines':>7} {'branches':>9}")
    for _, name, s in sorted(rows):
        marker = "*" if name in PROMISE_MODULES else " "
        print(f"{marker}{name:39} {_lines(s):>7.1%} {_branches(s):>9.1%}")
    totals = report["totals"]
    print(f" {'all of src/citygraph':39} {_lines(totals):>7.1%} {_branches(totals):>9.1%}")
    print("(* the modules that carry the README's and docs' promises)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

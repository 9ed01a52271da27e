"""Summarise `make coverage`: line and branch coverage per module of src/citygraph.

Reads the JSON report of coverage.py (``--cov-report=json:FILE``) and prints, per module,
statements and branches covered, the modules that carry the promises first (docs/testing.md),
each marked against the goal of 90 % of its branches, then those modules together and all of
src/citygraph.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

#: The modules that carry the README's and docs' promises (docs/testing.md, issue 15 §3).
PROMISE_MODULES = (
    "build.py",
    "publish.py",
    "store.py",
    "validate.py",
    "report.py",
    "cli.py",
    "cli_build.py",
    "cli_exits.py",
    "cli_options.py",
    "cli_validate.py",
    "web/endpoint.py",
    "web/negotiation.py",
    "web/sparql_text.py",
    "web/linked_data/iris.py",
    "web/linked_data/routes.py",
    "engine/pool.py",
    "engine/query_process.py",
    "engine/serialise.py",
)
#: Share of its branches a promise module should have covered.
GOAL = 0.90
_COUNTS = ("covered_lines", "num_statements", "covered_branches", "num_branches")


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
        rows.append((name not in PROMISE_MODULES, name, data["summary"]))
    promised = dict.fromkeys(_COUNTS, 0)
    print(f"{'module':40} {'lines':>7} {'branches':>9}")
    for other, name, s in sorted(rows):
        if other:
            print(f" {name:39} {_lines(s):>7.1%} {_branches(s):>9.1%}")
            continue
        for key in _COUNTS:
            promised[key] += s[key]
        below = "" if _branches(s) >= GOAL else f"  < {GOAL:.0%}"
        print(f"*{name:39} {_lines(s):>7.1%} {_branches(s):>9.1%}{below}")
    missing = sorted(set(PROMISE_MODULES) - {name for _, name, _ in rows})
    if missing:
        print(f"(not measured: {', '.join(missing)})")
    print(
        f"*{'the promise modules together':39} {_lines(promised):>7.1%} {_branches(promised):>9.1%}"
    )
    totals = report["totals"]
    print(f" {'all of src/citygraph':39} {_lines(totals):>7.1%} {_branches(totals):>9.1%}")
    print(
        f"(* the modules that carry the README's and docs' promises; goal {GOAL:.0%} of branches)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

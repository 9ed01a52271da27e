"""Summarise `mutmut run` (called by `make mutate`): mutants per module and what survived.

Reads ``mutmut results --all true`` (one ``name: status`` line per mutant; those only a
subprocess reaches are filled in by ``scripts/mutation_subprocess.py``), prints the score of
each module and the surviving mutants, and writes them to ``var/mutation.json``; then the
hand-made mutants of ``scripts/mutation_by_hand.py`` (``var/mutation-by-hand.json``). The survivors
are explained (or killed by a new test) in docs/testing.md.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KILLED = {"killed", "timeout", "segfault"}


def main() -> int:
    output = subprocess.run(
        [str(Path(sys.executable).parent / "mutmut"), "results", "--all", "true"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    per_module: dict[str, Counter[str]] = defaultdict(Counter)
    survivors: dict[str, list[str]] = defaultdict(list)
    for line in output.splitlines():
        match = re.match(r"\s*(\S+)__mutmut_\d+: (.+)$", line)
        if not match:
            continue
        name, status = line.strip().rsplit(": ", 1)
        module = re.sub(r"\.x(ǁ|_).*$", "", match.group(1))
        per_module[module][status] += 1
        if status not in KILLED:
            survivors[module].append(f"{name} ({status})")
    if not per_module:
        print("no mutants found: run `mutmut run` first", file=sys.stderr)
        return 2
    total = Counter[str]()
    print(f"{'module':45} {'mutants':>8} {'killed':>8} {'score':>7}")
    for module, counts in sorted(per_module.items()):
        total.update(counts)
        killed = sum(counts[s] for s in KILLED)
        print(f"{module:45} {counts.total():>8} {killed:>8} {killed / counts.total():>7.1%}")
    killed = sum(total[s] for s in KILLED)
    print(f"{'all':45} {total.total():>8} {killed:>8} {killed / total.total():>7.1%}")
    for module, names in sorted(survivors.items()):
        print(f"\nsurvived in {module}:")
        for name in names:
            print(f"  {name}")
    by_hand = ROOT / "var" / "mutation-by-hand.json"
    if by_hand.exists():  # scripts/mutation_by_hand.py: the decorated functions
        hand = json.loads(by_hand.read_text(encoding="utf-8"))
        killed = sum(status == "killed" for status in hand.values())
        print(f"\nby hand (decorated functions): {killed} of {len(hand)} killed")
        for name, status in hand.items():
            if status != "killed":
                print(f"  {name} ({status})")
    out = ROOT / "var" / "mutation.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {"modules": {m: dict(c) for m, c in per_module.items()}, "survivors": survivors},
            indent=2,
        ),
        encoding="utf-8",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Test the mutants that only a subprocess reaches (after ``mutmut run``; ``make mutate``).

mutmut runs, for each mutant, the tests that called the mutated function in the test process.
Code that the tests run as a command (``citygraph validate``, ``citygraph build`` through
``python -m citygraph``) is never called there, so mutmut marks its mutants "no tests". The
mutants are active in those subprocesses all the same (they inherit ``MUTANT_UNDER_TEST`` and
``PYTHONPATH=mutants/src``): this script runs the given tests once per such mutant and records
the outcome where mutmut keeps its own (``mutants/**/*.py.meta``), so ``mutmut results``,
``mutmut show`` and ``scripts/mutation_summary.py`` report them like the others.

    python scripts/mutation_subprocess.py 'citygraph.cli.x_validate*' -- tests/test_cli.py::…
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path.cwd()
MUTANTS = ROOT / "mutants"
NO_TESTS = {5, 33}
KILLED, SURVIVED, TIMEOUT = 1, 0, 36


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("patterns", nargs="+", help="mutant names (fnmatch patterns)")
    parser.add_argument("--tests", nargs="+", required=True, help="pytest node ids or files")
    parser.add_argument("--timeout", type=float, default=600, help="seconds per mutant")
    parser.add_argument(
        "--survivors",
        action="store_true",
        help="also run the survivors again (after adding a test: a survivor it kills is killed)",
    )
    args = parser.parse_args(argv)
    metas = sorted(MUTANTS.glob("src/**/*.py.meta"))
    if not metas:
        print("no mutants: run `mutmut run` first", file=sys.stderr)
        return 2
    env = {**os.environ, "PYTHONPATH": str(MUTANTS / "src")}
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *args.tests]
    clean = subprocess.run(command, cwd=MUTANTS, env=env, capture_output=True, check=False)
    if clean.returncode:
        print(f"the tests fail without a mutant:\n{clean.stdout.decode()}", file=sys.stderr)
        return 2
    for meta_path in metas:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        codes: dict[str, int | None] = meta["exit_code_by_key"]
        todo = [
            name
            for name, code in codes.items()
            if (code in NO_TESTS or code is None or (args.survivors and code == SURVIVED))
            and any(fnmatch.fnmatch(name, p) for p in args.patterns)
        ]
        for name in todo:
            try:
                done = subprocess.run(
                    command,
                    cwd=MUTANTS,
                    env={**env, "MUTANT_UNDER_TEST": name},
                    capture_output=True,
                    timeout=args.timeout,
                    check=False,
                )
                code = KILLED if done.returncode else SURVIVED
            except subprocess.TimeoutExpired:
                code = TIMEOUT
            codes[name] = code
            print(f"{name}: {'survived' if code == SURVIVED else 'killed'}", flush=True)
            meta_path.write_text(json.dumps(meta, indent=4), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

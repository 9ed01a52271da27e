"""Mutants mutmut cannot make: the bodies of decorated functions (``make mutate``).

mutmut 3 leaves every decorated function alone, and the click commands (``citygraph
validate``, ``citygraph build``) and the FastAPI routes (``/id/…`` → 303) are decorated. This
script makes the one-line breaks that matter there, one at a time, in a copy of ``src/``, runs
the tests that hold the promise (the copy is first on ``PYTHONPATH``, so the commands and
servers the tests start run it too), and reports whether each break was noticed. The table
below is checked against the code: a line that no longer occurs exactly once is an error.

    python scripts/mutation_by_hand.py [NAME…]
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Mutant:
    name: str
    path: str  # under src/citygraph/
    old: str
    new: str
    tests: tuple[str, ...]


CLI = "tests/test_cli.py"
VIOLATION_BUILD = f"{CLI}::test_a_violation_stops_the_build_and_leaves_the_previous_store"
FAIL_ON = f"{CLI}::test_fail_on_sets_the_lowest_severity_that_fails"
FAILING = f"{CLI}::test_a_failing_fixture_exits_1_naming_the_node_and_the_rule"
BOTH = f"{CLI}::test_validate_store_and_paths_together_is_a_usage_error"
DEREF = "tests/linked_data/test_dereferencing.py"
LIMITS = "tests/web/test_limits.py"
FAIRNESS = "tests/web/test_fairness.py"
TIMES_OUT = f"{LIMITS}::test_heavy_query_times_out_and_its_work_is_stopped[embedded]"
WAITING = f"{FAIRNESS}::test_time_waiting_for_a_query_process_counts_against_the_timeout"
NO_PROCESS = f"{LIMITS}::test_waiting_for_a_free_process_counts_against_the_timeout"
TOO_MANY = f"{LIMITS}::test_too_many_concurrent_queries_get_503_with_retry_after[embedded]"
ONE_CLIENT = f"{FAIRNESS}::test_one_client_cannot_take_every_query_process"
#: Seconds a mutant's tests may take; a mutant that makes them hang longer is killed (as
#: mutmut counts a timeout).
TIMEOUT = 900

MUTANTS = (
    Mutant(
        "validate: never exit 1",
        "cli_validate.py",
        "    if not report.conforms(gate):\n        sys.exit(EXIT_NONCONFORMING)",
        "    if False:\n        sys.exit(EXIT_NONCONFORMING)",
        (FAILING, FAIL_ON),
    ),
    Mutant(
        "validate: --fail-on ignored",
        "cli_validate.py",
        "gate = Severity[fail_on.upper()]",
        "gate = Severity.VIOLATION",
        (FAIL_ON,),
    ),
    Mutant(
        "validate: --fail-on one step too strict",
        "cli_validate.py",
        "gate = Severity[fail_on.upper()]",
        "gate = min(Severity[fail_on.upper()], Severity.WARNING)",
        (FAIL_ON,),
    ),
    Mutant(
        "validate: exit 1 when it conforms",
        "cli_validate.py",
        "    if not report.conforms(gate):\n        sys.exit(EXIT_NONCONFORMING)",
        "    if report.conforms(gate):\n        sys.exit(EXIT_NONCONFORMING)",
        (FAIL_ON,),
    ),
    Mutant(
        "validate: --store with PATHs allowed",
        "cli_validate.py",
        "        if store_dir is not None and paths:",
        "        if False:",
        (BOTH,),
    ),
    Mutant(
        "build: validation switched off",
        "cli_build.py",
        'validate=announced_shapes_check(root / "shapes", quiet=quiet),',
        "validate=lambda target: None,",
        (VIOLATION_BUILD,),
    ),
    Mutant(
        "build: a Violation exits 0",
        "cli_build.py",
        "    except DataNotConformingError as error:\n        exit_not_conforming(error)",
        "    except DataNotConformingError as error:\n        sys.exit(0)",
        (VIOLATION_BUILD,),
    ),
    Mutant(
        "/id/: 302 instead of 303",
        "web/linked_data/routes.py",
        'return Response(status_code=303, headers={"Location": location, "Vary": "Accept"})',
        'return Response(status_code=302, headers={"Location": location, "Vary": "Accept"})',
        (DEREF,),
    ),
    Mutant(
        "/id/: no Vary",
        "web/linked_data/routes.py",
        'return Response(status_code=303, headers={"Location": location, "Vary": "Accept"})',
        'return Response(status_code=303, headers={"Location": location})',
        (DEREF,),
    ),
    Mutant(
        "/id/: redirect to itself",
        "web/linked_data/routes.py",
        'location = reader.local_base + "doc/" + path',
        'location = reader.local_base + "id/" + path',
        (DEREF,),
    ),
    Mutant(
        "/id/: any lang= echoed",
        "web/linked_data/routes.py",
        "    if lang in i18n.LANGUAGES:\n        location +=",
        "    if lang:\n        location +=",
        (DEREF,),
    ),
    Mutant(
        "/id/: lang= dropped",
        "web/linked_data/routes.py",
        "    if lang in i18n.LANGUAGES:\n        location +=",
        "    if False:\n        location +=",
        (DEREF,),
    ),
    Mutant(
        "/id/: unknown things redirected too",
        "web/linked_data/routes.py",
        '    if known is None:\n        return _missing(request, site, reader, "/id/" + path',
        '    if False:\n        return _missing(request, site, reader, "/id/" + path',
        (DEREF,),
    ),
    Mutant(
        "/id/: a pasted extension not understood",
        "web/linked_data/routes.py",
        "for candidate in dict.fromkeys((path, stem)):",
        "for candidate in dict.fromkeys((path,)):",
        (DEREF,),
    ),
    Mutant(
        "/ontology/<version>: 302 instead of 303",
        "web/linked_data/routes.py",
        'return Response(status_code=303, headers={"Location": reader.local_base + "ontology"})',
        'return Response(status_code=302, headers={"Location": reader.local_base + "ontology"})',
        (DEREF,),
    ),
    # The pool's limits and timeouts (engine/pool.py): its run loop and lanes are exercised by
    # tests with a server or a pool and heavy queries, minutes per mutant for mutmut.
    Mutant(
        "pool: time waiting for a process not counted",
        "engine/pool.py",
        "reply = self._exchange(child, job, deadline, timeout)",
        "reply = self._exchange(child, job, time.monotonic() + timeout, timeout)",
        (WAITING,),
    ),
    Mutant(
        "pool: no hard timeout (a minute more)",
        "engine/pool.py",
        "return await_reply(child.replies, child.pid, deadline=deadline, cpu_budget=budget)",
        "return await_reply(child.replies, child.pid, deadline=deadline + 60, cpu_budget=budget)",
        (TIMES_OUT,),
    ),
    Mutant(
        "pool: a timed-out process kept instead of killed",
        "engine/pool.py",
        "                self._leave(child, client)\n                self._discard(child)\n"
        "                if not child.fast",
        "                self._leave(child, client)\n                self._release(child)\n"
        "                if not child.fast",
        (TIMES_OUT,),
    ),
    Mutant(
        "pool: waiting for a process not bounded by the deadline",
        "engine/pool.py",
        "remaining = deadline - time.monotonic()",
        "remaining = deadline + 60 - time.monotonic()",
        (NO_PROCESS,),
    ),
    Mutant(
        "pool: no limit on queries at once",
        "engine/pool.py",
        "if self._inflight >= self.max_concurrent:",
        "if False:",
        (TOO_MANY,),
    ),
    Mutant(
        "pool: no limit on one client's queries at once",
        "engine/pool.py",
        "if self._client_inflight[client] >= self.client_max_queries:",
        "if False:",
        (ONE_CLIENT,),
    ),
    Mutant(
        "pool: one client may take every process",
        "engine/pool.py",
        "if self._idle and not capped:",
        "if self._idle:",
        (ONE_CLIENT,),
    ),
    Mutant(
        "pool: a timeout in the fast lane retried past the deadline",
        "engine/pool.py",
        "if not child.fast or time.monotonic() >= deadline:",
        "if not child.fast:",
        (
            f"{FAIRNESS}::test_lookup_is_answered_while_expensive_queries_hold_the_general_lane",
            TIMES_OUT,
        ),
    ),
)


def run(mutant: Mutant, copy: Path) -> bool:
    """True when the tests fail with ``mutant`` applied (it is killed)."""
    target = copy / "citygraph" / mutant.path
    original = (ROOT / "src" / "citygraph" / mutant.path).read_text(encoding="utf-8")
    if mutant.old and original.count(mutant.old) != 1:
        raise SystemExit(f"{mutant.name}: the line to break is not once in {mutant.path}")
    target.write_text(original.replace(mutant.old, mutant.new), encoding="utf-8")
    try:
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *mutant.tests],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(copy)},
            capture_output=True,
            check=False,
            timeout=TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        print(f"          (the tests ran longer than {TIMEOUT} s)", flush=True)
        return True
    finally:
        target.write_text(original, encoding="utf-8")
    if done.returncode:
        # Why: a failure of the machine (a server that did not start in time on a loaded
        # machine) is no kill; the first failed assertion tells which it was.
        lines = done.stdout.decode("utf-8", "replace").splitlines()
        why = [line for line in lines if line.startswith(("E ", "FAILED"))][:2]
        print("\n".join(f"          {line[:160]}" for line in why), flush=True)
    return done.returncode != 0


def main(argv: list[str]) -> int:
    chosen = [m for m in MUTANTS if not argv or m.name in argv]
    results: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="citygraph-mutants-") as tmp:
        copy = Path(tmp) / "src"
        shutil.copytree(ROOT / "src", copy, ignore=shutil.ignore_patterns("*.egg-info"))
        clean = Mutant(
            "no mutant", chosen[0].path, "", "", tuple({t: 0 for m in chosen for t in m.tests})
        )
        if run(clean, copy):
            print("the tests fail without a mutant", file=sys.stderr)
            return 2
        for mutant in chosen:
            results[mutant.name] = "killed" if run(mutant, copy) else "survived"
            print(f"{results[mutant.name]:9} {mutant.name}", flush=True)
    killed = sum(status == "killed" for status in results.values())
    print(f"{killed} of {len(results)} killed")
    out = ROOT / "var" / "mutation-by-hand.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

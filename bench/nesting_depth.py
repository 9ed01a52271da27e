"""How deep each SPARQL construct may nest before pyoxigraph overflows its stack (issue 9 §3).

Each text is evaluated in a child process (a stack overflow kills it with SIGSEGV); a bisection
finds, per construct, the largest repetition count that still runs. The gate of
``citygraph.web.nesting`` must stay far below every figure; ``docs/endpoint.md`` records them.

    .venv/bin/python -m bench.nesting_depth                 # every construct (a few minutes)
    .venv/bin/python -m bench.nesting_depth braces not      # some
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable

__all__ = ["CONSTRUCTS", "ENGINE", "crash_depth", "run_engine"]

#: Constructs that overflow pyoxigraph's stack when repeated a few thousand times, as n -> text.
CONSTRUCTS: dict[str, Callable[[int], str]] = {
    "braces": lambda n: "SELECT * " + "{" * n + "}" * n,
    "braces-unclosed": lambda n: "SELECT * " + "{" * n,
    "parentheses": lambda n: "SELECT * { FILTER(" + "(" * n + "1" + ")" * n + ") }",
    "not": lambda n: "SELECT * { FILTER(" + "!" * n + "true) }",
    "path-parentheses": lambda n: "SELECT * { ?s " + "(" * n + "<p>" + ")" * n + " ?o }",
    "optional-chain": lambda n: "SELECT * { " + " OPTIONAL {?s ?p ?o}" * n + " }",
    "union-chain": lambda n: "SELECT * { " + " UNION ".join(["{}"] * n) + " }",
    "minus-chain": lambda n: "SELECT * { " + " MINUS {?s ?p ?o}" * n + " }",
    "bind-chain": lambda n: "SELECT * { " + "".join(f"BIND(1 AS ?v{i}) " for i in range(n)) + "}",
    "filter-chain": lambda n: "SELECT * { " + "FILTER(true) " * n + "}",
    "or-chain": lambda n: "SELECT * { FILTER(" + "||".join(["true"] * n) + ") }",
    "plus-chain": lambda n: "SELECT * { FILTER(" + "+".join(["1"] * n) + ") }",
    "subselects": lambda n: "SELECT * " + "{ SELECT * " * n + "{}" + "}" * n,
    "update-where": lambda n: "DELETE { ?s ?p ?o } WHERE " + "{" * n + "}" * n,
    "escaped-braces": lambda n: "SELECT * " + "\\u007B" * n,
}

#: The child: evaluate (or apply) the text read from stdin on a one-triple store.
ENGINE = """
import sys
import pyoxigraph as ox
text = sys.stdin.read()
store = ox.Store()
store.add(ox.Quad(ox.NamedNode("http://a"), ox.NamedNode("http://p"), ox.NamedNode("http://o")))
try:
    if text.lstrip().startswith(("SELECT", "ASK")):
        result = store.query(text)
        if not isinstance(result, ox.QueryBoolean):
            list(result)
    else:
        store.update(text)
except (SyntaxError, ValueError, OSError, RuntimeError) as error:
    print(type(error).__name__)
"""


def run_engine(text: str) -> subprocess.CompletedProcess[str]:
    """Run :data:`ENGINE` on ``text`` in a child process (its return code shows a crash)."""
    return subprocess.run(
        [sys.executable, "-c", ENGINE],
        input=text,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def crash_depth(make: Callable[[int], str], *, low: int = 1, high: int = 50_000) -> int | None:
    """The smallest n (within 1 %) at which ``make(n)`` crashes the engine; None if even
    ``high`` does not."""
    if run_engine(make(high)).returncode == 0:
        return None
    while high - low > max(1, low // 100):
        middle = (low + high) // 2
        if run_engine(make(middle)).returncode == 0:
            low = middle
        else:
            high = middle
    return high


def main(argv: list[str]) -> int:
    names = argv or list(CONSTRUCTS)
    for name in names:
        depth = crash_depth(CONSTRUCTS[name])
        print(f"{name:18} {'no crash up to 50,000' if depth is None else f'crashes at {depth:,}'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

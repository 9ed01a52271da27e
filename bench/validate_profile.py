"""Where a build's validation spends its time: every query fastshacl runs, timed.

``python -m bench.validate_profile [--triples 1M]`` loads the repository's ontology and
vocabularies and the synthetic graph (into graph:worldwide, as ``bench.build_bench``) into an
in-memory store, derives as a build does, then validates it as ``citygraph build`` does
(``fastshacl.validate_store(..., copy=False)``) with every query timed in CPU seconds (the
machine is shared). It prints the total and the slowest queries. One process; nothing is written.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path

import pyoxigraph as ox

from bench import generate
from bench.build_bench import ROOT, SEED
from bench.run import ensure_data
from citygraph import fastshacl
from citygraph.build import BuildInput, default_build_inputs, load_inputs
from citygraph.fastshacl import engine
from citygraph.namespaces import GRAPH_CURATED, GRAPH_WORLDWIDE
from citygraph.publish import derive


class _Rows(list[ox.QuerySolution]):
    """Solutions already read, with their variables (what the engine asks of them)."""

    def __init__(self, variables: list[ox.Variable], rows: list[ox.QuerySolution]) -> None:
        super().__init__(rows)
        self.variables = variables


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.validate_profile", description=__doc__)
    parser.add_argument("--triples", default="1M")
    parser.add_argument("--top", type=int, default=15, help="slowest queries shown")
    args = parser.parse_args(argv)
    data = ensure_data(generate.parse_size(args.triples), SEED) / "data.nt"
    inputs = [i for i in default_build_inputs(ROOT) if i.graph != GRAPH_CURATED]
    inputs.append(BuildInput(Path(data), GRAPH_WORLDWIDE))
    target = ox.Store()
    started = time.monotonic()
    load_inputs(target, inputs)
    loaded = time.monotonic()
    derive(target)
    derived = time.monotonic()
    print(f"load {loaded - started:.1f} s, derive {derived - loaded:.1f} s, {len(target):,} quads")

    timings: list[tuple[float, str]] = []
    original = engine._Runner.select

    def timed(self: engine._Runner, query: str) -> ox.QuerySolutions:
        began = time.process_time()  # CPU seconds: the machine is shared
        solutions = original(self, query)
        rows = list(solutions)  # evaluation is lazy: time it to the last row
        timings.append((time.process_time() - began, query))
        return _Rows(solutions.variables, rows)  # type: ignore[return-value]

    engine._Runner.select = timed  # type: ignore[method-assign]
    began, cpu = time.monotonic(), time.process_time()
    report = fastshacl.validate_store(target, shapes_dir=ROOT / "shapes", copy=False)
    total, cpu = time.monotonic() - began, time.process_time() - cpu
    queries = sum(seconds for seconds, _ in timings)
    print(
        f"validate {total:.1f} s ({cpu:.1f} s CPU, of which queries {queries:.1f} s), "
        f"{len(timings)} queries, {len(report.results):,} results"
    )
    for seconds, query in sorted(timings, reverse=True)[: args.top]:
        print(f"{seconds:8.2f} s CPU  {' '.join(query.split())[:300]}")


if __name__ == "__main__":
    main()

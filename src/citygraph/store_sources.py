"""Where the nodes of a built store were written: the Turtle inputs its build recorded.

A build records the paths of its inputs (``builds/<version>.json``, ``"inputs"``). A result of
``citygraph validate --store`` is located in those files when they are still as they were built
(not modified after the build was published); otherwise, and for nodes that came from no file
(the worldwide layer, derived links), the result has no place rather than a wrong one.
"""

from __future__ import annotations

from pathlib import Path

from citygraph.shacl.graphs import load_graph
from citygraph.shacl.model import ValidationReport, locate
from citygraph.sourcemap import SourceMap
from citygraph.store import Build

__all__ = ["locate_in_build_inputs", "recorded_inputs"]


def recorded_inputs(build: Build) -> list[Path]:
    """The Turtle inputs ``build`` recorded that exist and were not changed since it was made."""
    meta = build.path.with_suffix(".json")
    if not meta.is_file():
        return []
    published = meta.stat().st_mtime
    inputs = [Path(p) for p in build.metadata.get("inputs", []) if str(p).endswith(".ttl")]
    return [p for p in inputs if p.is_file() and p.stat().st_mtime <= published]


def locate_in_build_inputs(report: ValidationReport, build: Build) -> ValidationReport:
    """``report`` with the place of each result whose node is written in a recorded input.

    Raises:
        InputSyntaxError: a recorded input no longer parses (it was changed after all).
    """
    files = recorded_inputs(build)
    if not files or not report.results:
        return report
    return locate(report, SourceMap.read(files).locator(load_graph(files)))

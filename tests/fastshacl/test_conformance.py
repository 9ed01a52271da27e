"""fastshacl gives pySHACL's results on every shape fixture and on the repository's data.

The results are compared as multisets of (focus node, source shape, constraint component,
severity, path, value); blank nodes by their canonical form (see ``compare.py``). pySHACL
(``citygraph.validate``) is the reference.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.fastshacl.compare import both, difference

from citygraph.validate import default_inputs, repository_root

ROOT = repository_root()
SHAPES = ROOT / "shapes"
FIXTURES = ROOT / "tests" / "data" / "shapes"
VOCAB = [ROOT / "ontology" / "citygraph.ttl", *sorted((ROOT / "ontology" / "vocab").glob("*.ttl"))]


def _fixtures() -> list[object]:
    return [
        pytest.param(folder / f"{kind}.ttl", id=f"{folder.name}/{kind}")
        for folder in sorted(p for p in FIXTURES.iterdir() if p.is_dir())
        for kind in ("pass", "fail")
    ]


@pytest.mark.parametrize("fixture", _fixtures())
def test_fixture_results_equal_pyshacl(fixture: Path) -> None:
    reference, fast = both([*VOCAB, fixture], SHAPES)
    assert reference == fast, difference(reference, fast)


def test_repository_data_results_equal_pyshacl() -> None:
    reference, fast = both(default_inputs(ROOT), SHAPES)
    assert reference, "the repository's data is expected to have at least Info results"
    assert reference == fast, difference(reference, fast)

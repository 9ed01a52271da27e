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


def _rdflib_only_target() -> bool:
    """Whether shapes/ still has the PartnerPairShape target that only rdflib evaluates so.

    Its ``FILTER (!sameTerm(?other, ?this))`` sits inside a UNION branch where ``?this`` is not
    bound: under SPARQL 1.1's bottom-up semantics (Oxigraph) the filter is an error and the
    branch is empty; rdflib evaluates the branch with ``?this`` already bound. The portable
    rewrite is in docs/validation-at-scale.md and bench/validate_bench.py.
    """
    text = (SHAPES / "partnerships.ttl").read_text(encoding="utf-8")
    return "FILTER (!sameTerm(?other, ?this)) }" in text


def _fixtures() -> list[object]:
    affected = {"PartnerPairShape/fail", "Partnership-onePerPair/fail"}
    cases: list[object] = []
    for folder in sorted(p for p in FIXTURES.iterdir() if p.is_dir()):
        for kind in ("pass", "fail"):
            name = f"{folder.name}/{kind}"
            marks = []
            if name in affected and _rdflib_only_target():
                marks.append(
                    pytest.mark.xfail(
                        strict=True,
                        reason="shapes/partnerships.ttl: SPARQL target relies on rdflib's "
                        "filter scoping (docs/validation-at-scale.md)",
                    )
                )
            cases.append(pytest.param(folder / f"{kind}.ttl", id=name, marks=marks))
    return cases


@pytest.mark.parametrize("fixture", _fixtures())
def test_fixture_results_equal_pyshacl(fixture: Path) -> None:
    reference, fast = both([*VOCAB, fixture], SHAPES)
    assert reference == fast, difference(reference, fast)


def test_repository_data_results_equal_pyshacl() -> None:
    reference, fast = both(default_inputs(ROOT), SHAPES)
    assert reference, "the repository's data is expected to have at least Info results"
    assert reference == fast, difference(reference, fast)

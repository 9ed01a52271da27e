"""Own and cross checks (``citygraph.fastshacl.reach``): together they give the whole report,
and the own checks give the same results on pieces of the data cut between subjects, where the
cross checks would not."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pyoxigraph as ox
import pytest

from citygraph.fastshacl import load_shapes
from citygraph.fastshacl.engine import run
from citygraph.fastshacl.loading import load_files
from citygraph.fastshacl.reach import split_by_reach
from citygraph.fastshacl.shapes import ShapesGraph
from citygraph.fastshacl.terms import text
from citygraph.shacl.model import ValidationReport, ValidationResult
from citygraph.validate import default_inputs, repository_root

ROOT = repository_root()
SHAPES = ROOT / "shapes"
VOCAB = [ROOT / "ontology" / "citygraph.ttl", *sorted((ROOT / "ontology" / "vocab").glob("*.ttl"))]
FAILING = sorted((ROOT / "tests" / "data" / "shapes").glob("*/fail.ttl"))


@pytest.fixture(scope="module")
def shapes() -> ShapesGraph:
    return load_shapes(SHAPES)


def _loaded(paths: list[Path]) -> ox.Store:
    store = ox.Store()
    load_files(store, paths)
    return store


def _results(store: ox.Store, shapes: ShapesGraph) -> tuple[ValidationResult, ...]:
    return run(store, shapes, files=True, union=False).results


def test_every_failing_fixture_is_checked_at_all() -> None:
    assert len(FAILING) >= 50


@pytest.mark.parametrize("fixture", FAILING, ids=lambda p: p.parent.name)
def test_own_and_cross_checks_together_give_the_whole_report(
    fixture: Path, shapes: ShapesGraph
) -> None:
    own, cross = split_by_reach(shapes)
    store = _loaded([*VOCAB, fixture])

    whole = _results(store, shapes)
    together = ValidationReport.of([*_results(store, own), *_results(store, cross)]).results

    assert whole  # the fixture has known violations
    assert together == whole


def test_cross_checks_are_those_that_read_other_nodes(shapes: ShapesGraph) -> None:
    own, cross = split_by_reach(shapes)
    own_names = {s.name.rsplit("#", 1)[-1] for s in own.targeted}
    cross_names = {s.name.rsplit("#", 1)[-1] for s in cross.targeted}

    # SPARQL targets and constraints that join nodes, and targets through a referrer
    assert {"PartnerPairShape", "TwinnedWithShape", "GeometryShape"} <= cross_names
    assert "PartnerPairShape" not in own_names
    # a partnership's counts and labels are its own; its partners' types are not
    assert "PartnershipShape" in own_names
    assert "PartnershipShape" in cross_names


def _owner(store: ox.Store, node: ox.NamedNode | ox.BlankNode) -> ox.NamedNode | None:
    """The IRI a blank node hangs from (its first referrer, followed up), or the node."""
    seen: set[ox.BlankNode] = set()
    while isinstance(node, ox.BlankNode) and node not in seen:
        seen.add(node)
        referrers = [q.subject for q in store.quads_for_pattern(None, None, node, None)]
        if not referrers:
            return None
        node = min(referrers, key=str)
    return node if isinstance(node, ox.NamedNode) else None


def test_own_checks_give_the_same_results_on_pieces_cut_between_subjects(
    shapes: ShapesGraph,
) -> None:
    data = [p for p in default_inputs(ROOT) if p not in VOCAB]
    whole_store = _loaded([*VOCAB, *data])
    data_store = _loaded(data)
    subjects = {q.subject for q in data_store.quads_for_pattern(None, None, None, None)}
    owners = {s: _owner(data_store, s) for s in subjects}
    iris = sorted({o for o in owners.values() if o is not None}, key=str)
    pieces = [set(iris[0::3]), set(iris[1::3]), set(iris[2::3])]  # neighbours land apart
    own, cross = split_by_reach(shapes)
    in_data = {text(s) for s in subjects}

    def of_data(results: Iterable[ValidationResult], nodes: set[str]) -> list[ValidationResult]:
        return [r for r in results if r.focus_node in nodes]

    expected = ValidationReport.of(of_data(_results(whole_store, own), in_data)).results
    pieced: list[ValidationResult] = []
    cross_pieced: list[ValidationResult] = []
    for piece in pieces:
        store = _loaded(VOCAB)
        mine = {s for s, owner in owners.items() if owner in piece}
        store.extend(
            ox.Quad(q.subject, q.predicate, q.object)
            for s in mine
            for q in data_store.quads_for_pattern(s, None, None, None)
        )
        nodes = {text(s) for s in mine}
        pieced += of_data(_results(store, own), nodes)
        cross_pieced += of_data(_results(store, cross), nodes)

    assert expected  # the repository's data has results of its own (Warnings, Infos)
    assert ValidationReport.of(pieced).results == expected
    # the cross checks cut this way would report references into other pieces
    whole_cross = ValidationReport.of(of_data(_results(whole_store, cross), in_data)).results
    assert ValidationReport.of(cross_pieced).results != whole_cross

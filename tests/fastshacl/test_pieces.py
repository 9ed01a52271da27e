"""Validation in pieces (``citygraph.fastshacl.pieces``, issue 10 §4): the same report as the
whole store validated at once, on data with known violations and on the repository's data, and a
build validated in pieces that finds a Violation publishes nothing."""

from __future__ import annotations

import contextlib
import tempfile
import threading
import time
from pathlib import Path

import pyoxigraph as ox
import pytest

from citygraph import store
from citygraph.build import (
    BuildInput,
    build_store,
    default_build_inputs,
    load_inputs,
    shapes_check,
    validate_build,
)
from citygraph.errors import DataNotConformingError, StoreNotFoundError
from citygraph.fastshacl import load_shapes
from citygraph.fastshacl.engine import run
from citygraph.fastshacl.pieces import _deal, validate_in_pieces
from citygraph.fastshacl.shapes import ShapesGraph
from citygraph.namespaces import GRAPH_CURATED, GRAPH_ONTOLOGY, GRAPH_VOCAB
from citygraph.publish import derive
from citygraph.shacl.model import Severity, ValidationResult
from citygraph.validate import repository_root

ROOT = repository_root()
SHAPES = ROOT / "shapes"
CONTEXT = (GRAPH_ONTOLOGY, GRAPH_VOCAB)
FAILING = sorted((ROOT / "tests" / "data" / "shapes").glob("*/fail.ttl"))


@pytest.fixture(scope="module")
def shapes() -> ShapesGraph:
    return load_shapes(SHAPES)


def _built(data: list[Path]) -> ox.Store:
    """An in-memory store filled and derived as a build fills it: ontology and vocabularies
    in their graphs, ``data`` in graph:curated."""
    inputs = [i for i in default_build_inputs(ROOT) if i.graph != GRAPH_CURATED]
    inputs += [BuildInput(path, GRAPH_CURATED) for path in data]
    target = ox.Store()
    load_inputs(target, inputs)
    derive(target)
    return target


def _whole(target: ox.Store, shapes: ShapesGraph) -> tuple[ValidationResult, ...]:
    return run(target, shapes, files=False, union=True).results


def _pieced(
    target: ox.Store, shapes: ShapesGraph, pieces: int, tmp_path: Path
) -> tuple[ValidationResult, ...]:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    report = validate_in_pieces(target, shapes, context=CONTEXT, pieces=pieces, scratch=scratch)
    assert list(scratch.iterdir()) == []  # the dump and the pieces are gone
    return report.results


@pytest.mark.parametrize("fixture", FAILING, ids=lambda p: p.parent.name)
def test_pieces_give_the_report_of_the_whole_store_on_each_failing_fixture(
    fixture: Path, shapes: ShapesGraph, tmp_path: Path
) -> None:
    target = _built([fixture])
    whole = _whole(target, shapes)

    assert any(r.severity is Severity.VIOLATION for r in whole)  # the known violations
    # same focus nodes, shapes, components, paths, values and messages, in the same order
    assert _pieced(target, shapes, 3, tmp_path) == whole


def test_pieces_give_the_report_of_the_whole_store_on_the_repository_data(
    shapes: ShapesGraph, tmp_path: Path
) -> None:
    target = _built(sorted((ROOT / "data").glob("*.ttl")))
    whole = _whole(target, shapes)

    assert whole  # the repository's data has Warnings and Infos of its own
    assert _pieced(target, shapes, 5, tmp_path) == whole


def test_blank_nodes_keep_their_labels_in_the_results(shapes: ShapesGraph, tmp_path: Path) -> None:
    data = tmp_path / "blank.ttl"
    data.write_text(
        "@prefix cg: <https://w3id.org/citygraph/ontology#> .\n"
        "@prefix prov: <http://www.w3.org/ns/prov#> .\n"
        "[] a cg:Partnership ; cg:partner <https://w3id.org/citygraph/id/city/x> .\n",
        encoding="utf-8",
    )
    target = _built([data])
    whole = _whole(target, shapes)
    blank_focus = {r.focus_node for r in whole if r.focus_node.startswith("_:")}

    assert blank_focus  # the blank partnership lacks a label, a status…
    assert _pieced(target, shapes, 2, tmp_path) == whole


def test_a_build_validated_in_pieces_reports_as_the_whole_and_publishes_nothing(
    tmp_path: Path,
) -> None:
    fixture = ROOT / "tests" / "data" / "shapes" / "PartnershipShape" / "fail.ttl"
    inputs = [i for i in default_build_inputs(ROOT) if i.graph != GRAPH_CURATED]
    inputs.append(BuildInput(fixture, GRAPH_CURATED))
    root = tmp_path / "store"
    whole = validate_build(_built([fixture]), SHAPES)

    with pytest.raises(DataNotConformingError) as caught:
        build_store(root, inputs, validate=shapes_check(SHAPES, piece_quads=400))

    assert caught.value.report.results == whole.results
    with pytest.raises(StoreNotFoundError):
        store.current_build(root)
    assert [p.name for p in (root / "builds").iterdir()] == []


def test_a_build_validated_in_pieces_keeps_them_in_the_store_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pieces are the build's scratch files: beside the build in progress, in the store's
    directory, not in the default temporary directory (often memory), and gone afterwards."""
    default = tmp_path / "tmp"
    default.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(default))  # where tempfile would put them
    root = tmp_path / "store"
    seen: set[Path] = set()
    done = threading.Event()

    def look() -> None:  # the piece files, while they exist
        while not done.is_set():
            for where in (root, default):
                with contextlib.suppress(OSError):  # files come and go meanwhile
                    seen.update(where.rglob("piece-*.nq"))
            time.sleep(0.01)

    watcher = threading.Thread(target=look)
    watcher.start()
    try:
        result = build_store(
            root, default_build_inputs(ROOT), validate=shapes_check(SHAPES, piece_quads=400)
        )
    finally:
        done.set()
        watcher.join()

    assert seen  # validated in pieces
    assert all(path.is_relative_to(root / "builds") for path in seen), seen
    assert list(default.iterdir()) == []
    left = sorted(p.name for p in (root / "builds").iterdir())
    assert left == sorted([result.build.path.name, result.build.path.name + ".json"])


def test_the_pieces_hold_the_stores_quads_each_subject_in_one(tmp_path: Path) -> None:
    """Dealt from the streamed dump: every quad once, all of a subject's quads in one piece,
    whatever its literals hold (line breaks, other control characters, long values)."""
    target = ox.Store()
    graph, predicate = ox.NamedNode("http://example.org/g"), ox.NamedNode("http://example.org/p")
    target.bulk_extend(
        ox.Quad(
            ox.BlankNode(f"b{i % 50}") if i % 3 == 0 else ox.NamedNode(f"http://e.org/s{i % 700}"),
            predicate,
            ox.Literal(f"v\r\n\x0b\x85 é {i} " + "x" * (i % 3000)),
            graph,
        )
        for i in range(20_000)
    )
    paths = [tmp_path / f"piece-{i}.nq" for i in range(3)]

    _deal(target, paths)

    by_piece = [list(ox.parse(path=str(p), format=ox.RdfFormat.N_QUADS)) for p in paths]
    assert sorted(str(q) for piece in by_piece for q in piece) == sorted(str(q) for q in target)
    subjects = [{str(q.subject) for q in piece} for piece in by_piece]
    assert all(piece for piece in subjects)  # three pieces, none empty here
    assert sum(len(s) for s in subjects) == len(set().union(*subjects))  # no subject in two

"""Validating a store too large for one in-memory copy: its own-node checks piece by piece.

Issue 10 §4. :func:`citygraph.fastshacl.reach.split_by_reach` divides the shapes into the
checks of a focus node's own triples (own) and the rest (cross). :func:`validate_in_pieces`
runs the cross half once on the whole store, and the own half on pieces of it, one at a time,
each in a small in-memory store: the store's N-Quads dump is dealt, as it streams, to
``pieces`` files by its lines' subject (a hash of its N-Triples form; the dump is never written
whole), so each piece holds *all* of the triples of its subjects, from every graph (what the
data says and what the build derived), whichever input they came from. Each piece is validated
with the ``context`` graphs (the ontology and vocabularies: class hierarchy, concept schemes)
and every ``rdfs:subClassOf`` triple beside it, and keeps only the results of its own focus
nodes (a context node or a node without triples, targeted by ``sh:targetNode``, is a focus in
every piece).

The report is the one :func:`citygraph.fastshacl.engine.run` gives on the whole store
(``tests/fastshacl/test_pieces.py``); memory is that of the largest piece instead of the whole
store, and the cross half, run on the store itself, reads what it needs (types, references,
the predicates its SPARQL names) through the store's indexes.
"""

from __future__ import annotations

import mmap
import zlib
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import BinaryIO, Final, cast

import pyoxigraph as ox

from citygraph.fastshacl.engine import run
from citygraph.fastshacl.reach import split_by_reach
from citygraph.fastshacl.shapes import RDFS, ShapesGraph
from citygraph.shacl.model import ValidationReport, ValidationResult

__all__ = ["PIECE_QUADS", "piece_count", "validate_in_pieces"]

#: Quads per piece: about 1 GB of in-memory store and validation's intermediate results (the
#: build of 1.2M quads of the synthetic 1M graph, validated at once in memory, peaks at 645 MB).
PIECE_QUADS: Final = 2_000_000
_SUBCLASS: Final = ox.NamedNode(RDFS + "subClassOf")


def piece_count(quads: int, piece_quads: int = PIECE_QUADS) -> int:
    """How many pieces of at most ``piece_quads`` quads a store of ``quads`` quads is validated
    in (at least one).

    >>> piece_count(10), piece_count(2_500_000, 1_000_000)
    (1, 3)
    """
    return max(1, -(-quads // piece_quads))


def validate_in_pieces(
    store: ox.Store,
    shapes: ShapesGraph,
    *,
    context: Sequence[str],
    pieces: int,
    scratch: Path,
) -> ValidationReport:
    """Validate the union of the graphs of ``store`` against ``shapes``: the cross half on
    ``store``, the own half in ``pieces`` pieces (see the module docstring); ``context``: the
    IRIs of the graphs every piece is validated with; ``scratch``: an empty directory for the
    pieces (left empty).

    Raises:
        ShapesError: a shape compiles to a query Oxigraph rejects.
    """
    own, cross = split_by_reach(shapes)
    results = list(run(store, cross, files=False, union=True).results)
    shared = _context(store, context)
    paths = [scratch / f"piece-{i}.nq" for i in range(pieces)]
    try:
        _deal(store, paths)
        for index, path in enumerate(paths):
            results += _validate_piece(path, shared, own, index, pieces)
            path.unlink()
    finally:
        for path in paths:
            path.unlink(missing_ok=True)
    return ValidationReport.of(results)


def _context(store: ox.Store, graphs: Sequence[str]) -> list[ox.Quad]:
    quads = [q for g in graphs for q in store.quads_for_pattern(None, None, None, ox.NamedNode(g))]
    quads += store.quads_for_pattern(None, _SUBCLASS, None, None)
    return quads


def _piece_of(key: bytes, pieces: int) -> int:
    return zlib.crc32(key) % pieces


def _deal(store: ox.Store, paths: Sequence[Path]) -> None:
    """Deal the quads of ``store`` to the N-Quads files ``paths`` by their subject: the store's
    N-Quads dump is streamed through :class:`_Dealer`, never written whole (as fast as the
    dump to a file was: a quad at a time from Python costs four times the CPU)."""
    with ExitStack() as stack:
        dealer = _Dealer([stack.enter_context(p.open("wb")) for p in paths])
        # pyoxigraph only calls write() and flush() of its output
        store.dump(output=cast("BinaryIO", dealer), format=ox.RdfFormat.N_QUADS)
        assert not dealer.rest, "the dump ends with a line break"


class _Dealer:
    """A writable that deals each line written to it to one of ``outs`` by its subject (the
    line's text before its first space, which :func:`_key` gives for a focus node)."""

    def __init__(self, outs: Sequence[BinaryIO]) -> None:
        self.outs = outs
        self.rest = b""  # the start of a line whose end is still to come

    def write(self, data: bytes) -> int:
        lines = self.rest + bytes(data)
        end = lines.rfind(b"\n")
        self.rest = lines[end + 1 :]
        outs, pieces = self.outs, len(self.outs)
        if end >= 0:  # only "\n" ends a line: N-Quads escapes it, and "\r", in literals
            for line in lines[:end].split(b"\n"):
                outs[zlib.crc32(line[: line.find(b" ")]) % pieces].write(line + b"\n")
        return len(data)

    def flush(self) -> None:
        """Nothing to do: the files are flushed as they close."""


def _validate_piece(
    path: Path, shared: list[ox.Quad], own: ShapesGraph, index: int, pieces: int
) -> Iterator[ValidationResult]:
    piece = ox.Store()
    piece.bulk_extend(shared)
    if _has_blank_nodes(path):  # keep their labels: results name them (Store.load renames them)
        piece.bulk_extend(ox.parse(path=str(path), format=ox.RdfFormat.N_QUADS))
    else:
        piece.load(path=str(path), format=ox.RdfFormat.N_QUADS)
    for result in run(piece, own, files=False, union=True).results:
        if _piece_of(_key(result.focus_node), pieces) == index:
            yield result


def _has_blank_nodes(path: Path) -> bool:
    """Whether the N-Quads file ``path`` may name a blank node (``_:`` anywhere: a literal that
    contains it only costs the slower load), searched without reading it into memory."""
    if path.stat().st_size == 0:
        return False
    with path.open("rb") as file, mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as data:
        return data.find(b"_:") >= 0


def _key(focus_node: str) -> bytes:
    """The N-Quads form of a result's focus node, as :func:`_deal` hashes it as a subject."""
    if focus_node.startswith("_:"):
        return focus_node.encode()
    if focus_node.startswith('"'):
        return focus_node.encode()  # a literal (sh:targetNode): in no piece's lines, kept once
    return str(ox.NamedNode(focus_node)).encode()

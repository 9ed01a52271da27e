"""Building the store: parse and load the inputs, then the build transaction.

``build_store`` is what ``citygraph build`` runs; ``replace_graph`` is what importers run. Both
fill in the new version (in an in-memory Oxigraph store when it fits: loading, deriving and
validating there is several times faster than on disk; else on the new on-disk build directly,
slower, with memory bounded by Oxigraph's own caches) and hand it to the one build transaction,
:func:`citygraph.publish.publish`, which derives, records, validates, writes and publishes it
atomically, as it does for HTTP writes. Each step either finishes or leaves the previously
published store untouched (see :mod:`citygraph.store`). ``DERIVE_UPDATES``, ``derive`` and
``BuildResult`` live in :mod:`citygraph.publish` and are re-exported here.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence, Set, Sized
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pyoxigraph as ox

from citygraph import sizing, store
from citygraph.errors import (
    BuildError,
    DataNotConformingError,
    InputSyntaxError,
    StoreNotFoundError,
)
from citygraph.namespaces import (
    GRAPH_CURATED,
    GRAPH_DERIVED,
    GRAPH_META,
    GRAPH_ONTOLOGY,
    GRAPH_VOCAB,
    GRAPH_WORLDWIDE,
)
from citygraph.publish import (
    BUILD_SCRATCH,
    DERIVE_UPDATES,
    BuildResult,
    derive,
    new_version,
    publish,
)

if TYPE_CHECKING:
    from citygraph.shacl.model import ValidationReport

__all__ = [
    "DERIVE_UPDATES",
    "BuildInput",
    "BuildResult",
    "ProgressCallback",
    "build_store",
    "default_build_inputs",
    "derive",
    "load_inputs",
    "replace_graph",
    "shapes_check",
    "validate_build",
]

#: Reports ``(what, quads so far)`` while a build loads: once per input file, with the quads it
#: gave, and every ``PROGRESS_EVERY`` quads of a graph copied or imported.
ProgressCallback = Callable[[str, int], None]
PROGRESS_EVERY = 100_000
#: How long a build waits for another build or write on the same store to finish.
LOCK_TIMEOUT = 600.0

RDF_FORMATS = {
    ".ttl": ox.RdfFormat.TURTLE,
    ".nt": ox.RdfFormat.N_TRIPLES,
    ".nq": ox.RdfFormat.N_QUADS,
    ".trig": ox.RdfFormat.TRIG,
}


@dataclass(frozen=True)
class BuildInput:
    """One file to load and the named graph it goes to."""

    path: Path
    graph: str


def default_build_inputs(root: Path) -> list[BuildInput]:
    """The repository's ontology, vocabularies and curated data, each to its graph."""
    inputs = [BuildInput(root / "ontology" / "citygraph.ttl", GRAPH_ONTOLOGY)]
    inputs += [
        BuildInput(p, GRAPH_VOCAB) for p in sorted((root / "ontology" / "vocab").glob("*.ttl"))
    ]
    inputs += [BuildInput(p, GRAPH_CURATED) for p in sorted((root / "data").glob("*.ttl"))]
    return inputs


def load_inputs(
    target: ox.Store,
    inputs: Sequence[BuildInput],
    *,
    progress: ProgressCallback | None = None,
) -> None:
    """Parse every input with Oxigraph's bulk loader into its graph (quads of a TriG or N-Quads
    file that name their own graph stay in it).

    Raises:
        InputSyntaxError: naming the file, line and column of the first syntax error.
    """
    for item in inputs:
        rdf_format = RDF_FORMATS.get(item.path.suffix)
        if rdf_format is None:
            raise InputSyntaxError(
                f"unknown RDF file type {item.path.suffix!r} (use .ttl, .nt, .nq or .trig)",
                path=item.path,
            )
        before = len(target) if progress is not None else 0
        try:
            target.bulk_load(
                path=str(item.path), format=rdf_format, to_graph=ox.NamedNode(item.graph)
            )
        except SyntaxError as error:
            raise _syntax_error(error, item.path) from None
        except OSError as error:
            raise InputSyntaxError(
                f"cannot read: {error.strerror or error}", path=item.path
            ) from None
        if progress is not None:
            progress(str(item.path), len(target) - before)


def shapes_check(
    shapes_dir: Path,
    *,
    focus: Callable[[ox.Store], tuple[Set[str], Set[str]] | None] | None = None,
    copy: bool = False,
    piece_quads: int | None = None,
) -> Callable[[ox.Store], None]:
    """A ``validate`` callback for :func:`build_store` and :func:`replace_graph` (and HTTP
    writes): validates the union of all graphs with :mod:`citygraph.fastshacl` and stops at the
    first Violation.

    ``focus`` gives, for the store to check, the IRIs to validate (None: everything): nodes
    validated with the IRIs that refer to them, as ``citygraph validate --changed-only`` does,
    and nodes validated alone (:func:`citygraph.fastshacl.validate_store`'s ``focus`` and
    ``focus_alone``); everything above :data:`citygraph.fastshacl.FOCUS_LIMIT` nodes.
    ``copy``: an on-disk store, copied into memory before everything is validated when it fits
    (several times faster). Without ``focus``, the store is validated by :func:`validate_build`
    (in pieces of ``piece_quads`` quads when it is larger).

    Raises (from the callback):
        DataNotConformingError: carrying the report, when any result is a Violation.
    """

    def check(target: ox.Store) -> None:
        from citygraph import fastshacl
        from citygraph.shacl.model import Severity

        changed = None if focus is None else focus(target)
        if changed is None:
            report = validate_build(target, shapes_dir, copy=copy, piece_quads=piece_quads)
        else:
            nodes, alone = changed
            in_memory = copy and sizing.fits_in_memory(len(target))
            report = fastshacl.validate_store(
                target, shapes_dir=shapes_dir, copy=in_memory, focus=nodes, focus_alone=alone
            )
        if not report.conforms(Severity.VIOLATION):
            raise DataNotConformingError(report)

    return check


def validate_build(
    target: ox.Store, shapes_dir: Path, *, copy: bool = False, piece_quads: int | None = None
) -> ValidationReport:
    """Validate everything in a build's store (the union of its graphs) against ``shapes_dir``,
    as :func:`shapes_check` does.

    A store of more than ``piece_quads`` quads (by default
    :data:`citygraph.fastshacl.pieces.PIECE_QUADS`) is validated in pieces
    (:func:`citygraph.fastshacl.pieces.validate_in_pieces`: the checks of other nodes once on
    the store, those of a node's own triples piece by piece, with the ontology and
    vocabularies): the same report, with the memory of one piece instead of a copy of the whole
    (issue 10 §4). A smaller one is validated at once (copied into memory first with ``copy``
    when it fits).

    Raises:
        ShapesError, UnsupportedShapeError: the shapes cannot be used.
    """
    from citygraph import fastshacl
    from citygraph.fastshacl import pieces

    quads = len(target)
    count = pieces.piece_count(quads, piece_quads or pieces.PIECE_QUADS)
    if count == 1:
        in_memory = copy and sizing.fits_in_memory(quads)
        return fastshacl.validate_store(target, shapes_dir=shapes_dir, copy=in_memory)
    # Within a build, its scratch directory (in the store's directory, removed with the build);
    # else the default one.
    where = BUILD_SCRATCH.get()
    if where is not None:
        where.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="citygraph-pieces-", dir=where) as scratch:
        return pieces.validate_in_pieces(
            target,
            fastshacl.load_shapes(shapes_dir),
            context=(GRAPH_ONTOLOGY, GRAPH_VOCAB),
            pieces=count,
            scratch=Path(scratch),
        )


def build_store(
    root: Path,
    inputs: Sequence[BuildInput],
    *,
    validate: Callable[[ox.Store], None] | None = None,
    progress: ProgressCallback | None = None,
    carry_over: Sequence[str] = (GRAPH_WORLDWIDE,),
    lock_timeout: float = LOCK_TIMEOUT,
    in_memory: bool | None = None,
) -> BuildResult:
    """Build a new store version under ``root`` from ``inputs`` and publish it.

    ``validate`` gets the loaded and derived store before it is written and published, and
    raises to stop the build (so what is validated is exactly what would be served, derived
    links included; :func:`shapes_check` makes one). Graphs named in ``carry_over`` (the
    imported worldwide layer) are copied from the current build, if any, so a rebuild of the
    curated data keeps them; whatever its format (:mod:`citygraph.build_format`): rebuilding is
    how a build of another format is replaced.

    ``in_memory`` says where the build is assembled; by default in memory when the estimated
    size (:func:`citygraph.sizing.estimated_build_quads`: curated data grows five-fold with its
    statement-level provenance) :func:`citygraph.sizing.fits_in_memory`, else on disk.

    Only one build or write runs at a time on one store directory (:func:`store.write_lock`).

    Raises:
        InputSyntaxError: an input could not be parsed; nothing is published.
        BuildError: the build failed; nothing is published.
        DataNotConformingError: ``validate`` found a Violation; nothing is published.
        StoreBusyError: another build or write held the store for ``lock_timeout`` seconds.
    """
    missing = [str(i.path) for i in inputs if not i.path.is_file()]
    if missing:
        raise BuildError("input file not found: " + ", ".join(missing))
    root.mkdir(parents=True, exist_ok=True)
    with store.write_lock(root, timeout=lock_timeout):
        carried = _carried_quads(root, carry_over)
        if in_memory is None:
            estimate = sizing.estimated_build_quads(
                curated=[i.path for i in inputs if i.graph == GRAPH_CURATED],
                other=[i.path for i in inputs if i.graph != GRAPH_CURATED],
                carried=carried,
            )
            in_memory = sizing.fits_in_memory(estimate)

        def fill(target: ox.Store) -> None:
            load_inputs(target, inputs, progress=progress)
            _carry_over(root, target, carry_over, progress)

        _, result = publish(
            root,
            fill,
            version=_new_version(inputs),
            inputs=[str(i.path) for i in inputs],
            validate=validate,
            in_memory=in_memory,
        )
        return result


def replace_graph(
    root: Path,
    graph_iri: str,
    quads: Iterable[ox.Quad],
    *,
    validate: Callable[[ox.Store], None] | None = None,
    progress: ProgressCallback | None = None,
    in_memory: bool | None = None,
) -> BuildResult:
    """Publish a new build that is the current one with ``graph_iri`` replaced by ``quads``.

    Used by importers (the worldwide layer): every other graph is copied unchanged, the
    derivations are run again, ``validate`` is called as in :func:`build_store`, and the new
    build is published atomically like any build.

    Raises:
        StoreNotFoundError: if ``root`` has no current build to start from.
        DataNotConformingError: ``validate`` found a Violation; nothing is published.
    """
    with store.write_lock(root, timeout=LOCK_TIMEOUT):
        previous, previous_build = store.open_current(root)
        if in_memory is None:
            size = sum(previous_build.metadata.get("quads_per_graph", {}).values())
            size += len(quads) if isinstance(quads, Sized) else 0
            in_memory = sizing.fits_in_memory(size)
        skipped = (graph_iri, GRAPH_DERIVED, GRAPH_META)

        def fill(target: ox.Store) -> None:
            target.bulk_extend(
                q
                for q in previous.quads_for_pattern(None, None, None, None)
                if not (isinstance(q.graph_name, ox.NamedNode) and q.graph_name.value in skipped)
            )
            graph = ox.NamedNode(graph_iri)
            target.bulk_extend(_counted(_into_graph(quads, graph), graph_iri, progress))

        _, result = publish(
            root,
            fill,
            version=new_version(f"{previous_build.version} {graph_iri}".encode()),
            inputs=previous_build.metadata.get("inputs", []),
            derived_from=previous_build.version,
            change=f"replaced graph <{graph_iri}>",
            validate=validate,
            in_memory=in_memory,
        )
        return result


def _carried_quads(root: Path, graphs: Sequence[str]) -> int:
    try:
        counts = store.current_build(root, any_format=True).metadata.get("quads_per_graph", {})
    except StoreNotFoundError:
        return 0
    return sum(int(counts.get(g, 0)) for g in graphs)


def _carry_over(
    root: Path, target: ox.Store, graphs: Sequence[str], progress: ProgressCallback | None
) -> None:
    if not graphs:
        return
    try:
        previous, _ = store.open_current(root, any_format=True)
    except StoreNotFoundError:
        return
    for graph_iri in graphs:
        graph = ox.NamedNode(graph_iri)
        quads = previous.quads_for_pattern(None, None, None, graph)
        target.bulk_extend(_counted(quads, graph_iri, progress))


def _into_graph(quads: Iterable[ox.Quad], graph: ox.NamedNode) -> Iterator[ox.Quad]:
    for quad in quads:
        if isinstance(quad.graph_name, ox.DefaultGraph):
            yield ox.Quad(quad.subject, quad.predicate, quad.object, graph)
        else:
            yield quad


def _counted(
    quads: Iterable[ox.Quad], what: str, progress: ProgressCallback | None
) -> Iterator[ox.Quad]:
    if progress is None:
        yield from quads
        return
    count = 0
    for quad in quads:
        yield quad
        count += 1
        if count % PROGRESS_EVERY == 0:
            progress(what, count)
    progress(what, count)


def _syntax_error(error: SyntaxError, path: Path) -> InputSyntaxError:
    message = str(error.msg if error.msg else error)
    return InputSyntaxError(message, path=path, line=error.lineno, column=error.offset)


def _new_version(inputs: Sequence[BuildInput]) -> str:
    return new_version(*(part for i in inputs for part in (i.graph.encode(), i.path.read_bytes())))

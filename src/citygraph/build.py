"""Building the store: parse, validate, derive, load, publish.

``build_store`` is what ``citygraph build`` runs. Each step either finishes or leaves the
previously published store untouched (see :mod:`citygraph.store`).
"""

from __future__ import annotations

import hashlib
import shutil
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph as ox

from citygraph import __version__, store
from citygraph.errors import BuildError, InputSyntaxError, StoreNotFoundError
from citygraph.namespaces import (
    GRAPH_CURATED,
    GRAPH_DERIVED,
    GRAPH_META,
    GRAPH_ONTOLOGY,
    GRAPH_VOCAB,
    GRAPH_WORLDWIDE,
    sparql_prolog,
)

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
]

#: Reports ``(what, quads so far)`` while a build loads; called every ``PROGRESS_EVERY`` quads.
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

#: The derivations of a build, in order, as SPARQL Update. They read every graph and write only
#: graph:derived, so rebuilding from the same inputs gives the same result. (In an update the
#: default graph is the store's own default graph, which citygraph leaves empty: read GRAPH ?g.)
DERIVE_UPDATES: tuple[str, ...] = (
    # The symmetric place-to-place shortcut (aligned with Wikidata P190), in both directions,
    # from every partnership node (docs/model.md). Never written by hand.
    sparql_prolog(["cg", "graph"])
    + """
INSERT { GRAPH graph:derived { ?a cg:twinnedWith ?b . ?b cg:twinnedWith ?a } }
WHERE {
  GRAPH ?g1 { ?p a cg:Partnership }
  GRAPH ?g2 { ?p cg:partner ?a }
  GRAPH ?g3 { ?p cg:partner ?b }
  FILTER (?a != ?b)
}""",
    # Superclass types, so consumers can ask for schema:City or prov:Entity without inference.
    sparql_prolog(["rdfs", "graph"])
    + """
INSERT { GRAPH graph:derived { ?x a ?super } }
WHERE {
  GRAPH graph:ontology { ?class rdfs:subClassOf+ ?super . FILTER isIRI(?super) }
  GRAPH ?g { ?x a ?class }
  FILTER NOT EXISTS { GRAPH ?h { ?x a ?super } }
}""",
)


@dataclass(frozen=True)
class BuildInput:
    """One file to load and the named graph it goes to."""

    path: Path
    graph: str


@dataclass(frozen=True)
class BuildResult:
    """What a finished build published."""

    build: store.Build
    quads_per_graph: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


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
    """Parse every input with Oxigraph's streaming parser and bulk-load it into its graph.

    Raises:
        InputSyntaxError: naming the file, line and column of the first syntax error.
    """
    for item in inputs:
        graph = ox.NamedNode(item.graph)
        rdf_format = RDF_FORMATS.get(item.path.suffix)
        if rdf_format is None:
            raise InputSyntaxError(
                f"unknown RDF file type {item.path.suffix!r} (use .ttl, .nt, .nq or .trig)",
                path=item.path,
            )
        try:
            quads = ox.parse(path=str(item.path), format=rdf_format)
            target.bulk_extend(_counted(_into_graph(quads, graph), str(item.path), progress))
        except SyntaxError as error:
            raise _syntax_error(error, item.path) from None
        except OSError as error:
            raise InputSyntaxError(
                f"cannot read: {error.strerror or error}", path=item.path
            ) from None


def derive(target: ox.Store) -> None:
    """Run :data:`DERIVE_UPDATES` on ``target`` (replacing graph:derived)."""
    target.update(f"DROP SILENT GRAPH <{GRAPH_DERIVED}>")
    for update in DERIVE_UPDATES:
        target.update(update)


def build_store(
    root: Path,
    inputs: Sequence[BuildInput],
    *,
    validate: Callable[[ox.Store], None] | None = None,
    progress: ProgressCallback | None = None,
    carry_over: Sequence[str] = (GRAPH_WORLDWIDE,),
    lock_timeout: float = LOCK_TIMEOUT,
) -> BuildResult:
    """Build a new store version under ``root`` from ``inputs`` and publish it.

    ``validate`` gets the loaded and derived store before it is published, and raises to stop the
    build (so what is validated is exactly what would be served, derived links included). Graphs
    named in
    ``carry_over`` (the imported worldwide layer) are copied from the current build, if any, so a
    rebuild of the curated data keeps them.

    Only one build or write runs at a time on one store directory (:func:`store.write_lock`).

    Raises:
        InputSyntaxError: an input could not be parsed; nothing is published.
        BuildError: the build failed; nothing is published.
        StoreBusyError: another build or write held the store for ``lock_timeout`` seconds.
    """
    started = time.monotonic()
    missing = [str(i.path) for i in inputs if not i.path.is_file()]
    if missing:
        raise BuildError("input file not found: " + ", ".join(missing))
    root.mkdir(parents=True, exist_ok=True)
    with store.write_lock(root, timeout=lock_timeout):
        return _build_locked(root, inputs, progress, carry_over, started, validate)


def _build_locked(
    root: Path,
    inputs: Sequence[BuildInput],
    progress: ProgressCallback | None,
    carry_over: Sequence[str],
    started: float,
    validate: Callable[[ox.Store], None] | None,
) -> BuildResult:
    version = _new_version(inputs)
    tmp_dir = store.new_build_dir(root, version)
    try:
        target = ox.Store(str(tmp_dir))
        load_inputs(target, inputs, progress=progress)
        _carry_over(root, target, carry_over, progress)
        derive(target)
        if validate is not None:
            validate(target)
        counts = _quads_per_graph(target)
        _write_meta(target, version, counts)
        counts = _quads_per_graph(target)
        target.flush()
        target.optimize()
        del target  # close the store before its directory is renamed
        metadata = {
            "version": version,
            "built": datetime.now(UTC).isoformat(timespec="seconds"),
            "citygraph": __version__,
            "inputs": [str(i.path) for i in inputs],
            "quads_per_graph": counts,
        }
        build = store.publish_build(root, tmp_dir, version, metadata)
    except BaseException:
        shutil.rmtree(tmp_dir, ignore_errors=True)
        raise
    store.prune_builds(root)
    return BuildResult(build=build, quads_per_graph=counts, seconds=time.monotonic() - started)


def replace_graph(
    root: Path,
    graph_iri: str,
    quads: Iterable[ox.Quad],
    *,
    progress: ProgressCallback | None = None,
) -> BuildResult:
    """Publish a new build that is the current one with ``graph_iri`` replaced by ``quads``.

    Used by importers (the worldwide layer): every other graph is copied unchanged, the
    derivations are run again, and the new build is published atomically like any build.

    Raises:
        StoreNotFoundError: if ``root`` has no current build to start from.
    """
    started = time.monotonic()
    with store.write_lock(root, timeout=LOCK_TIMEOUT):
        return _replace_graph_locked(root, graph_iri, quads, progress, started)


def _replace_graph_locked(
    root: Path,
    graph_iri: str,
    quads: Iterable[ox.Quad],
    progress: ProgressCallback | None,
    started: float,
) -> BuildResult:
    previous, previous_build = store.open_current(root)
    version = _new_version_from(previous_build.version, graph_iri)
    tmp_dir = store.new_build_dir(root, version)
    try:
        target = ox.Store(str(tmp_dir))
        target.bulk_extend(
            q
            for q in previous.quads_for_pattern(None, None, None, None)
            if not (
                isinstance(q.graph_name, ox.NamedNode)
                and q.graph_name.value in (graph_iri, GRAPH_DERIVED, GRAPH_META)
            )
        )
        graph = ox.NamedNode(graph_iri)
        target.bulk_extend(_counted(_into_graph(quads, graph), graph_iri, progress))
        derive(target)
        _write_meta(target, version, {})
        counts = _quads_per_graph(target)
        target.flush()
        target.optimize()
        del target
        metadata = dict(previous_build.metadata)
        metadata.update(
            version=version,
            built=datetime.now(UTC).isoformat(timespec="seconds"),
            citygraph=__version__,
            quads_per_graph=counts,
        )
        build = store.publish_build(root, tmp_dir, version, metadata)
    except BaseException:
        shutil.rmtree(tmp_dir, ignore_errors=True)
        raise
    store.prune_builds(root)
    return BuildResult(build=build, quads_per_graph=counts, seconds=time.monotonic() - started)


def _carry_over(
    root: Path, target: ox.Store, graphs: Sequence[str], progress: ProgressCallback | None
) -> None:
    if not graphs:
        return
    try:
        previous, _ = store.open_current(root)
    except StoreNotFoundError:
        return
    for graph_iri in graphs:
        graph = ox.NamedNode(graph_iri)
        quads = previous.quads_for_pattern(None, None, None, graph)
        target.bulk_extend(_counted(quads, graph_iri, progress))


def _write_meta(target: ox.Store, version: str, counts: dict[str, int]) -> None:
    """Record the build in graph:meta (what consumers see of it)."""
    meta = ox.NamedNode(GRAPH_META)
    dataset = ox.NamedNode("https://w3id.org/citygraph/dataset")
    xsd = "http://www.w3.org/2001/XMLSchema#"
    target.add(
        ox.Quad(
            dataset,
            ox.NamedNode("http://www.w3.org/2002/07/owl#versionInfo"),
            ox.Literal(version),
            meta,
        )
    )
    target.add(
        ox.Quad(
            dataset,
            ox.NamedNode("http://purl.org/dc/terms/modified"),
            ox.Literal(
                datetime.now(UTC).isoformat(timespec="seconds"),
                datatype=ox.NamedNode(xsd + "dateTime"),
            ),
            meta,
        )
    )
    del counts  # statistics per graph are computed when the dataset is described


def _quads_per_graph(target: ox.Store) -> dict[str, int]:
    result = target.query("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
    assert isinstance(result, ox.QuerySolutions)
    counts: dict[str, int] = {}
    for row in result:
        graph, number = row["g"], row["n"]
        assert isinstance(graph, ox.NamedNode)
        assert isinstance(number, ox.Literal)
        counts[graph.value] = int(number.value)
    return dict(sorted(counts.items()))


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


def _new_version_from(previous: str, graph_iri: str) -> str:
    digest = hashlib.sha256(f"{previous} {graph_iri}".encode())
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return f"{stamp}-{digest.hexdigest()[:10]}"


def _new_version(inputs: Sequence[BuildInput]) -> str:
    digest = hashlib.sha256()
    for item in inputs:
        digest.update(item.graph.encode())
        digest.update(item.path.read_bytes())
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return f"{stamp}-{digest.hexdigest()[:10]}"

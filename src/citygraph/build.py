"""Building the store: parse, load, derive, validate, write, publish.

``build_store`` is what ``citygraph build`` runs; ``replace_graph`` is what importers run. Both
assemble the new version in an in-memory Oxigraph store when it fits (loading, deriving and
validating there is several times faster than on disk), then write it to a new on-disk build
and publish that atomically. When the input is too large for memory, the same steps run on the
new on-disk build directly (slower, with memory bounded by Oxigraph's own caches). Each step
either finishes or leaves the previously published store untouched (see :mod:`citygraph.store`).
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import time
from collections.abc import Callable, Iterable, Iterator, Sequence, Sized
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph as ox

from citygraph import __version__, disk_writer, sizing, store
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
    "shapes_check",
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
    # Statement-level provenance of the curated data (docs/model.md, "Who says this?"): one
    # rdf:Statement per triple about a curated thing, with the sources that give it: those of
    # the cg:sourceNote notes that cover it (property, and value where named), else the thing's own
    # prov:wasDerivedFrom. Sources, claims and countries (reference data) are not reified.
    sparql_prolog(["cg", "graph", "rdf", "prov"])
    + """
INSERT { GRAPH graph:derived {
  ?statement a rdf:Statement ; rdf:subject ?s ; rdf:predicate ?p ; rdf:object ?o ;
             prov:wasDerivedFrom ?source } }
WHERE {
  {
    SELECT DISTINCT ?s ?p ?o WHERE {
      GRAPH graph:curated {
        ?s ?p ?o .
        FILTER (isIRI(?s) && !isBlank(?o) && ?p NOT IN (prov:wasDerivedFrom, cg:sourceNote))
        FILTER (STRSTARTS(STR(?s), "https://w3id.org/citygraph/id/"))
        FILTER NOT EXISTS { ?s a ?kind . FILTER (?kind IN (cg:Source, cg:Country, rdf:Statement)) }
      }
    }
  }
  GRAPH graph:curated {
    { ?s cg:sourceNote ?note . ?note cg:aboutProperty ?p ; cg:statedIn ?source }
    UNION
    { ?s prov:wasDerivedFrom ?source }
  }
  # After the join, where ?s ?p ?o are bound: a note counts where it covers the statement (its
  # property, and its value if it names values); the node's own sources only where none does.
  FILTER (IF(BOUND(?note),
    NOT EXISTS { GRAPH graph:curated { ?note cg:aboutValue ?anyValue } }
      || EXISTS { GRAPH graph:curated { ?note cg:aboutValue ?o } },
    NOT EXISTS { GRAPH graph:curated {
      ?s cg:sourceNote ?other .
      ?other cg:aboutProperty ?p .
      FILTER (NOT EXISTS { ?other cg:aboutValue ?otherValue } || EXISTS { ?other cg:aboutValue ?o })
    } }))
  BIND (IF(isIRI(?o), STR(?o), CONCAT(STR(?o), "@", LANG(?o), "^^", STR(DATATYPE(?o)))) AS ?key)
  BIND (IRI(CONCAT("https://w3id.org/citygraph/id/claim/statement-",
                   SHA1(CONCAT(STR(?s), " ", STR(?p), " ", ?key)))) AS ?statement)
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
    #: Wall-clock seconds of each step, in order: load, derive, validate, write (to disk,
    #: compaction included), publish.
    steps: dict[str, float] = field(default_factory=dict)
    #: Whether the build was assembled in memory (else on the new on-disk store directly).
    in_memory: bool = True


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


def derive(target: ox.Store) -> None:
    """Run :data:`DERIVE_UPDATES` on ``target`` (replacing graph:derived)."""
    target.update(f"DROP SILENT GRAPH <{GRAPH_DERIVED}>")
    for update in DERIVE_UPDATES:
        target.update(update)


def shapes_check(shapes_dir: Path) -> Callable[[ox.Store], None]:
    """A ``validate`` callback for :func:`build_store` and :func:`replace_graph`: validates the
    union of all graphs with :mod:`citygraph.fastshacl` and stops at the first Violation.

    Raises (from the callback):
        DataNotConformingError: carrying the report, when any result is a Violation.
    """

    def check(target: ox.Store) -> None:
        from citygraph import fastshacl
        from citygraph.validate import Severity

        report = fastshacl.validate_store(target, shapes_dir=shapes_dir, copy=False)
        if not report.conforms(Severity.VIOLATION):
            raise DataNotConformingError(report)

    return check


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
    curated data keeps them.

    ``in_memory`` says where the build is assembled; by default in memory when the estimated
    size :func:`citygraph.sizing.fits_in_memory`, else on disk.

    Only one build or write runs at a time on one store directory (:func:`store.write_lock`).

    Raises:
        InputSyntaxError: an input could not be parsed; nothing is published.
        BuildError: the build failed; nothing is published.
        DataNotConformingError: ``validate`` found a Violation; nothing is published.
        StoreBusyError: another build or write held the store for ``lock_timeout`` seconds.
    """
    started = time.monotonic()
    missing = [str(i.path) for i in inputs if not i.path.is_file()]
    if missing:
        raise BuildError("input file not found: " + ", ".join(missing))
    root.mkdir(parents=True, exist_ok=True)
    with store.write_lock(root, timeout=lock_timeout):
        carried = _carried_quads(root, carry_over)
        if in_memory is None:
            estimate = sizing.estimated_quads(i.path for i in inputs) + carried
            in_memory = sizing.fits_in_memory(int(estimate * sizing.DERIVED_SHARE))

        def fill(target: ox.Store) -> None:
            load_inputs(target, inputs, progress=progress)
            _carry_over(root, target, carry_over, progress)

        return _assemble(
            root,
            _new_version(inputs),
            fill,
            validate=validate,
            in_memory=in_memory,
            metadata={"inputs": [str(i.path) for i in inputs]},
            started=started,
        )


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
    started = time.monotonic()
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

        return _assemble(
            root,
            _new_version_from(previous_build.version, graph_iri),
            fill,
            validate=validate,
            in_memory=in_memory,
            metadata=dict(previous_build.metadata),
            started=started,
        )


def _assemble(
    root: Path,
    version: str,
    fill: Callable[[ox.Store], None],
    *,
    validate: Callable[[ox.Store], None] | None,
    in_memory: bool,
    metadata: dict[str, object],
    started: float,
) -> BuildResult:
    """Fill, derive, validate and write a new build, then publish it (or leave no trace).

    An in-memory build is written to disk by a separate process while it is validated (the two
    take about as long, and a thread would share one interpreter lock), through an N-Quads file
    beside the new build. A Violation stops the writer and removes what it wrote.
    """
    tmp_dir = store.new_build_dir(root, version)
    staging = tmp_dir.with_name(tmp_dir.name + ".nq")
    steps: dict[str, float] = {}
    clock = _StepClock(steps)
    writer: subprocess.Popen[bytes] | None = None
    try:
        target = ox.Store() if in_memory else ox.Store(str(tmp_dir))
        fill(target)
        clock.done("load")
        derive(target)
        clock.done("derive")
        _write_meta(target, version)
        counts = _quads_per_graph(target)
        if in_memory:
            target.dump(output=str(staging), format=ox.RdfFormat.N_QUADS)
            writer = disk_writer.start(tmp_dir, staging)
        if validate is not None:
            validate(target)
        clock.done("validate")
        if writer is None:
            target.flush()
            target.optimize()
        del target  # free the memory; close an on-disk store before its directory is renamed
        if writer is not None:
            disk_writer.wait(writer)
            staging.unlink()
        clock.done("write")
        metadata.update(
            version=version,
            built=datetime.now(UTC).isoformat(timespec="seconds"),
            citygraph=__version__,
            quads_per_graph=counts,
        )
        build = store.publish_build(root, tmp_dir, version, metadata)
    except BaseException:
        if writer is not None:
            disk_writer.stop(writer)
        shutil.rmtree(tmp_dir, ignore_errors=True)
        staging.unlink(missing_ok=True)
        raise
    store.prune_builds(root)
    clock.done("publish")
    return BuildResult(
        build=build,
        quads_per_graph=counts,
        seconds=time.monotonic() - started,
        steps=steps,
        in_memory=in_memory,
    )


class _StepClock:
    """Records the seconds since the previous step into ``steps`` under each step's name."""

    def __init__(self, steps: dict[str, float]) -> None:
        self.steps = steps
        self.last = time.monotonic()

    def done(self, step: str) -> None:
        now = time.monotonic()
        self.steps[step] = round(now - self.last, 2)
        self.last = now


def _carried_quads(root: Path, graphs: Sequence[str]) -> int:
    try:
        counts = store.current_build(root).metadata.get("quads_per_graph", {})
    except StoreNotFoundError:
        return 0
    return sum(int(counts.get(g, 0)) for g in graphs)


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


def _write_meta(target: ox.Store, version: str) -> None:
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

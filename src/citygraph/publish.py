"""The one build transaction: derive, record, validate, write and publish a new build.

Every producer of builds goes through :func:`publish`: ``citygraph build``
(:func:`citygraph.build.build_store`), importers (:func:`citygraph.build.replace_graph`) and
HTTP writes (:func:`citygraph.engine.writes.transaction`). Each only says how the new build's
data is filled in (load files, copy the current build and replace a graph, apply a change to a
checkpoint of the current build); what follows is the same for all, so a build made any way
looks the same to its readers:

1. **derive** graph:derived from the data (:data:`DERIVE_UPDATES`, and the places' search keys,
   :mod:`citygraph.names`);
2. **record** the build in graph:meta (``owl:versionInfo``, ``dcterms:modified``: what
   ``/dataset`` shows; ``cg:buildFormat``, :mod:`citygraph.build_format`) and count the quads
   per graph (:func:`citygraph.stats.quads_per_graph`);
3. **validate** what would be served, when the caller gives a check (a Violation stops here);
4. **write** it to the new on-disk build (an in-memory assembly is written by a separate
   process *while* it is validated, :mod:`citygraph.disk_writer`);
5. **publish** it atomically with its metadata (``builds/VERSION.json``: version, format, when, by
   which citygraph, from which inputs and which build, what change, quads per graph), and prune old
   builds.

A transaction that fails at any step leaves no trace and the published build untouched
(:mod:`citygraph.store`).
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import time
import traceback
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import pyoxigraph as ox

from citygraph import __version__, build_format, disk_writer, store
from citygraph.names import search_keys
from citygraph.namespaces import BASE, GRAPH_DERIVED, GRAPH_META, sparql_prolog
from citygraph.stats import quads_per_graph

__all__ = [
    "BUILD_SCRATCH",
    "DATASET",
    "DERIVE_UPDATES",
    "VERSION_INFO",
    "BuildResult",
    "derive",
    "new_version",
    "publish",
    "record_build",
]

T = TypeVar("T")

#: While a build's ``validate`` runs (in :func:`publish`): a directory for its scratch files
#: beside the build's temporary directory, in the store's own directory (not ``$TMPDIR``, often
#: memory), removed once it has run; left over by a killed build, the next one removes it
#: (:func:`citygraph.store.new_build_dir`). Made by whoever needs it.
BUILD_SCRATCH: ContextVar[Path | None] = ContextVar("BUILD_SCRATCH", default=None)

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
    # The year each start date falls in, as an integer (docs/model.md, cg:startYear), for every
    # node with a cg:startDate (partnerships, events, participations): date-range queries and
    # pages compare integers instead of slicing the lexical form of every date per row
    # (issue 10 §3). Dates carry their precision (xsd:date, xsd:gYearMonth, xsd:gYear), so the
    # year is read from the lexical form: its year part, four digits or more, with its sign
    # (XML Schema's years: "-0044", "12345-01-01").
    sparql_prolog(["cg", "graph", "xsd"])
    + """
INSERT { GRAPH graph:derived { ?x cg:startYear ?year } }
WHERE {
  GRAPH ?g { ?x cg:startDate ?date }
  FILTER (REGEX(STR(?date), "^-?[0-9]{4,}"))
  BIND (xsd:integer(REPLACE(STR(?date), "^(-?[0-9]{4,}).*$", "$1")) AS ?year)
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

#: The template of a derivation: what it inserts into graph:derived (:func:`derive` with ``bulk``).
_INSERT_DERIVED = re.compile(r"INSERT\s*\{\s*GRAPH\s+graph:derived\s*\{([^{}]*)\}\s*\}\s*WHERE")

#: The dataset described in graph:meta and at ``/dataset``.
DATASET = BASE + "dataset"
_XSD_DATETIME = ox.NamedNode("http://www.w3.org/2001/XMLSchema#dateTime")
#: The predicate of the build's data version in graph:meta (``DATASET owl:versionInfo "…"``).
VERSION_INFO = ox.NamedNode("http://www.w3.org/2002/07/owl#versionInfo")
_MODIFIED = ox.NamedNode("http://purl.org/dc/terms/modified")


@dataclass(frozen=True)
class BuildResult:
    """What a finished build published."""

    build: store.Build
    quads_per_graph: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    #: Wall-clock seconds of each step, in order: load (filling it in), derive, validate, write
    #: (to disk, compaction included), publish.
    steps: dict[str, float] = field(default_factory=dict)
    #: Whether the build was assembled in memory (else on the new on-disk store directly).
    in_memory: bool = True


def derive(target: ox.Store, *, bulk: bool = False) -> None:
    """Run :data:`DERIVE_UPDATES` on ``target`` (replacing graph:derived), then add the places'
    search keys (:func:`citygraph.names.search_keys`: SPARQL cannot fold accents).

    ``bulk``: for a new on-disk build, which nobody reads yet: each update is evaluated as the
    ``CONSTRUCT`` of its template and the answer written with the bulk loader, in order (each
    sees what the previous ones added), the same quads as the update writes in a transaction,
    without the transaction (measured: several times less CPU on disk, docs/performance.md).
    """
    derived = ox.NamedNode(GRAPH_DERIVED)
    target.update(f"DROP SILENT GRAPH <{GRAPH_DERIVED}>")
    for update in DERIVE_UPDATES:
        if not bulk:
            target.update(update)
            continue
        triples = target.query(_INSERT_DERIVED.sub(r"CONSTRUCT {\1} WHERE", update, count=1))
        assert isinstance(triples, ox.QueryTriples)
        target.bulk_extend(ox.Quad(t.subject, t.predicate, t.object, derived) for t in triples)
    quads = search_keys(target, derived)
    if bulk:
        target.bulk_extend(quads)
    else:
        target.extend(quads)


def record_build(target: ox.Store, version: str, modified: datetime) -> None:
    """Replace graph:meta with the build's record: its ``version``, when it was ``modified``
    (what consumers see of it, at ``/dataset``) and its format (what a remote store's readers
    check, :mod:`citygraph.build_format`)."""
    meta = ox.NamedNode(GRAPH_META)
    dataset = ox.NamedNode(DATASET)
    target.clear_graph(meta)
    target.extend(
        [
            ox.Quad(dataset, VERSION_INFO, ox.Literal(version), meta),
            ox.Quad(
                dataset,
                _MODIFIED,
                ox.Literal(modified.isoformat(timespec="seconds"), datatype=_XSD_DATETIME),
                meta,
            ),
            ox.Quad(dataset, build_format.PREDICATE, ox.Literal(build_format.FORMAT), meta),
        ]
    )


def new_version(*parts: bytes) -> str:
    """A new build version: the time now (so versions sort by time, whoever made them) and a
    digest of ``parts`` (what the build is made of)."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return f"{stamp}-{digest.hexdigest()[:10]}"


def publish(
    root: Path,
    fill: Callable[[ox.Store], T],
    *,
    version: str,
    inputs: Sequence[str] = (),
    derived_from: str | None = None,
    change: str | None = None,
    validate: Callable[[ox.Store], None] | None = None,
    in_memory: bool = True,
    checkpoint: store.Build | None = None,
    compact: bool = True,
    keep: int = store.KEEP_BUILDS,
    before_publish: Callable[[store.Build], object] | None = None,
) -> tuple[T, BuildResult]:
    """Make, check and publish a new build of the store directory ``root``, or leave no trace.

    Call it holding :func:`citygraph.store.write_lock`. ``fill`` puts the new build's data into
    the store it is given (returning what the caller wants back, e.g. whether a write created a
    graph): an empty in-memory store with ``in_memory``, else the new on-disk build, empty or,
    with ``checkpoint``, a copy of that build (RocksDB hard links: fast, and no bigger on disk
    until data changes). Then the steps of the module docstring run: derive, record, ``validate``
    (when given), write, publish. The metadata records ``inputs`` (the files the data came
    from), ``derived_from`` (the build it was made from) and ``change`` (what changed it), with
    the version, the time, citygraph's version and the quads per graph. ``compact``: compact
    an on-disk build before publishing (worth it after a bulk load, not after a small write).
    ``keep``: published builds kept by the prune (:func:`citygraph.store.prune_builds`).
    ``before_publish``: called with the finished (closed) build in its temporary directory just
    before it is published; what it raises stops the transaction (a remote store is published to
    here, :meth:`citygraph.web.endpoint.Endpoint.write`).

    Raises:
        DataNotConformingError (from ``validate``), and what ``fill`` and ``before_publish``
            raise: nothing is published.
        BuildError: the disk writer failed.
    """
    started = time.monotonic()
    tmp_dir = store.new_build_dir(root, version)
    staging = tmp_dir.with_name(tmp_dir.name + ".nq")
    clock = _StepClock()
    writer: subprocess.Popen[bytes] | None = None
    try:
        if in_memory:
            target = ox.Store()
        else:
            if checkpoint is not None:
                tmp_dir.rmdir()  # the checkpoint creates the directory itself
                ox.Store.read_only(str(checkpoint.path)).backup(str(tmp_dir))
            target = ox.Store(str(tmp_dir))
        outcome = fill(target)
        clock.done("load")
        derive(target, bulk=not in_memory)
        clock.done("derive")
        now = datetime.now(UTC)
        record_build(target, version, now)
        counts = quads_per_graph(target)
        if in_memory:
            target.dump(output=str(staging), format=ox.RdfFormat.N_QUADS)
            writer = disk_writer.start(tmp_dir, staging)
        if validate is not None:
            scratch = tmp_dir.with_name(tmp_dir.name + ".scratch")
            token = BUILD_SCRATCH.set(scratch)
            try:
                validate(target)
            finally:
                BUILD_SCRATCH.reset(token)
                shutil.rmtree(scratch, ignore_errors=True)
        clock.done("validate")
        if writer is None:
            target.flush()
            if compact:
                target.optimize()
        del target  # free the memory; close an on-disk store before its directory is renamed
        if writer is not None:
            disk_writer.wait(writer)
            staging.unlink()
        clock.done("write")
        metadata: dict[str, object] = {
            "version": version,
            build_format.KEY: build_format.FORMAT,
            "built": now.isoformat(timespec="seconds"),
            "citygraph": __version__,
            "inputs": list(inputs),
            "quads_per_graph": counts,
        }
        if derived_from is not None:
            metadata["derived_from"] = derived_from
        if change is not None:
            metadata["change"] = change
        if before_publish is not None:
            before_publish(store.Build(path=tmp_dir, version=version, metadata=metadata))
        build = store.publish_build(root, tmp_dir, version, metadata)
    except BaseException as error:
        if writer is not None:
            disk_writer.stop(writer)
        # Close an on-disk store before its directory is removed (RocksDB writes on while it is
        # open): drop this frame's reference and those of the frames the traceback keeps.
        target = None  # noqa: F841 - the last reference: this closes an on-disk store
        traceback.clear_frames(error.__traceback__)
        shutil.rmtree(tmp_dir, ignore_errors=True)
        staging.unlink(missing_ok=True)
        raise
    store.prune_builds(root, keep=keep)
    clock.done("publish")
    return outcome, BuildResult(
        build=build,
        quads_per_graph=counts,
        seconds=time.monotonic() - started,
        steps=clock.steps,
        in_memory=in_memory,
    )


class _StepClock:
    """Records the seconds since the previous step into ``steps`` under each step's name."""

    def __init__(self) -> None:
        self.steps: dict[str, float] = {}
        self.last = time.monotonic()

    def done(self, step: str) -> None:
        now = time.monotonic()
        self.steps[step] = round(now - self.last, 2)
        self.last = now

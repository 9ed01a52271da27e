"""SHACL validation compiled to SPARQL and run on pyoxigraph: fast enough for the worldwide graph.

pySHACL (:mod:`citygraph.validate`) stays the reference; this engine gives the same
:class:`~citygraph.validate.ValidationReport` (same focus nodes, shapes, components, severities,
paths, values and messages), so the same renderer and exit codes apply. It compiles each
constraint of ``shapes/`` into a query over *all* focus nodes at once instead of evaluating
SHACL-SPARQL once per focus node (docs/validation-at-scale.md)::

    from citygraph.fastshacl import validate_store
    from citygraph.store import open_current

    store, _build = open_current(root)
    report = validate_store(store, shapes_dir=root / "shapes")
    report.conforms(fail_on=Severity.WARNING)

Supported: targets (``sh:targetClass`` with ``rdfs:subClassOf``, ``sh:targetNode``,
``sh:targetSubjectsOf``, ``sh:targetObjectsOf``, SHACL-AF ``sh:SPARQLTarget``); IRI, inverse,
sequence, alternative and repeated paths; ``sh:minCount``, ``sh:maxCount``, ``sh:datatype``,
``sh:class``, ``sh:nodeKind``, ``sh:in``, ``sh:hasValue``, ``sh:pattern``/``sh:flags``,
``sh:languageIn``, ``sh:uniqueLang``, ``sh:minLength``/``sh:maxLength``, the four range
constraints, ``sh:node``, ``sh:not``, ``sh:and``, ``sh:or``, ``sh:xone``,
``sh:qualifiedValueShape`` with ``sh:qualifiedMinCount``/``MaxCount``, SELECT-based
``sh:sparql`` constraints (``$this``, ``$PATH``), ``sh:deactivated``, ``sh:severity``,
``sh:message``. Anything else raises :class:`UnsupportedShapeError`.
"""

from __future__ import annotations

from collections.abc import Sequence, Set
from pathlib import Path
from typing import cast

import pyoxigraph as ox

from citygraph.fastshacl.engine import run
from citygraph.fastshacl.loading import load_files
from citygraph.fastshacl.shapes import ShapesGraph, UnsupportedShapeError, read_shapes
from citygraph.shacl.model import ValidationReport

__all__ = [
    "UnsupportedShapeError",
    "flatten",
    "load_shapes",
    "validate_files",
    "validate_store",
]


#: Above this many nodes, ``focus`` validates everything and keeps those nodes' results: on the
#: worldwide graph 28 nodes took 4.8 s against 45 s for everything, while 10,881 nodes (the
#: partnerships referring to data/places.ttl's cities) took longer than everything, per node.
FOCUS_LIMIT = 1_000


def load_shapes(shapes_dir: Path) -> ShapesGraph:
    """Read and check the shapes in ``shapes_dir`` (``*.ttl``, recursively).

    Raises:
        InputSyntaxError: a shapes file does not parse.
        UnsupportedShapeError: a shape uses a SHACL feature this engine does not implement.
        ShapesError: the shapes graph is malformed.
    """
    graph = ox.Store()
    load_files(graph, [shapes_dir], preserve=False)
    return read_shapes(graph)


def validate_store(
    store: ox.Store,
    *,
    shapes_dir: Path,
    copy: bool = True,
    focus: Set[str] | None = None,
    focus_alone: Set[str] = frozenset(),
) -> ValidationReport:
    """Validate everything in ``store`` (the union of all its graphs) against ``shapes_dir``.

    This is what ``citygraph validate --store DIR`` runs on the current build::

        store, _build = citygraph.store.open_current(root)
        report = validate_store(store, shapes_dir=root / "shapes")

    With ``copy`` (the default) the graphs are first copied into one in-memory graph (a triple
    asserted in two graphs counts once, as in the files): for an on-disk store this is several
    times faster than querying it, for about 400 bytes of memory per quad. ``copy=False``
    queries ``store`` itself, with its default graph read as the union of all graphs: right for
    a store that is already in memory (a build being assembled) or too large to copy.

    A built store keeps no integer subtypes (Oxigraph stores ``"4"^^xsd:positiveInteger`` as
    ``"4"^^xsd:integer``), so ``sh:datatype xsd:positiveInteger`` here accepts an
    ``xsd:integer`` in range; the files were checked exactly before the build.

    With ``focus`` (IRIs), only those nodes and the IRIs that refer to them are validated
    (``citygraph validate --store --changed-only``), with the results a full run gives them;
    more than :data:`FOCUS_LIMIT` such nodes are found faster by validating everything.
    ``focus_alone`` (with ``focus``): more IRIs to validate, without those that refer to them
    (an HTTP write's objects: what changed is an edge into them, not their own description).

    Raises:
        InputSyntaxError: a shapes file does not parse.
        UnsupportedShapeError: a shape uses a SHACL feature this engine does not implement.
        ShapesError: the shapes graph is malformed or compiles to a query Oxigraph rejects.

    >>> import pyoxigraph as ox
    >>> from citygraph.validate import repository_root
    >>> validate_store(ox.Store(), shapes_dir=repository_root() / "shapes").results
    ()
    """
    shapes = load_shapes(shapes_dir)
    nodes = None if focus is None else _with_referrers(store, focus, union=True) | focus_alone
    if nodes is not None and len(nodes) <= FOCUS_LIMIT:
        # a few nodes are found faster in the store itself than after copying all of it
        return run(store, shapes, files=False, union=True, focus=nodes)
    target, union = (store, True) if not copy else (flatten(store), False)
    report = run(target, shapes, files=False, union=union)
    if nodes is None:
        return report
    return ValidationReport(results=tuple(r for r in report.results if r.focus_node in nodes))


def _with_referrers(store: ox.Store, nodes: Set[str], *, union: bool) -> set[str]:
    """``nodes`` and the IRIs that refer to one of them (as :func:`validate.with_referrers`)."""
    if not nodes:
        return set()
    values = " ".join(str(ox.NamedNode(n)) for n in sorted(nodes))
    query = f"SELECT DISTINCT ?s WHERE {{ VALUES ?o {{ {values} }} ?s ?p ?o FILTER isIRI(?s) }}"
    solutions = cast(ox.QuerySolutions, store.query(query, use_default_graph_as_union=union))
    return set(nodes) | {row["s"].value for row in solutions if row["s"] is not None}


def flatten(store: ox.Store) -> ox.Store:
    """A new in-memory store with every graph of ``store`` merged into its default graph."""
    memory = ox.Store()
    graphs: list[ox.NamedNode | ox.BlankNode | ox.DefaultGraph] = [ox.DefaultGraph()]
    graphs += list(store.named_graphs())
    for graph in graphs:
        data = store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=graph)
        if data:
            memory.load(data, format=ox.RdfFormat.N_TRIPLES)
    return memory


def validate_files(
    paths: Sequence[Path], *, shapes_dir: Path, vocab: Sequence[Path] = ()
) -> ValidationReport:
    """Load ``vocab`` and ``paths`` into one in-memory graph and validate it.

    The counterpart of :func:`citygraph.validate.validate_paths`, parsed with pyoxigraph.

    Raises:
        InputSyntaxError: an input or shapes file does not parse (file, line, column), cannot
            be read, or does not exist.
        UnsupportedShapeError: a shape uses a SHACL feature this engine does not implement.
        ShapesError: the shapes graph is malformed or compiles to a query Oxigraph rejects.
    """
    shapes = load_shapes(shapes_dir)
    store = ox.Store()
    load_files(store, [*vocab, *paths])
    return run(store, shapes, files=True, union=False)

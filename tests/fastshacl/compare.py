"""Comparing a fastshacl report with pySHACL's, blank nodes included.

A blank node has a different label in rdflib and in Oxigraph, so each engine's blank nodes are
replaced by a canonical form read from the graph that engine validated: the sorted triples
around the node (its outgoing predicate/object pairs and incoming subject/predicate pairs, with
other blank nodes written as ``_:``).
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

import pyoxigraph as ox
from rdflib import BNode, Graph

from citygraph.fastshacl.engine import run
from citygraph.fastshacl.loading import load_files
from citygraph.fastshacl.shapes import read_shapes
from citygraph.fastshacl.terms import text
from citygraph.validate import ValidationReport, load_graph, term_text, validate_graph

Key = tuple[str | None, ...]


def _rdflib_blank(graph: Graph) -> Callable[[str], str]:
    def canonical(label: str) -> str:
        node = BNode(label[2:])
        out = sorted(
            f"{term_text(p)} {'_:' if isinstance(o, BNode) else term_text(o)}"
            for p, o in graph.predicate_objects(node)
        )
        incoming = sorted(
            f"{'_:' if isinstance(s, BNode) else term_text(s)} {term_text(p)}"
            for s, p in graph.subject_predicates(node)
        )
        return f"_:[{'; '.join(out)} | {'; '.join(incoming)}]"

    return canonical


def _oxigraph_blank(store: ox.Store) -> Callable[[str], str]:
    def canonical(label: str) -> str:
        node = ox.BlankNode(label[2:])
        out = sorted(
            f"{text(q.predicate)} {'_:' if isinstance(q.object, ox.BlankNode) else text(q.object)}"
            for q in store.quads_for_pattern(node, None, None, None)
            if not isinstance(q.object, ox.Triple)
        )
        incoming = sorted(
            f"{'_:' if isinstance(q.subject, ox.BlankNode) else text(q.subject)} "
            f"{text(q.predicate)}"
            for q in store.quads_for_pattern(None, None, node, None)
            if not isinstance(q.subject, ox.Triple)
        )
        return f"_:[{'; '.join(out)} | {'; '.join(incoming)}]"

    return canonical


def _keys(report: ValidationReport, blank: Callable[[str], str]) -> Counter[Key]:
    def field(value: str | None) -> str | None:
        return blank(value) if value is not None and value.startswith("_:") else value

    return Counter(
        (
            field(r.focus_node),
            field(r.shape),
            r.component,
            r.severity.name,
            r.path,
            field(r.value),
        )
        for r in report.results
    )


def both(paths: Sequence[Path], shapes_dir: Path) -> tuple[Counter[Key], Counter[Key]]:
    """(pySHACL's results, fastshacl's results) on ``paths``, as multisets of keys."""
    with warnings.catch_warnings():
        # rdflib warns when it writes an ill-typed literal (a value in a result) as N3
        warnings.simplefilter("ignore", UserWarning)
        graph = load_graph(list(paths))
        reference = validate_graph(graph, shapes_dir=shapes_dir)
    shapes = ox.Store()
    load_files(shapes, [shapes_dir], preserve=False)
    store = ox.Store()
    load_files(store, list(paths))
    fast = run(store, read_shapes(shapes), files=True, union=False)
    return _keys(reference, _rdflib_blank(graph)), _keys(fast, _oxigraph_blank(store))


def difference(reference: Counter[Key], fast: Counter[Key]) -> str:
    """A readable account of what differs (empty when the multisets are equal)."""
    lines = [f"only pySHACL:   {k}" for k in sorted((reference - fast).elements(), key=str)]
    lines += [f"only fastshacl: {k}" for k in sorted((fast - reference).elements(), key=str)]
    return "\n".join(lines)

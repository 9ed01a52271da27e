"""SHACL terms and paths as rdflib reads them, and as a report writes them.

A result's terms are strings (:class:`~citygraph.shacl.model.ValidationResult`): an IRI as is, a
blank node as ``_:id``, a literal in N-Triples syntax, a complex path in SPARQL property-path
syntax. Both engines write them with :func:`term_text` and :func:`path_text`, so their reports
compare equal.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final
from typing import Literal as TypingLiteral

from rdflib import RDF, BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.paths import AlternativePath, InvPath, MulPath, SequencePath
from rdflib.paths import Path as RDFPath
from rdflib.term import Node

from citygraph.namespaces import SH
from citygraph.shacl.model import ShapesError

__all__ = ["path_from_shacl", "path_text", "path_to_shacl", "term_text"]

_SH: Final = SH


def term_text(term: Node) -> str:
    """An IRI as is, a blank node as ``_:id``, a literal in N-Triples syntax."""
    if isinstance(term, URIRef):
        return str(term)
    if isinstance(term, BNode):
        return f"_:{term}"
    if isinstance(term, Literal):
        return term.n3()
    return str(term)


def path_text(path: URIRef | RDFPath) -> str:
    """A simple path as its IRI, a complex one in SPARQL property-path syntax."""
    return str(path) if isinstance(path, URIRef) else path.n3()


_MUL: Final[Mapping[URIRef, TypingLiteral["*", "+", "?"]]] = MappingProxyType(
    {
        URIRef(_SH + "zeroOrMorePath"): "*",
        URIRef(_SH + "oneOrMorePath"): "+",
        URIRef(_SH + "zeroOrOnePath"): "?",
    }
)


def path_from_shacl(graph: Graph, node: Node) -> URIRef | RDFPath:
    """Turn a SHACL path (https://www.w3.org/TR/shacl/#property-paths) into an rdflib path."""
    if isinstance(node, URIRef):
        return node
    inverse = graph.value(node, URIRef(_SH + "inversePath"))
    if inverse is not None:
        return InvPath(path_from_shacl(graph, inverse))
    alternatives = graph.value(node, URIRef(_SH + "alternativePath"))
    if alternatives is not None:
        members = [path_from_shacl(graph, m) for m in Collection(graph, alternatives)]
        return AlternativePath(*members)
    for predicate, modifier in _MUL.items():
        inner = graph.value(node, predicate)
        if inner is not None:
            return MulPath(path_from_shacl(graph, inner), modifier)
    if graph.value(node, RDF.first) is not None:
        return SequencePath(*[path_from_shacl(graph, m) for m in Collection(graph, node)])
    raise ShapesError(f"unsupported SHACL path: {node}")


def path_to_shacl(graph: Graph, path: URIRef | RDFPath) -> Node:
    """Write an rdflib path into ``graph`` as a SHACL path; return its node."""
    if isinstance(path, URIRef):
        return path
    node = BNode()
    if isinstance(path, InvPath):
        graph.add((node, URIRef(_SH + "inversePath"), path_to_shacl(graph, path.arg)))
    elif isinstance(path, AlternativePath):
        members = Collection(graph, BNode(), [path_to_shacl(graph, a) for a in path.args])
        graph.add((node, URIRef(_SH + "alternativePath"), members.uri))
    elif isinstance(path, MulPath):
        predicate = next(p for p, m in _MUL.items() if m == path.mod)
        graph.add((node, predicate, path_to_shacl(graph, path.path)))
    elif isinstance(path, SequencePath):
        return Collection(graph, BNode(), [path_to_shacl(graph, a) for a in path.args]).uri
    else:
        raise ValueError(f"unsupported path: {path!r}")
    return node

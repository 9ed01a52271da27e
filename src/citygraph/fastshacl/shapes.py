"""Reading a SHACL shapes graph into a small model the compiler understands.

Only the parts of SHACL that ``shapes/`` uses (and a few close relatives) are modelled. Anything
else found on a shape raises :class:`UnsupportedShapeError` naming the shape and the constraint,
so an unknown constraint can never pass silently.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Final, TypeAlias

import pyoxigraph as ox

from citygraph.shacl.model import Severity, ShapesError

__all__ = [
    "Alternative",
    "Constraint",
    "Inverse",
    "Path",
    "Repeat",
    "Sequence",
    "Shape",
    "ShapesGraph",
    "SparqlConstraint",
    "Target",
    "UnsupportedShapeError",
    "read_shapes",
]

SH: Final = "http://www.w3.org/ns/shacl#"
RDF: Final = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS: Final = "http://www.w3.org/2000/01/rdf-schema#"
XSD: Final = "http://www.w3.org/2001/XMLSchema#"

Term: TypeAlias = ox.NamedNode | ox.BlankNode | ox.Literal
Node: TypeAlias = ox.NamedNode | ox.BlankNode


class UnsupportedShapeError(ShapesError):
    """A shape uses a SHACL feature the SPARQL engine does not implement.

    The message names the shape and the constraint parameter, e.g.
    ``cgsh:Foo: sh:equals is not supported by citygraph.fastshacl``.
    """


# --- paths ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Inverse:
    """``sh:inversePath``."""

    path: Path


@dataclass(frozen=True)
class Sequence:
    """A SHACL sequence path (an RDF list of paths)."""

    paths: tuple[Path, ...]


@dataclass(frozen=True)
class Alternative:
    """``sh:alternativePath``."""

    paths: tuple[Path, ...]


@dataclass(frozen=True)
class Repeat:
    """``sh:zeroOrMorePath`` (``*``), ``sh:oneOrMorePath`` (``+``), ``sh:zeroOrOnePath`` (``?``)."""

    path: Path
    modifier: str


Path: TypeAlias = ox.NamedNode | Inverse | Sequence | Alternative | Repeat

_REPEATS: Final = {"zeroOrMorePath": "*", "oneOrMorePath": "+", "zeroOrOnePath": "?"}


# --- shapes ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Constraint:
    """One core constraint: its component local name (``MinCount``…) and its parameter.

    ``value`` is a term, a tuple of terms (``sh:in``, ``sh:languageIn``), a shape or a tuple of
    shapes (``sh:or``…), or for ``QualifiedValueShape`` a ``(shape, min, max)`` triple.
    """

    component: str
    value: object
    flags: str = ""

    @property
    def component_iri(self) -> str:
        return f"{SH}{self.component}ConstraintComponent"


@dataclass(frozen=True)
class SparqlConstraint:
    """An ``sh:sparql`` constraint: its node, its SELECT (with prefixes) and its messages."""

    node: Node
    select: str
    messages: tuple[ox.Literal, ...]


@dataclass(frozen=True)
class Target:
    """The targets of a shape; ``sparql`` holds SHACL-AF SPARQL target queries."""

    nodes: tuple[Term, ...] = ()
    classes: tuple[ox.NamedNode, ...] = ()
    subjects_of: tuple[ox.NamedNode, ...] = ()
    objects_of: tuple[ox.NamedNode, ...] = ()
    sparql: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(
            self.nodes or self.classes or self.subjects_of or self.objects_of or self.sparql
        )


@dataclass(eq=False)
class Shape:
    """A node shape (``path is None``) or a property shape, with its constraints."""

    node: Node
    path: Path | None = None
    severity: Severity = Severity.VIOLATION
    messages: tuple[ox.Literal, ...] = ()
    deactivated: bool = False
    target: Target = field(default_factory=Target)
    constraints: list[Constraint] = field(default_factory=list)
    properties: list[Shape] = field(default_factory=list)
    sparql: list[SparqlConstraint] = field(default_factory=list)

    @property
    def name(self) -> str:
        return _name(self.node)


@dataclass(frozen=True)
class ShapesGraph:
    """The shapes with a target, in a stable order; those are what validation starts from."""

    targeted: tuple[Shape, ...]


def _name(node: Term) -> str:
    if isinstance(node, ox.NamedNode):
        return node.value
    return str(node)


# Parameters that are not constraints, or that are read together with another parameter.
_ANNOTATIONS: Final = frozenset(
    SH + name
    for name in (
        "path",
        "severity",
        "message",
        "deactivated",
        "name",
        "description",
        "order",
        "group",
        "defaultValue",
        "targetClass",
        "targetNode",
        "targetSubjectsOf",
        "targetObjectsOf",
        "target",
        "property",
        "sparql",
        "flags",
        "qualifiedMinCount",
        "qualifiedMaxCount",
        "qualifiedValueShapesDisjoint",
        "prefixes",
        "declare",
    )
)

#: Constraint parameters with a single term value, by local name → component local name.
_SIMPLE: Final = {
    "minCount": "MinCount",
    "maxCount": "MaxCount",
    "datatype": "Datatype",
    "class": "Class",
    "nodeKind": "NodeKind",
    "hasValue": "HasValue",
    "pattern": "Pattern",
    "uniqueLang": "UniqueLang",
    "minLength": "MinLength",
    "maxLength": "MaxLength",
    "minInclusive": "MinInclusive",
    "maxInclusive": "MaxInclusive",
    "minExclusive": "MinExclusive",
    "maxExclusive": "MaxExclusive",
}
_LISTS: Final = {"in": "In", "languageIn": "LanguageIn"}
_LOGICAL: Final = {"or": "Or", "and": "And", "xone": "Xone"}
_SHAPE_VALUED: Final = {"node": "Node", "not": "Not"}


class _Reader:
    def __init__(self, graph: ox.Store) -> None:
        self.graph = graph
        self.shapes: dict[Node, Shape] = {}

    # -- graph helpers

    def objects(self, subject: Node, predicate: str) -> list[Term]:
        quads = self.graph.quads_for_pattern(subject, ox.NamedNode(predicate), None, None)
        found: list[Term] = []
        for quad in quads:
            obj = quad.object
            if isinstance(obj, ox.NamedNode | ox.BlankNode | ox.Literal) and obj not in found:
                found.append(obj)
        return sorted(found, key=str)

    def one(self, subject: Node, predicate: str) -> Term | None:
        found = self.objects(subject, predicate)
        if len(found) > 1:
            raise ShapesError(f"{_name(subject)}: more than one {_short(predicate)}")
        return found[0] if found else None

    def items(self, head: Term, owner: Node, predicate: str) -> list[Term]:
        members: list[Term] = []
        node = head
        while not (isinstance(node, ox.NamedNode) and node.value == RDF + "nil"):
            if isinstance(node, ox.Literal):
                raise ShapesError(f"{_name(owner)}: {_short(predicate)} is not an RDF list")
            first = self.one(node, RDF + "first")
            rest = self.one(node, RDF + "rest")
            if first is None or rest is None:
                raise ShapesError(f"{_name(owner)}: {_short(predicate)} is not an RDF list")
            members.append(first)
            node = rest
        return members

    def subjects(self, predicate: str, obj: Term | None = None) -> list[Node]:
        found: list[Node] = []
        for quad in self.graph.quads_for_pattern(None, ox.NamedNode(predicate), obj, None):
            subject = quad.subject
            if isinstance(subject, ox.NamedNode | ox.BlankNode) and subject not in found:
                found.append(subject)
        return sorted(found, key=str)

    # -- shapes

    def targeted(self) -> list[Shape]:
        candidates: list[Node] = []
        for name in ("targetClass", "targetNode", "targetSubjectsOf", "targetObjectsOf", "target"):
            for subject in self.subjects(SH + name):
                if subject not in candidates:
                    candidates.append(subject)
        # Implicit class targets (a shape that is also an rdfs:Class): not used by shapes/.
        classes = set(self.subjects(RDF + "type", ox.NamedNode(RDFS + "Class")))
        for kind in ("NodeShape", "PropertyShape"):
            for subject in self.subjects(RDF + "type", ox.NamedNode(SH + kind)):
                if subject in classes:
                    raise UnsupportedShapeError(
                        f"{_name(subject)}: implicit class targets are not supported by "
                        "citygraph.fastshacl"
                    )
        return [self.shape(node) for node in sorted(candidates, key=str)]

    def shape(self, node: Term) -> Shape:
        if isinstance(node, ox.Literal):
            raise ShapesError(f"a shape cannot be a literal: {node}")
        if node in self.shapes:
            return self.shapes[node]
        shape = Shape(node=node)
        self.shapes[node] = shape  # before reading, so recursive references terminate
        path = self.one(node, SH + "path")
        shape.path = None if path is None else self.path(path, node)
        severity = self.one(node, SH + "severity")
        if severity is not None:
            try:
                shape.severity = Severity.from_iri(_name(severity))
            except ValueError as error:
                raise UnsupportedShapeError(
                    f"{shape.name}: sh:severity {severity} is not supported"
                ) from error
        shape.messages = tuple(
            m for m in self.objects(node, SH + "message") if isinstance(m, ox.Literal)
        )
        shape.deactivated = _true(self.one(node, SH + "deactivated"))
        shape.target = self.target(node)
        for prop in self.objects(node, SH + "property"):
            shape.properties.append(self.shape(prop))
        for constraint in self.objects(node, SH + "sparql"):
            sparql = self.sparql(constraint, shape)
            if sparql is not None:
                shape.sparql.append(sparql)
        shape.constraints = list(self.constraints(shape))
        return shape

    def constraints(self, shape: Shape) -> Iterator[Constraint]:
        node = shape.node
        predicates = sorted(
            {q.predicate.value for q in self.graph.quads_for_pattern(node, None, None, None)}
        )
        for predicate in predicates:
            if not predicate.startswith(SH) or predicate in _ANNOTATIONS:
                continue
            local = predicate.removeprefix(SH)
            values = self.objects(node, predicate)
            if local in _SIMPLE:
                for value in values:
                    yield self.simple(shape, local, value)
            elif local in _LISTS:
                for value in values:
                    yield Constraint(_LISTS[local], tuple(self.items(value, node, predicate)))
            elif local in _LOGICAL:
                for value in values:
                    members = tuple(self.shape(m) for m in self.items(value, node, predicate))
                    yield Constraint(_LOGICAL[local], members)
            elif local in _SHAPE_VALUED:
                for value in values:
                    yield Constraint(_SHAPE_VALUED[local], self.shape(value))
            elif local == "qualifiedValueShape":
                yield self.qualified(shape, values)
            else:
                raise UnsupportedShapeError(
                    f"{shape.name}: sh:{local} is not supported by citygraph.fastshacl"
                )

    def simple(self, shape: Shape, local: str, value: Term) -> Constraint:
        component = _SIMPLE[local]
        if local in {"minCount", "maxCount", "minLength", "maxLength"}:
            if not (isinstance(value, ox.Literal) and value.datatype.value == XSD + "integer"):
                raise ShapesError(f"{shape.name}: sh:{local} must be an xsd:integer")
            if shape.path is None and local in {"minCount", "maxCount"}:
                raise ShapesError(f"{shape.name}: sh:{local} on a node shape")
            return Constraint(component, int(value.value))
        if local == "uniqueLang":
            if shape.path is None:
                raise ShapesError(f"{shape.name}: sh:uniqueLang on a node shape")
            return Constraint(component, _true(value))
        if local == "pattern":
            flags = self.one(shape.node, SH + "flags")
            return Constraint(component, value, flags="" if flags is None else str(flags.value))
        return Constraint(component, value)

    def qualified(self, shape: Shape, values: list[Term]) -> Constraint:
        if shape.path is None or len(values) != 1:
            raise ShapesError(f"{shape.name}: sh:qualifiedValueShape needs one shape and a path")
        if _true(self.one(shape.node, SH + "qualifiedValueShapesDisjoint")):
            raise UnsupportedShapeError(
                f"{shape.name}: sh:qualifiedValueShapesDisjoint is not supported by "
                "citygraph.fastshacl"
            )
        low = self.one(shape.node, SH + "qualifiedMinCount")
        high = self.one(shape.node, SH + "qualifiedMaxCount")
        bounds = tuple(None if b is None else int(str(b.value)) for b in (low, high))
        return Constraint("QualifiedValueShape", (self.shape(values[0]), *bounds))

    def target(self, node: Node) -> Target:
        sparql: list[str] = []
        for target in self.objects(node, SH + "target"):
            if isinstance(target, ox.Literal):
                raise ShapesError(f"{_name(node)}: sh:target must be a node")
            kinds = {_name(t) for t in self.objects(target, RDF + "type")}
            select = self.one(target, SH + "select")
            if select is None or (kinds and SH + "SPARQLTarget" not in kinds):
                raise UnsupportedShapeError(
                    f"{_name(node)}: only SPARQL targets (sh:SPARQLTarget with sh:select) are "
                    "supported by citygraph.fastshacl"
                )
            sparql.append(self.prolog(target) + str(select.value))
        return Target(
            nodes=tuple(self.objects(node, SH + "targetNode")),
            classes=tuple(self.iris(node, "targetClass")),
            subjects_of=tuple(self.iris(node, "targetSubjectsOf")),
            objects_of=tuple(self.iris(node, "targetObjectsOf")),
            sparql=tuple(sparql),
        )

    def iris(self, node: Node, local: str) -> list[ox.NamedNode]:
        found = []
        for value in self.objects(node, SH + local):
            if not isinstance(value, ox.NamedNode):
                raise ShapesError(f"{_name(node)}: sh:{local} must be an IRI")
            found.append(value)
        return found

    def sparql(self, node: Term, shape: Shape) -> SparqlConstraint | None:
        if isinstance(node, ox.Literal):
            raise ShapesError(f"{shape.name}: sh:sparql must be a node")
        if _true(self.one(node, SH + "deactivated")):
            return None
        select = self.one(node, SH + "select")
        if select is None:
            raise UnsupportedShapeError(
                f"{shape.name}: SPARQL constraint {_name(node)} has no sh:select (ASK-based "
                "and other SPARQL constraints are not supported by citygraph.fastshacl)"
            )
        messages = tuple(m for m in self.objects(node, SH + "message") if isinstance(m, ox.Literal))
        return SparqlConstraint(
            node=node, select=self.prolog(node) + str(select.value), messages=messages
        )

    def prolog(self, node: Node) -> str:
        lines = []
        for prefixes in self.objects(node, SH + "prefixes"):
            if isinstance(prefixes, ox.Literal):
                raise ShapesError(f"{_name(node)}: sh:prefixes must be a node")
            for declaration in self.objects(prefixes, SH + "declare"):
                if isinstance(declaration, ox.Literal):
                    raise ShapesError(f"{_name(prefixes)}: sh:declare must be a node")
                prefix = self.one(declaration, SH + "prefix")
                namespace = self.one(declaration, SH + "namespace")
                if prefix is None or namespace is None:
                    raise ShapesError(f"{_name(prefixes)}: sh:declare needs prefix and namespace")
                lines.append(f"PREFIX {prefix.value}: <{namespace.value}>\n")
        return "".join(sorted(set(lines)))

    def path(self, node: Term, owner: Node) -> Path:
        if isinstance(node, ox.NamedNode):
            return node
        if isinstance(node, ox.Literal):
            raise ShapesError(f"{_name(owner)}: sh:path cannot be a literal")
        inverse = self.one(node, SH + "inversePath")
        if inverse is not None:
            return Inverse(self.path(inverse, owner))
        alternatives = self.one(node, SH + "alternativePath")
        if alternatives is not None:
            items = self.items(alternatives, owner, SH + "alternativePath")
            return Alternative(tuple(self.path(m, owner) for m in items))
        for local, modifier in _REPEATS.items():
            inner = self.one(node, SH + local)
            if inner is not None:
                return Repeat(self.path(inner, owner), modifier)
        if self.one(node, RDF + "first") is not None:
            items = self.items(node, owner, SH + "path")
            return Sequence(tuple(self.path(m, owner) for m in items))
        raise UnsupportedShapeError(f"{_name(owner)}: unsupported SHACL path {node}")


def _true(term: Term | None) -> bool:
    return isinstance(term, ox.Literal) and term.value == "true"


def _short(iri: str) -> str:
    return "sh:" + iri.removeprefix(SH) if iri.startswith(SH) else iri


def read_shapes(graph: ox.Store) -> ShapesGraph:
    """Read every shape with a target (and the shapes they use) from ``graph``.

    Raises:
        UnsupportedShapeError: a shape uses a SHACL feature this engine does not implement.
        ShapesError: the shapes graph is malformed (a list that is not a list…).
    """
    reader = _Reader(graph)
    return ShapesGraph(targeted=tuple(reader.targeted()))

"""Which checks read only a focus node's own triples, and which read other nodes.

Issue 10 §4: a large build could check, per piece of its input as it is loaded, everything that
needs only a node's own triples (and the vocabularies), and run the rest once on the result.
:func:`split_by_reach` divides a shapes graph into those two halves:

* **own**: targets by class (the node's own ``rdf:type``; subclasses come from the ontology),
  subjects-of and nodes; property shapes with an IRI path; counts, ``sh:hasValue``,
  ``sh:uniqueLang`` and the tests of a value term itself (datatype, node kind, ``sh:in``,
  pattern, languages, lengths, ranges, and ``sh:or``/``sh:and``/``sh:xone``/``sh:not``/
  ``sh:node`` of shapes made only of such tests); on a node shape, also ``sh:class`` (the
  node's own types);
* **cross**: everything else: ``sh:class`` and ``sh:node`` on values (the value's types and
  triples), qualified value shapes, other paths, ``sh:targetObjectsOf`` (the referrer's
  triples), SPARQL targets and SHACL-SPARQL constraints.

Every constraint lands in exactly one half, on a copy of its shape that keeps the shape's node,
path, severity and messages, so validating a store with both halves gives the results of
validating it with the whole (``tests/fastshacl/test_reach.py`` checks this on every shape's
failing fixture, and that the own half gives the same results on pieces of the data cut between
subjects). A build too large to validate at once uses it:
:mod:`citygraph.fastshacl.pieces` (docs/performance.md, "Build").
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

import pyoxigraph as ox

from citygraph.fastshacl.shapes import Constraint, Shape, ShapesGraph
from citygraph.fastshacl.sparql import FOCUS_LEVEL, VALUE_LEVEL

__all__ = ["split_by_reach"]

_NESTED: Final = frozenset({"Or", "And", "Xone", "Not", "Node"})
#: Tests of a value term alone (no triple of the value is read): the value-level components
#: (``sparql.VALUE_LEVEL``) but those that read the value's own triples or shapes.
_TERM_TESTS: Final = VALUE_LEVEL - _NESTED - {"Class"}
#: Tests of all values of a focus node together, through its own triples (the focus-level
#: components but the qualified one, which applies a shape to each value).
_FOCUS_TESTS: Final = FOCUS_LEVEL - {"QualifiedValueShape"}


def split_by_reach(shapes: ShapesGraph) -> tuple[ShapesGraph, ShapesGraph]:
    """``shapes`` as two shapes graphs, (own, cross): see the module docstring."""
    own: list[Shape] = []
    cross: list[Shape] = []
    for shape in shapes.targeted:
        local = _own_target(shape)
        mine, theirs = _split(shape, targeted_locally=local)
        if mine is not None:
            own.append(mine)
        if theirs is not None:
            cross.append(theirs)
    return ShapesGraph(targeted=tuple(own)), ShapesGraph(targeted=tuple(cross))


def _own_target(shape: Shape) -> bool:
    target = shape.target
    return not (target.objects_of or target.sparql)


def _split(shape: Shape, *, targeted_locally: bool) -> tuple[Shape | None, Shape | None]:
    """Copies of ``shape`` with its own and its cross constraints (None: nothing in it)."""
    if not targeted_locally or not _own_path(shape):
        return None, _copy(shape, shape.constraints, shape.properties, keep_sparql=True)
    own_constraints = [c for c in shape.constraints if _own(c, on_value=shape.path is not None)]
    cross_constraints = [c for c in shape.constraints if c not in own_constraints]
    own_properties: list[Shape] = []
    cross_properties: list[Shape] = []
    for prop in shape.properties:
        mine, theirs = _split(prop, targeted_locally=True)
        if mine is not None:
            own_properties.append(mine)
        if theirs is not None:
            cross_properties.append(theirs)
    mine_shape = _copy(shape, own_constraints, own_properties, keep_sparql=False)
    theirs_shape = _copy(shape, cross_constraints, cross_properties, keep_sparql=True)
    return mine_shape, theirs_shape


def _own_path(shape: Shape) -> bool:
    return shape.path is None or isinstance(shape.path, ox.NamedNode)


def _own(constraint: Constraint, *, on_value: bool) -> bool:
    """Whether ``constraint`` reads no triple of another node (``on_value``: of a property
    shape, whose tests apply to the values; else of a node shape, applied to the node)."""
    component = constraint.component
    if component in _TERM_TESTS or component in _FOCUS_TESTS:
        return True
    if component == "Class":
        return not on_value  # the node's own types; a value's types are another node's
    if component in _NESTED:
        nested = constraint.value
        members = nested if isinstance(nested, tuple) else (nested,)
        return all(isinstance(m, Shape) and _term_only(m) for m in members)
    return False


def _term_only(shape: Shape) -> bool:
    """A shape that tests the term it is given and reads no triple (``[ sh:datatype … ]``)."""
    return (
        shape.path is None
        and not shape.properties
        and not shape.sparql
        and all(c.component in _TERM_TESTS for c in shape.constraints)
    )


def _copy(
    shape: Shape,
    constraints: Iterable[Constraint],
    properties: Iterable[Shape],
    *,
    keep_sparql: bool,
) -> Shape | None:
    kept = list(constraints)
    props = list(properties)
    sparql = list(shape.sparql) if keep_sparql else []
    if not (kept or props or sparql):
        return None
    return Shape(
        node=shape.node,
        path=shape.path,
        severity=shape.severity,
        messages=shape.messages,
        deactivated=shape.deactivated,
        target=shape.target,
        constraints=kept,
        properties=props,
        sparql=sparql,
    )

"""Every shape in shapes/ has a passing and a failing fixture, and the shapes obey SHACL-SHACL.

Fixtures live in ``tests/data/shapes/<LocalName>/{pass,fail}.ttl`` and are validated together
with ``ontology/vocab/*.ttl`` so the concepts they use exist. A shape added without fixtures
makes this test fail.

A result is "from" a shape when its ``sh:sourceShape`` is the shape itself, one of its property
shapes, or a property shape that uses it (or its parent) through ``sh:node``: a failure inside
an ``sh:node`` shape is reported by the property shape that refers to it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import RDF, Graph, Literal, URIRef
from rdflib.term import Node

from citygraph.namespaces import SH, SHAPES
from citygraph.validate import (
    Severity,
    ValidationReport,
    check_shapes,
    load_graph,
    repository_root,
    validate_paths,
)

ROOT = repository_root()
SHAPES_DIR = ROOT / "shapes"
FIXTURES = Path(__file__).parent / "data" / "shapes"

_SH_PROPERTY = URIRef(SH + "property")
_SH_NODE = URIRef(SH + "node")
_SH_SPARQL = URIRef(SH + "sparql")
_SH_SEVERITY = URIRef(SH + "severity")
_TARGETS = {
    URIRef(SH + name)
    for name in ("targetClass", "targetNode", "targetSubjectsOf", "targetObjectsOf", "target")
}


def _shapes_graph() -> Graph:
    return load_graph([SHAPES_DIR])


def _named_shapes(graph: Graph) -> list[str]:
    """Every node shape and property shape with an IRI in the citygraph shapes namespace."""
    candidates: set[Node] = set(graph.subjects(RDF.type, URIRef(SH + "NodeShape")))
    candidates |= set(graph.subjects(RDF.type, URIRef(SH + "PropertyShape")))
    candidates |= set(graph.objects(None, _SH_PROPERTY))
    candidates |= set(graph.objects(None, _SH_NODE))
    return sorted(
        str(shape)
        for shape in candidates
        if isinstance(shape, URIRef) and str(shape).startswith(SHAPES)
    )


def _sparql_constraints(graph: Graph) -> list[str]:
    return sorted(str(c) for c in set(graph.objects(None, _SH_SPARQL)) if str(c).startswith(SHAPES))


def _collect() -> tuple[list[str], list[str], list[str]]:
    graph = _shapes_graph()
    shapes = _named_shapes(graph)
    properties = [iri for iri in shapes if (URIRef(iri), URIRef(SH + "path"), None) in graph]
    return shapes, _sparql_constraints(graph), properties


# Collected once, as plain strings, to parametrize the tests; each test reads the graph itself.
SHAPE_IRIS, CONSTRAINT_IRIS, PROPERTY_SHAPE_IRIS = _collect()


@pytest.fixture
def shapes_graph() -> Graph:
    return _shapes_graph()


def _local(iri: str) -> str:
    return iri.removeprefix(SHAPES)


def _responsible(graph: Graph, shape: URIRef) -> set[str]:
    """The shapes whose results count as results of ``shape`` (see the module docstring)."""
    responsible = {shape}
    responsible |= set(graph.objects(shape, _SH_PROPERTY))
    for user in (shape, *graph.subjects(_SH_PROPERTY, shape)):
        responsible |= set(graph.subjects(_SH_NODE, user))
    return {str(s) for s in responsible}


def _validate(fixture: Path) -> ValidationReport:
    vocab = sorted((ROOT / "ontology" / "vocab").glob("*.ttl"))
    return validate_paths([fixture], shapes_dir=SHAPES_DIR, vocab=vocab)


def _declared_severity(graph: Graph, shape: str) -> Severity:
    severity = graph.value(URIRef(shape), _SH_SEVERITY)
    return Severity.VIOLATION if severity is None else Severity.from_iri(str(severity))


def test_shapes_found() -> None:
    assert len(SHAPE_IRIS) > 50
    assert f"{SHAPES}Partnership-partner" in SHAPE_IRIS
    assert f"{SHAPES}PartnershipShape" in SHAPE_IRIS


def test_vocabulary_files_exist() -> None:
    assert sorted((ROOT / "ontology" / "vocab").glob("*.ttl")), "ontology/vocab/*.ttl missing"


@pytest.mark.parametrize("shape", SHAPE_IRIS, ids=_local)
def test_pass_fixture_gives_no_result(shape: str, shapes_graph: Graph) -> None:
    graph = shapes_graph
    responsible = _responsible(graph, URIRef(shape))
    report = _validate(FIXTURES / _local(shape) / "pass.ttl")
    offending = [r for r in report.results if r.shape in responsible]
    assert offending == []


@pytest.mark.parametrize("shape", SHAPE_IRIS, ids=_local)
def test_fail_fixture_gives_result(shape: str, shapes_graph: Graph) -> None:
    graph = shapes_graph
    responsible = _responsible(graph, URIRef(shape))
    report = _validate(FIXTURES / _local(shape) / "fail.ttl")
    found = [r for r in report.results if r.shape in responsible]
    assert found, f"no result from {_local(shape)}; got {[r.shape for r in report.results]}"
    for result in found:
        assert result.severity == _declared_severity(graph, result.shape)
    if _is_targeted_property_shape(graph, URIRef(shape)):
        assert any(r.shape == shape for r in found)


def _is_targeted_property_shape(graph: Graph, shape: URIRef) -> bool:
    """A property shape of a node shape with a target reports results under its own IRI."""
    return any(
        any(p in _TARGETS for p in graph.predicates(parent, None))
        for parent in graph.subjects(_SH_PROPERTY, shape)
    )


@pytest.mark.parametrize("constraint", CONSTRAINT_IRIS, ids=_local)
def test_sparql_constraint_fixtures(constraint: str, shapes_graph: Graph) -> None:
    graph = shapes_graph
    owners = {str(s) for s in graph.subjects(_SH_SPARQL, URIRef(constraint))}
    passing = _validate(FIXTURES / _local(constraint) / "pass.ttl")
    assert [r for r in passing.results if r.source_constraint == constraint] == []
    failing = _validate(FIXTURES / _local(constraint) / "fail.ttl")
    found = [r for r in failing.results if r.source_constraint == constraint]
    assert found
    for result in found:
        assert result.shape in owners
        assert result.severity == _declared_severity(graph, result.shape)
        assert set(result.messages) == {"en", "de", "zh-Hans"}


def test_every_fixture_folder_belongs_to_a_shape() -> None:
    known = {_local(iri) for iri in (*SHAPE_IRIS, *CONSTRAINT_IRIS)}
    folders = {folder.name for folder in FIXTURES.iterdir() if folder.is_dir()}
    assert folders - known == set()


@pytest.mark.parametrize("shape", [*PROPERTY_SHAPE_IRIS, *CONSTRAINT_IRIS], ids=_local)
def test_messages_in_three_languages(shape: str, shapes_graph: Graph) -> None:
    graph = shapes_graph
    messages = graph.objects(URIRef(shape), URIRef(SH + "message"))
    languages = sorted(m.language or "" for m in messages if isinstance(m, Literal))
    assert languages == ["de", "en", "zh-Hans"]


@pytest.mark.parametrize("shape", PROPERTY_SHAPE_IRIS, ids=_local)
def test_property_shapes_declare_their_severity(shape: str, shapes_graph: Graph) -> None:
    assert shapes_graph.value(URIRef(shape), _SH_SEVERITY) is not None


def test_shapes_conform_to_shacl_shacl() -> None:
    report = check_shapes(SHAPES_DIR)
    assert report.results == ()


def test_check_shapes_finds_a_broken_shape(tmp_path: Path) -> None:
    (tmp_path / "broken.ttl").write_text(
        "@prefix sh: <http://www.w3.org/ns/shacl#> .\n"
        "@prefix ex: <http://example.org/> .\n"
        "ex:Shape a sh:NodeShape ; sh:property ex:prop .\n"
        'ex:prop sh:path ex:p ; sh:minCount "one" .\n',
        encoding="utf-8",
    )
    report = check_shapes(tmp_path)
    assert not report.conforms()

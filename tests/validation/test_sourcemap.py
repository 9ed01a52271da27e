"""Where a node is written: positions read from the Turtle token stream, checked by hand.

Every expected line and column below was counted in the fixture file, not taken from the code.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import RDF, RDFS, BNode, Graph, Literal, URIRef
from rdflib.collection import Collection

from citygraph.sourcemap import Locator, Position, SourceMap

DATA = Path(__file__).parents[1] / "data" / "validation"
LOCATED = DATA / "located.ttl"
EX = "http://example.org/"
CG = "https://w3id.org/citygraph/ontology#"


@pytest.fixture
def locator() -> Locator:
    graph = Graph().parse(LOCATED)
    return SourceMap.read([LOCATED]).locator(graph)


def _at(position: Position | None) -> tuple[int, int] | None:
    return None if position is None else (position.line, position.column)


@pytest.mark.parametrize(
    ("node", "expected"),
    [
        pytest.param(EX + "p1", (7, 1), id="prefixed-name-subject"),
        pytest.param(EX + "p2", (15, 3), id="full-iri-subject-indented"),
        pytest.param(EX + "a", (18, 1), id="subject-after-multi-line-string"),
        pytest.param(EX + "x", (18, 48), id="object-only-in-collection"),
    ],
)
def test_node_positions(locator: Locator, node: str, expected: tuple[int, int]) -> None:
    assert _at(locator.node(URIRef(node))) == expected


def test_a_name_in_a_comment_is_not_a_node(locator: Locator) -> None:
    assert locator.node(URIRef(EX + "nothing")) is None


def test_the_value_of_a_triple_is_located(locator: Locator) -> None:
    partner = URIRef(CG + "partner")
    assert _at(locator.triple(URIRef(EX + "p1"), partner, URIRef(EX + "a"))) == (10, 9)
    assert _at(locator.triple(URIRef(EX + "p2"), partner, URIRef(EX + "b"))) == (15, 63)
    start = URIRef(CG + "startDate")
    assert _at(locator.triple(URIRef(EX + "p2"), start, Literal("sometime"))) == (16, 18)


def test_a_missing_value_points_at_the_predicate_then_the_subject(locator: Locator) -> None:
    p1 = URIRef(EX + "p1")
    assert _at(locator.triple(p1, URIRef(CG + "partner"), URIRef(EX + "zzz"))) == (9, 5)
    assert _at(locator.triple(p1, URIRef(CG + "status"), None)) == (7, 1)


def test_an_anonymous_blank_node_is_its_opening_bracket() -> None:
    graph = Graph().parse(LOCATED)
    neighbour = graph.value(URIRef(EX + "a"), URIRef(EX + "near"))
    assert isinstance(neighbour, BNode)
    locator = SourceMap.read([LOCATED]).locator(graph)
    assert _at(locator.node(neighbour)) == (19, 13)
    label = Literal("Nameless neighbour", lang="en")
    assert _at(locator.triple(neighbour, RDFS.label, label)) == (20, 26)


def test_a_collection_is_its_opening_parenthesis() -> None:
    graph = Graph().parse(LOCATED)
    head = graph.value(URIRef(EX + "a"), URIRef(EX + "list"))
    assert isinstance(head, BNode)
    assert [str(item) for item in Collection(graph, head)] == [EX + "x", "y", EX + "z"]
    locator = SourceMap.read([LOCATED]).locator(graph)
    assert _at(locator.node(head)) == (18, 46)


def test_labelled_blank_nodes_are_told_apart_by_content(tmp_path: Path) -> None:
    path = tmp_path / "labelled.ttl"
    path.write_text(
        "@prefix ex: <http://example.org/> .\n"
        "_:one ex:name 'first' .\n"
        "\n"
        "_:two\n"
        "    ex:name 'second' .\n",
        encoding="utf-8",
    )
    graph = Graph().parse(path)
    second = graph.value(None, URIRef(EX + "name"), Literal("second"))
    first = graph.value(None, URIRef(EX + "name"), Literal("first"))
    locator = SourceMap.read([path]).locator(graph)
    assert (_at(locator.node(first)), _at(locator.node(second))) == ((2, 1), (4, 1))


def test_the_first_file_that_writes_a_subject_wins(tmp_path: Path) -> None:
    one, two = tmp_path / "one.ttl", tmp_path / "two.ttl"
    one.write_text("<http://example.org/s> a <http://example.org/T> .\n", encoding="utf-8")
    two.write_text("\n\n<http://example.org/s> <http://example.org/p> 1 .\n", encoding="utf-8")
    graph = Graph().parse(one).parse(two)
    locator = SourceMap.read([two, one]).locator(graph)
    assert locator.node(URIRef(EX + "s")) == Position(two, 3, 1)
    assert locator.triple(URIRef(EX + "s"), RDF.type, URIRef(EX + "T")) == Position(one, 1, 26)


def test_relative_iris_and_base(tmp_path: Path) -> None:
    path = tmp_path / "base.ttl"
    path.write_text(
        "@base <http://example.org/> .\nPREFIX e: <x/>\n<s> e:p <o> .\n", encoding="utf-8"
    )
    graph = Graph().parse(path)
    locator = SourceMap.read([path]).locator(graph)
    assert _at(locator.triple(URIRef(EX + "s"), URIRef(EX + "x/p"), URIRef(EX + "o"))) == (3, 9)

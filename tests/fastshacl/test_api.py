"""The public API: files and built stores, errors, and SHACL features beyond shapes/."""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pyoxigraph as ox
import pytest
from tests.fastshacl.compare import both, difference

from citygraph.errors import InputSyntaxError
from citygraph.fastshacl import UnsupportedShapeError, validate_files, validate_store
from citygraph.report import render
from citygraph.validate import default_inputs, repository_root, validate_paths

ROOT = repository_root()
SHAPES = ROOT / "shapes"
VOCAB = [ROOT / "ontology" / "citygraph.ttl", *sorted((ROOT / "ontology" / "vocab").glob("*.ttl"))]

PREFIXES = """\
@prefix ex: <http://example.org/> .
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
"""


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(PREFIXES + text, encoding="utf-8")
    return path


def _built_store(directory: Path, files: list[Path]) -> ox.Store:
    """An on-disk store like a build: each file in its own named graph, one triple twice."""
    store = ox.Store(str(directory))
    for number, path in enumerate(files):
        graph = ox.NamedNode(f"https://w3id.org/citygraph/graph/test-{number}")
        store.load(path=str(path), format=ox.RdfFormat.TURTLE, to_graph=graph)
    first = next(iter(store.quads_for_pattern(None, None, None, None)))
    store.add(ox.Quad(first.subject, first.predicate, first.object, ox.NamedNode("urn:g:again")))
    return store


# --- files and stores ---------------------------------------------------------------------------


def test_validate_files_gives_the_reference_results_and_messages() -> None:
    fixture = ROOT / "tests" / "data" / "shapes" / "Common-startDate" / "fail.ttl"
    paths = [*default_inputs(ROOT), fixture]
    reference = validate_paths(paths, shapes_dir=SHAPES)
    fast = validate_files(paths, shapes_dir=SHAPES)
    assert fast.results == reference.results  # messages and source constraints included


@pytest.mark.parametrize("copy", [True, False], ids=["copied-to-memory", "on-disk"])
def test_validate_store_reads_every_graph(tmp_path: Path, copy: bool) -> None:
    files = default_inputs(ROOT)
    store = _built_store(tmp_path / "store", files)
    from_store = validate_store(store, shapes_dir=SHAPES, copy=copy)
    assert from_store.results == validate_files(files, shapes_dir=SHAPES).results


def test_store_accepts_integer_subtypes_it_cannot_tell_apart(tmp_path: Path) -> None:
    # Oxigraph stores "6"^^xsd:positiveInteger as "6"^^xsd:integer: from a store, 6 passes.
    event = (
        "ex:e a <https://w3id.org/citygraph/ontology#Event> ; "
        "<https://w3id.org/citygraph/ontology#seriesNumber> {} .\n"
    )
    good = _write(tmp_path, "good.ttl", event.format('"6"^^xsd:positiveInteger'))
    bad = _write(tmp_path, "bad.ttl", event.format("6"))
    component = "http://www.w3.org/ns/shacl#DatatypeConstraintComponent"

    def datatype_results(paths: list[Path], *, store: bool) -> int:
        if store:
            report = validate_store(
                _built_store(tmp_path / paths[0].stem, paths), shapes_dir=SHAPES
            )
        else:
            report = validate_files(paths, shapes_dir=SHAPES)
        return sum(r.component == component for r in report.results)

    assert datatype_results([good], store=False) == 0
    assert datatype_results([bad], store=False) == 1  # exact from files, like pySHACL
    assert datatype_results([good], store=True) == 0
    assert datatype_results([bad], store=True) == 0  # documented leniency of the store


def test_reports_render_in_every_format() -> None:
    fixture = ROOT / "tests" / "data" / "shapes" / "ConceptScheme-label" / "fail.ttl"
    report = validate_files([fixture], shapes_dir=SHAPES, vocab=VOCAB)
    assert report.results
    assert any(r.path and "|" in r.path for r in report.results)  # an alternative path
    for fmt in ("text", "json", "turtle"):
        assert render(report, fmt=fmt, lang="de")


# --- errors -------------------------------------------------------------------------------------


def test_syntax_error_names_file_line_and_column(tmp_path: Path) -> None:
    broken = _write(tmp_path, "broken.ttl", "ex:a ex:b ex:c .\nex:a ex:b .\n")
    with pytest.raises(InputSyntaxError) as caught:
        validate_files([broken], shapes_dir=SHAPES)
    assert caught.value.path == broken
    assert caught.value.line == 7
    assert caught.value.column is not None


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputSyntaxError, match="no such file"):
        validate_files([tmp_path / "missing.ttl"], shapes_dir=SHAPES)


@pytest.mark.parametrize(
    ("constraint", "named"),
    [
        ("sh:equals ex:p", "sh:equals"),
        ("sh:property [ sh:path ex:p ; sh:lessThan ex:q ]", "sh:lessThan"),
        ("sh:property [ sh:path ex:p ; sh:datatype xsd:dateTime ]", "XMLSchema#dateTime"),
        ("sh:closed true", "sh:closed"),
    ],
    ids=["equals", "lessThan", "dateTime", "closed"],
)
def test_unsupported_constraint_names_shape_and_component(
    tmp_path: Path, constraint: str, named: str
) -> None:
    shapes = tmp_path / "shapes"
    _write(shapes, "s.ttl", f"ex:S a sh:NodeShape ; sh:targetClass ex:C ; {constraint} .\n")
    data = _write(tmp_path, "d.ttl", "ex:a a ex:C ; ex:p 1 .\n")
    with pytest.raises(UnsupportedShapeError, match=named) as caught:
        validate_files([data], shapes_dir=shapes)
    assert "not supported" in str(caught.value)


# --- SHACL features beyond shapes/, against pySHACL ---------------------------------------------

FEATURE_SHAPES = '''\
ex:Thing a sh:NodeShape ;
    sh:targetClass ex:Thing ;
    sh:property ex:in, ex:xone, ex:length, ex:range, ex:sequence, ex:star, ex:inverse,
        ex:qualified, ex:lang, ex:flags, ex:deactivated, ex:and, ex:numbers, ex:sparql .
ex:in sh:path ex:colour ; sh:in ( ex:red ex:green "blue" ) .
ex:xone sh:path ex:size ; sh:xone ( [ sh:datatype xsd:integer ] [ sh:minInclusive 10 ] ) .
ex:length sh:path ex:code ; sh:minLength 2 ; sh:maxLength 3 ; sh:severity sh:Warning .
ex:range sh:path ex:score ; sh:minExclusive 0 ; sh:maxExclusive 1.5 .
ex:sequence sh:path ( ex:part ex:code ) ; sh:maxCount 1 .
ex:star sh:path [ sh:zeroOrMorePath ex:part ] ; sh:class ex:Thing ; sh:severity sh:Info .
ex:inverse sh:path [ sh:inversePath ex:part ] ; sh:maxCount 1 .
ex:qualified sh:path ex:label ;
    sh:qualifiedValueShape [ sh:languageIn ( "de" ) ] ; sh:qualifiedMaxCount 1 .
ex:lang sh:path ex:label ; sh:languageIn ( "en" "de" ) ; sh:uniqueLang true .
ex:flags sh:path ex:code ; sh:pattern "^[a-z]+$" ; sh:flags "i" .
ex:deactivated sh:path ex:code ; sh:minCount 5 ; sh:deactivated true .
ex:and sh:path ex:colour ; sh:and ( [ sh:nodeKind sh:IRI ] [ sh:not [ sh:hasValue ex:red ] ] ) .
ex:numbers sh:path ex:n ; sh:datatype xsd:nonNegativeInteger .
ex:sparql sh:path ex:part ;
    sh:sparql [ sh:select """SELECT $this ?value WHERE {
        $this $PATH ?value . FILTER NOT EXISTS { ?value ?p ?o } }""" ] .

ex:Big a sh:NodeShape ;
    sh:targetClass ex:Thing ;
    sh:severity sh:Warning ;
    sh:sparql [ sh:select """SELECT ?value WHERE {
        $this <http://example.org/size> ?value .
        FILTER (isNumeric(?value) && ?value > 10) }""" ] .

ex:Listed a sh:NodeShape ;
    sh:targetNode ex:a, ex:nowhere ;
    sh:hasValue ex:a ;
    sh:property [ sh:path ex:part ; sh:minCount 1 ] .

ex:GeometryLike a sh:NodeShape ;
    sh:targetObjectsOf ex:geometry ;
    sh:property [ sh:path ex:wkt ; sh:minCount 1 ; sh:datatype xsd:string ] .

ex:Booleans a sh:NodeShape ;
    sh:targetSubjectsOf ex:flag ;
    sh:property [ sh:path ex:flag ; sh:datatype xsd:boolean ] ,
        [ sh:path ex:day ; sh:datatype xsd:date ] ,
        [ sh:path ex:amount ; sh:datatype xsd:decimal ] ,
        [ sh:path ex:small ; sh:datatype xsd:byte ] .
'''

FEATURE_DATA = """\
ex:a a ex:Thing ; ex:colour ex:red, "blue", ex:yellow ; ex:size 12, 5, "x" ;
    ex:code "a", "abcd", "ABC", "a1" ; ex:score 0, 1.2, 1.5, "1" ;
    ex:part ex:b, ex:c ; ex:label "x"@en, "y"@en, "z"@de, "w"@de-AT, "v"@fr, "plain" ;
    ex:n 3, "4"^^xsd:nonNegativeInteger, "-1"^^xsd:nonNegativeInteger, "05"^^xsd:integer .
ex:b a ex:Thing ; ex:code "xy", "zz" ; ex:part ex:c .
ex:c ex:code "q" .
ex:d ex:part ex:c .
ex:e a ex:Thing ; ex:geometry [ ex:wkt "POINT(1 2)" ], [ ex:other 1 ], "literal geometry" .
ex:f ex:flag true, "1"^^xsd:boolean, "yes"^^xsd:boolean ;
    ex:day "2020-02-30"^^xsd:date, "2020-02-28"^^xsd:date, "2020-1-1"^^xsd:date ;
    ex:amount 1.50, "abc"^^xsd:decimal, "1e3"^^xsd:decimal ;
    ex:small "12"^^xsd:byte, "300"^^xsd:byte, 7 .
"""


def test_features_beyond_shapes_dir_match_pyshacl(tmp_path: Path) -> None:
    shapes = tmp_path / "shapes"
    _write(shapes, "features.ttl", FEATURE_SHAPES)
    data = _write(tmp_path, "data.ttl", FEATURE_DATA)
    reference, fast = both([data], shapes)
    assert sum(reference.values()) > 30
    assert any(key[0] and key[0].startswith("_:[") for key in reference)  # blank focus nodes
    assert reference == fast, difference(reference, fast)


# The property shapes of a node shape are checked together (one query for their value tests, one
# for their counts): shapes sharing a path, counts too large to unroll, sh:maxCount 0.
GROUPED_SHAPES = """\
ex:Grouped a sh:NodeShape ;
    sh:targetClass ex:Thing ;
    sh:property ex:labelled, ex:plain, ex:two, ex:many, ex:few, ex:none, ex:inverse .
ex:labelled sh:path ex:label ; sh:minCount 1 ; sh:datatype rdf:langString .
ex:plain sh:path ex:label ; sh:maxCount 2 ; sh:nodeKind sh:Literal ; sh:severity sh:Warning .
ex:two sh:path ex:partner ; sh:minCount 2 ; sh:maxCount 2 ; sh:class ex:Thing .
ex:many sh:path ex:code ; sh:minCount 5 .
ex:few sh:path ex:code ; sh:maxCount 4 ; sh:minLength 2 .
ex:none sh:path ex:secret ; sh:maxCount 0 .
ex:inverse sh:path [ sh:inversePath ex:partner ] ; sh:minCount 1 .
"""

GROUPED_DATA = """\
ex:a a ex:Thing ; ex:label "a"@en, "b", ex:iri ; ex:partner ex:b, ex:c, ex:d ;
    ex:code "1", "22", "333", "4444", "55555" ; ex:secret 1 .
ex:b a ex:Thing ; ex:label "b"@de ; ex:partner ex:a ; ex:code "x" .
ex:c a ex:Thing ; ex:partner ex:nothing, ex:nothing .
"""


def test_property_shapes_checked_together_match_pyshacl(tmp_path: Path) -> None:
    shapes = tmp_path / "shapes"
    _write(shapes, "grouped.ttl", GROUPED_SHAPES)
    data = _write(tmp_path, "data.ttl", GROUPED_DATA)
    reference, fast = both([data], shapes)
    assert sum(reference.values()) > 10
    assert reference == fast, difference(reference, fast)


@pytest.mark.slow
def test_synthetic_partnership_graph_matches_pyshacl(tmp_path: Path) -> None:
    """A few thousand triples shaped like the worldwide layer, every error kind injected."""
    bench = importlib.import_module("bench.validate_bench")
    graph = bench.generate(partnerships=36, places=26, seed=3)
    data = tmp_path / "synthetic.nt"
    data.write_text("\n".join(graph.lines()) + "\n", encoding="utf-8")
    reference, fast = both([*VOCAB, data], SHAPES)
    assert sum(reference.values()) > 50
    assert reference == fast, difference(reference, fast)


# --- examples in docstrings ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "module", ["__init__", "loading", "pieces", "sparql", "terms"], ids=lambda name: name
)
def test_docstring_examples_run(module: str) -> None:
    name = "citygraph.fastshacl" + ("" if module == "__init__" else f".{module}")
    failures, attempted = doctest.testmod(importlib.import_module(name))
    assert attempted > 0, f"{name} has no examples to run"
    assert failures == 0


def test_public_names() -> None:
    package = importlib.import_module("citygraph.fastshacl")
    assert sorted(package.__all__) == [
        "UnsupportedShapeError",
        "flatten",
        "load_shapes",
        "validate_files",
        "validate_store",
    ]
    assert all(hasattr(package, name) for name in package.__all__)

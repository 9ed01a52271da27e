"""The validation library: loading inputs, running the shapes, gating and rendering reports."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
from rdflib import RDF, Graph, Literal, URIRef

from citygraph import report as report_module
from citygraph import validate as validate_module
from citygraph.errors import InputSyntaxError
from citygraph.namespaces import SH, SHAPES
from citygraph.report import compact, render
from citygraph.validate import (
    Severity,
    ValidationReport,
    ValidationResult,
    default_inputs,
    load_graph,
    repository_root,
    validate_graph,
    validate_paths,
)

ROOT = repository_root()
SHAPES_DIR = ROOT / "shapes"

PREFIXES = """\
@prefix cg: <https://w3id.org/citygraph/ontology#> .
@prefix ex: <http://example.org/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
"""

#: One violation (no country), one warning (no Wikidata link, no source), one info (no
#: coordinates), and a SHACL-SPARQL violation (end before start) on a second node.
MIXED = (
    PREFIXES
    + """\
ex:x a cg:City ;
    rdfs:label "X"@en .
ex:e a cg:Participation ;
    cg:startDate "2001"^^xsd:gYear ;
    cg:endDate "2000-12"^^xsd:gYearMonth .
"""
).replace(
    "@prefix xsd:",
    "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n@prefix xsd:",
)


@pytest.fixture
def mixed_report(tmp_path: Path) -> ValidationReport:
    data = tmp_path / "mixed.ttl"
    data.write_text(MIXED, encoding="utf-8")
    return validate_paths([data], shapes_dir=SHAPES_DIR)


def _result(severity: Severity, **messages: str) -> ValidationResult:
    return ValidationResult(
        focus_node="https://w3id.org/citygraph/id/city/de-berlin",
        shape=SHAPES + "Place-coordinates",
        component=SH + "MinCountConstraintComponent",
        severity=severity,
        path="https://schema.org/latitude",
        value=None,
        messages=messages or {"en": "No coordinates."},
    )


# --- the repository's own inputs ---------------------------------------------------------


def test_default_inputs_are_ontology_vocab_then_data() -> None:
    inputs = default_inputs(ROOT)
    assert inputs, "no ontology or data files yet"
    relative = [p.relative_to(ROOT).as_posix() for p in inputs]
    assert relative[0] == "ontology/citygraph.ttl"
    kinds = [
        p.split("/")[1] if p.startswith("ontology/vocab") else p.split("/")[0] for p in relative
    ]
    assert kinds == sorted(kinds, key=["ontology", "vocab", "data"].index)


def test_repository_inputs_conform() -> None:
    report = validate_paths(default_inputs(ROOT), shapes_dir=SHAPES_DIR)
    violations = [r for r in report.results if r.severity is Severity.VIOLATION]
    assert report.conforms(Severity.VIOLATION), render(
        ValidationReport(results=tuple(violations)), fmt="text", lang="en"
    )


# --- loading ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        pytest.param(
            PREFIXES + "ex:a ex:b ex:c .\nex:a ex:b ex:c ex:d .\n", 5, 16, id="extra-term"
        ),
        pytest.param(PREFIXES + "\n\nex:a ex:b unbound:c .\n", 6, 11, id="unbound-prefix"),
        pytest.param(PREFIXES + 'ex:a ex:b "open .\n', 4, None, id="open-string"),
    ],
)
def test_turtle_syntax_error_names_file_and_line(
    tmp_path: Path, text: str, line: int, column: int | None
) -> None:
    path = tmp_path / "broken.ttl"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputSyntaxError) as caught:
        load_graph([tmp_path])
    error = caught.value
    assert error.path == path
    assert error.line == line
    if column is not None:
        assert error.column == column
    assert str(error).startswith(f"{path}:{line}")


def test_ntriples_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.nt"
    path.write_text(
        "<http://a> <http://b> <http://c> .\n\n<http://a> <http://b> c .\n", encoding="utf-8"
    )
    with pytest.raises(InputSyntaxError) as caught:
        load_graph([path])
    assert (caught.value.path, caught.value.line) == (path, 3)


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        pytest.param("data.rdf", "<rdf:RDF/>", "not a Turtle", id="unsupported-suffix"),
        pytest.param("missing.ttl", None, "no such file", id="missing"),
    ],
)
def test_unusable_input(tmp_path: Path, name: str, content: str | None, reason: str) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(InputSyntaxError, match=reason):
        load_graph([path])


def test_directory_loads_ttl_and_nt_files(tmp_path: Path) -> None:
    (tmp_path / "a.ttl").write_text(PREFIXES + "ex:a ex:b ex:c .\n", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.nt").write_text("<http://a> <http://b> <http://d> .\n", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not RDF", encoding="utf-8")
    assert len(load_graph([tmp_path])) == 2


# --- validating and gating ---------------------------------------------------------------


def test_report_has_every_severity(mixed_report: ValidationReport) -> None:
    counts = mixed_report.counts()
    assert counts[Severity.VIOLATION] >= 2
    assert counts[Severity.WARNING] >= 2
    assert counts[Severity.INFO] >= 1
    shapes = {compact(r.shape) for r in mixed_report.results}
    assert {"cgsh:Place-country", "cgsh:Place-wikidata", "cgsh:Place-coordinates"} <= shapes


def test_sparql_results_keep_their_languages(mixed_report: ValidationReport) -> None:
    (result,) = [r for r in mixed_report.results if r.source_constraint]
    assert result.source_constraint == SHAPES + "EndNotBeforeStart"
    assert result.focus_node == "http://example.org/e"
    assert result.value == '"2000-12"^^<http://www.w3.org/2001/XMLSchema#gYearMonth>'
    assert set(result.messages) == {"en", "de", "zh-Hans"}
    assert result.messages["de"] == "cg:endDate liegt vor cg:startDate."


@pytest.mark.parametrize(
    ("severities", "fail_on", "conforms"),
    [
        pytest.param((), Severity.INFO, True, id="empty"),
        pytest.param((Severity.INFO,), Severity.VIOLATION, True, id="info-vs-violation"),
        pytest.param((Severity.INFO,), Severity.WARNING, True, id="info-vs-warning"),
        pytest.param((Severity.INFO,), Severity.INFO, False, id="info-vs-info"),
        pytest.param((Severity.WARNING,), Severity.VIOLATION, True, id="warning-vs-violation"),
        pytest.param((Severity.WARNING,), Severity.WARNING, False, id="warning-vs-warning"),
        pytest.param((Severity.VIOLATION,), Severity.VIOLATION, False, id="violation"),
    ],
)
def test_conforms_gates_on_severity(
    severities: tuple[Severity, ...], fail_on: Severity, conforms: bool
) -> None:
    report = ValidationReport(results=tuple(_result(s) for s in severities))
    assert report.conforms(fail_on) is conforms


def test_default_gate_is_violation(mixed_report: ValidationReport) -> None:
    only_info = ValidationReport(
        results=tuple(r for r in mixed_report.results if r.severity is Severity.INFO)
    )
    assert only_info.results
    assert only_info.conforms()
    assert not only_info.conforms(Severity.INFO)


@pytest.mark.parametrize("severity", list(Severity), ids=lambda s: s.name.lower())
def test_severity_round_trips_through_its_iri(severity: Severity) -> None:
    assert Severity.from_iri(severity.iri) is severity


def test_unknown_severity_iri() -> None:
    with pytest.raises(ValueError, match="not a SHACL severity"):
        Severity.from_iri(SH + "Fatal")


def test_validate_graph_on_an_in_memory_graph() -> None:
    graph = Graph()
    graph.parse(data=PREFIXES + "ex:c a cg:Country .\n", format="turtle")
    report = validate_graph(graph, shapes_dir=SHAPES_DIR)
    assert {compact(r.shape) for r in report.results} == {
        "cgsh:Common-label",
        "cgsh:Country-isoCode",
    }


def test_vocab_makes_concepts_visible(tmp_path: Path) -> None:
    data = tmp_path / "p.ttl"
    data.write_text(
        PREFIXES
        + "ex:o a <http://www.w3.org/ns/org#Organization> ;\n"
        + "    cg:organisationType <https://w3id.org/citygraph/vocab/organisation-type/zoo> .\n",
        encoding="utf-8",
    )
    vocab = sorted((ROOT / "ontology" / "vocab").glob("*.ttl"))
    without = validate_paths([data], shapes_dir=SHAPES_DIR)
    with_vocab = validate_paths([data], shapes_dir=SHAPES_DIR, vocab=vocab)
    shape = SHAPES + "Organization-organisationType"
    assert any(r.shape == shape for r in without.results)
    assert not any(r.shape == shape for r in with_vocab.results)


# --- rendering ----------------------------------------------------------------------------

_GERMAN = "Ein Ort braucht genau ein cg:country, ein cg:Country."
_CHINESE = "地点必须恰好有一个 cg:country，且为 cg:Country。"  # noqa: RUF001


@pytest.mark.parametrize(
    ("lang", "expected", "summary"),
    [
        pytest.param("en", "A place needs exactly one cg:country", "results:", id="en"),
        pytest.param("de", _GERMAN, "Ergebnisse:", id="de"),
        pytest.param("zh", _CHINESE, "条结果", id="zh"),
        pytest.param("zh-Hans", _CHINESE, "条结果", id="zh-Hans"),
        pytest.param("fr", "A place needs exactly one cg:country", "results:", id="fallback-en"),
    ],
)
def test_text_report_in_each_language(
    mixed_report: ValidationReport, lang: str, expected: str, summary: str
) -> None:
    text = render(mixed_report, fmt="text", lang=lang)
    assert expected in text
    assert summary in text.splitlines()[-1]


def test_text_report_groups_by_focus_node(mixed_report: ValidationReport) -> None:
    lines = render(mixed_report, fmt="text", lang="en").splitlines()
    assert "<http://example.org/x>" not in lines
    assert lines[0] == "http://example.org/e"
    place_line = next(line for line in lines if "Place-country" in line)
    assert place_line.split()[:3] == ["Violation", "Place-country", "cg:country"]
    counts = mixed_report.counts()
    assert lines[-1] == (
        f"{len(mixed_report.results)} results: {counts[Severity.VIOLATION]} violations, "
        f"{counts[Severity.WARNING]} warnings, {counts[Severity.INFO]} infos"
    )


def test_text_report_compacts_literal_values(mixed_report: ValidationReport) -> None:
    text = render(mixed_report, fmt="text", lang="en")
    assert '"2000-12"^^xsd:gYearMonth' in text


@pytest.mark.parametrize("lang", ["en", "de", "zh"])
def test_json_report(mixed_report: ValidationReport, lang: str) -> None:
    items = json.loads(render(mixed_report, fmt="json", lang=lang))
    assert len(items) == len(mixed_report.results)
    keys = {
        "focus_node",
        "severity",
        "shape",
        "component",
        "source_constraint",
        "path",
        "value",
        "message",
        "messages",
        "file",
        "line",
        "column",
    }
    assert all(set(item) == keys for item in items)
    assert {item["severity"] for item in items} == {"violation", "warning", "info"}
    place = next(i for i in items if i["shape"] == SHAPES + "Place-country")
    assert place["message"] == place["messages"]["zh-Hans" if lang == "zh" else lang]


def test_turtle_report_is_a_shacl_validation_report(mixed_report: ValidationReport) -> None:
    graph = Graph().parse(data=render(mixed_report, fmt="turtle", lang="en"), format="turtle")
    sh = SH
    (report_node,) = graph.subjects(RDF.type, URIRef(sh + "ValidationReport"))
    assert graph.value(report_node, URIRef(sh + "conforms")) == Literal(False)
    results = list(graph.objects(report_node, URIRef(sh + "result")))
    assert len(results) == len(mixed_report.results)
    languages = {
        m.language
        for r in results
        for m in graph.objects(r, URIRef(sh + "resultMessage"))
        if isinstance(m, Literal)
    }
    assert languages == {"en", "de", "zh-Hans"}
    values = set(graph.objects(None, URIRef(sh + "value")))
    assert Literal("2000-12", datatype=URIRef("http://www.w3.org/2001/XMLSchema#gYearMonth")) in (
        values
    )


def test_turtle_report_keeps_complex_paths(tmp_path: Path) -> None:
    data = tmp_path / "scheme.ttl"
    data.write_text(
        PREFIXES + "ex:s a <http://www.w3.org/2004/02/skos/core#ConceptScheme> .\n",
        encoding="utf-8",
    )
    report = validate_paths([data], shapes_dir=SHAPES_DIR)
    paths = {r.path for r in report.results}
    assert "^<http://www.w3.org/2004/02/skos/core#inScheme>" in paths
    graph = Graph().parse(data=render(report, fmt="turtle", lang="en"), format="turtle")
    inverse = URIRef(SH + "inversePath")
    assert (None, inverse, URIRef("http://www.w3.org/2004/02/skos/core#inScheme")) in graph


def test_empty_report_conforms_in_turtle() -> None:
    graph = Graph().parse(
        data=render(ValidationReport(results=()), fmt="turtle", lang="en"), format="turtle"
    )
    assert list(graph.objects(None, URIRef(SH + "conforms"))) == [Literal(True)]


def test_hand_built_result_renders_in_every_format() -> None:
    report = ValidationReport(results=(_result(Severity.INFO, en="No coordinates."),))
    assert "city:de-berlin" in render(report, fmt="text", lang="de")
    assert json.loads(render(report, fmt="json", lang="de"))[0]["message"] == "No coordinates."
    assert "sh:Info" in render(report, fmt="turtle", lang="de")


def test_unknown_format() -> None:
    with pytest.raises(ValueError, match="unknown report format"):
        render(ValidationReport(results=()), fmt="xml", lang="en")  # type: ignore[arg-type]


# --- module hygiene -------------------------------------------------------------------------


@pytest.mark.parametrize("module", [validate_module, report_module], ids=lambda m: m.__name__)
def test_no_cli_or_web_imports(module: object) -> None:
    source = Path(str(getattr(module, "__file__", ""))).read_text(encoding="utf-8")
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert imported.isdisjoint({"click", "fastapi", "starlette", "uvicorn"})


@pytest.mark.parametrize("module", [validate_module, report_module], ids=lambda m: m.__name__)
def test_all_names_exist(module: object) -> None:
    names = module.__all__
    assert names == sorted(names, key=str.casefold) or names
    assert all(hasattr(module, name) for name in names)

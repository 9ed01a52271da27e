"""`citygraph validate --format github|junit|sarif`: what a CI shows, on a failing file.

The expected lines are written from tests/data/validation/failing.ttl (line 45 holds the bad
date, line 34 starts city:de-b) and the shapes' messages; each format is also checked against
its published schema (tests/data/schemas, see the README there).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
import xmlschema
from click.testing import CliRunner, Result
from rdflib import Graph, Literal, Namespace, URIRef

from citygraph.cli import cli

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "tests" / "data" / "schemas"
FAILING = "tests/data/validation/failing.ttl"
START = (
    "At most one cg:startDate, an xsd:date, xsd:gYearMonth or xsd:gYear "
    "(the datatype is the precision)."
)
WIKIDATA = "No Wikidata link: add owl:sameAs with the confirmed Wikidata entity."
COORDINATES = (
    "No coordinates: add schema:latitude and schema:longitude (and a geo:hasGeometry point)."
)


def _validate(*args: str) -> Result:
    return CliRunner().invoke(cli, ["validate", FAILING, *args])


@pytest.fixture(autouse=True)
def _in_checkout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def test_github_annotations() -> None:
    result = _validate("--format", "github")
    assert result.exit_code == 1, result.stdout
    assert result.stdout.splitlines() == [
        f"::error file={FAILING},line=45,col=18,title=Violation%3A Common-startDate::"
        f'http://example.org/ab (cg:startDate) = "May 1990": {START}',
        f"::warning file={FAILING},line=34,col=1,title=Warning%3A Place-wikidata::"
        f"city:de-b (owl:sameAs): {WIKIDATA}",
        f"::notice file={FAILING},line=34,col=1,title=Info%3A Place-coordinates::"
        f"city:de-b (schema:latitude): {COORDINATES}",
    ]


def test_github_annotations_in_german() -> None:
    result = _validate("--format", "github", "--lang", "de")
    assert result.stdout.splitlines()[1] == (
        f"::warning file={FAILING},line=34,col=1,title=Warnung%3A Place-wikidata::"
        "city:de-b (owl:sameAs): Kein Wikidata-Link: owl:sameAs mit der bestätigten "
        "Wikidata-Entität ergänzen."
    )


def test_junit_report_is_valid_and_fails_the_violating_case() -> None:
    result = _validate("--format", "junit")
    assert result.exit_code == 1, result.stdout
    xmlschema.XMLSchema(SCHEMAS / "JUnit.xsd").validate(result.stdout)
    suite = ET.fromstring(result.stdout)
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("3", "1", "0")
    cases = [
        (case.get("classname"), case.get("name"), case.find("failure") is not None)
        for case in suite.iter("testcase")
    ]
    assert cases == [
        ("Common-startDate", "http://example.org/ab", True),
        ("Place-wikidata", "city:de-b", False),
        ("Place-coordinates", "city:de-b", False),
    ]
    failure = suite.find("testcase/failure")
    assert failure is not None
    assert failure.get("type") == "violation"
    assert failure.text == (
        f'{FAILING}:45:18: Violation: http://example.org/ab (cg:startDate) = "May 1990": {START}'
    )
    assert (suite.findtext("system-out") or "").splitlines() == [
        f"{FAILING}:34:1: Warning: city:de-b (owl:sameAs): {WIKIDATA}",
        f"{FAILING}:34:1: Info: city:de-b (schema:latitude): {COORDINATES}",
    ]


def test_junit_fails_the_warning_case_with_fail_on_warning() -> None:
    result = _validate("--format", "junit", "--fail-on", "warning")
    suite = ET.fromstring(result.stdout)
    failed = [c.get("classname") for c in suite.iter("testcase") if c.find("failure") is not None]
    assert failed == ["Common-startDate", "Place-wikidata"]


def test_sarif_log_is_valid_and_points_at_each_line() -> None:
    result = _validate("--format", "sarif")
    assert result.exit_code == 1, result.stdout
    log = json.loads(result.stdout)
    schema = json.loads((SCHEMAS / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    jsonschema.Draft4Validator(schema).validate(log)
    [run] = log["runs"]
    assert [rule["id"] for rule in run["tool"]["driver"]["rules"]] == [
        "Common-startDate",
        "Place-wikidata",
        "Place-coordinates",
    ]
    found = [
        (
            r["ruleId"],
            r["level"],
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            r["locations"][0]["physicalLocation"]["region"],
        )
        for r in run["results"]
    ]
    assert found == [
        ("Common-startDate", "error", FAILING, {"startLine": 45, "startColumn": 18}),
        ("Place-wikidata", "warning", FAILING, {"startLine": 34, "startColumn": 1}),
        ("Place-coordinates", "note", FAILING, {"startLine": 34, "startColumn": 1}),
    ]


def test_the_schemas_reject_a_broken_report() -> None:
    """The schema checks above can fail: a SARIF level and a JUnit count of the wrong kind."""
    log = json.loads(_validate("--format", "sarif").stdout)
    log["runs"][0]["results"][0]["level"] = "violation"
    schema = json.loads((SCHEMAS / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(schema).validate(log)
    xml = _validate("--format", "junit").stdout.replace('tests="3"', 'tests="three"')
    with pytest.raises(xmlschema.XMLSchemaValidationError):
        xmlschema.XMLSchema(SCHEMAS / "JUnit.xsd").validate(xml)


def test_text_report_names_file_and_line() -> None:
    lines = _validate().stdout.splitlines()
    assert lines[:2] == [
        "http://example.org/ab",
        f'  Violation  Common-startDate  cg:startDate  "May 1990"  {START}  ({FAILING}:45:18)',
    ]
    assert lines[3:5] == [
        "city:de-b",
        f"  Warning  Place-wikidata  owl:sameAs  -  {WIKIDATA}  ({FAILING}:34:1)",
    ]


def test_json_report_names_file_line_and_column() -> None:
    items = json.loads(_validate("--format", "json").stdout)
    assert [(i["file"], i["line"], i["column"]) for i in items] == [
        (FAILING, 45, 18),
        (FAILING, 34, 1),
        (FAILING, 34, 1),
    ]


def test_turtle_report_carries_a_line_char_pointer() -> None:
    graph = Graph().parse(data=_validate("--format", "turtle").stdout, format="turtle")
    sh = Namespace("http://www.w3.org/ns/shacl#")
    ptr = Namespace("http://www.w3.org/2009/pointers#")
    dcterms = Namespace("http://purl.org/dc/terms/")
    [result] = graph.subjects(sh.focusNode, URIRef("http://example.org/ab"))
    pointer = graph.value(result, dcterms.source)
    assert graph.value(pointer, ptr.reference) == URIRef((ROOT / FAILING).as_uri())
    assert graph.value(pointer, ptr.lineNumber) == Literal(45)
    assert graph.value(pointer, ptr.charNumber) == Literal(18)


def test_github_escapes_what_would_end_a_property_or_a_line(tmp_path: Path) -> None:
    from citygraph.ci_formats import render_github
    from citygraph.sourcemap import Position
    from citygraph.validate import Severity, ValidationReport, ValidationResult

    result = ValidationResult(
        focus_node="http://example.org/x",
        shape="https://w3id.org/citygraph/shapes#Common-comment",
        component="http://www.w3.org/ns/shacl#DatatypeConstraintComponent",
        severity=Severity.VIOLATION,
        path=None,
        value=None,
        messages={"en": "100% wrong\nsecond line"},
        location=Position(Path("odd,name:1.ttl"), 3, 5),
    )
    assert render_github(ValidationReport(results=(result,)), lang="en") == (
        "::error file=odd%2Cname%3A1.ttl,line=3,col=5,title=Violation%3A Common-comment::"
        "http://example.org/x: 100%25 wrong%0Asecond line\n"
    )

"""A validation report in the formats CI systems read: GitHub annotations, JUnit XML, SARIF.

- ``github``: workflow commands (``::error file=…,line=…,col=…,title=…::message``), one per
  result, so that results show on the changed lines of a pull request
  (https://docs.github.com/actions/reference/workflow-commands-for-github-actions).
- ``junit``: one ``<testsuite>`` in Apache Ant's JUnit XML (the schema every CI renders), one
  ``<testcase>`` per shape and focus node, failed when its worst result is at least ``fail_on``.
- ``sarif``: SARIF 2.1.0 (https://docs.oasis-open.org/sarif/sarif/v2.1.0/), one rule per shape.

The tests validate each against its published schema (``tests/data/schemas``).
"""

from __future__ import annotations

import json
import platform
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Final
from xml.etree import ElementTree as ET

from citygraph import __version__
from citygraph.report import compact, display_path, message, severity_label
from citygraph.shacl.model import Severity, ValidationReport, ValidationResult

__all__ = ["render_github", "render_junit", "render_sarif"]

_GITHUB_COMMANDS: Final[Mapping[Severity, str]] = {
    Severity.VIOLATION: "error",
    Severity.WARNING: "warning",
    Severity.INFO: "notice",
}
_SARIF_LEVELS: Final[Mapping[Severity, str]] = {
    Severity.VIOLATION: "error",
    Severity.WARNING: "warning",
    Severity.INFO: "note",
}
_SARIF_SCHEMA: Final = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)


def _shape_name(result: ValidationResult) -> str:
    return compact(result.shape).removeprefix("cgsh:")


def _headline(result: ValidationResult, lang: str) -> str:
    """``focus node (path): message``, the one line each format shows for a result."""
    path = f" ({compact(result.path)})" if result.path else ""
    value = f" = {compact(result.value)}" if result.value else ""
    return f"{compact(result.focus_node)}{path}{value}: {message(result, lang)}"


# --- GitHub workflow commands -------------------------------------------------------------


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(report: ValidationReport, *, lang: str) -> str:
    """One workflow command per result; results without a location name no file.

    >>> render_github(ValidationReport(results=()), lang="en")
    ''
    """
    lines = []
    for result in report.results:
        properties = []
        if result.location is not None:
            properties += [
                f"file={_escape_property(display_path(result.location.path))}",
                f"line={result.location.line}",
                f"col={result.location.column}",
            ]
        title = f"{severity_label(result.severity, lang)}: {_shape_name(result)}"
        properties.append(f"title={_escape_property(title)}")
        command = _GITHUB_COMMANDS[result.severity]
        lines.append(f"::{command} {','.join(properties)}::{_escape_data(_headline(result, lang))}")
    return "".join(line + "\n" for line in lines)


# --- JUnit XML ------------------------------------------------------------------------------


def render_junit(
    report: ValidationReport,
    *,
    lang: str,
    fail_on: Severity = Severity.VIOLATION,
    now: datetime | None = None,
) -> str:
    """A JUnit ``<testsuite>``: one test case per shape and focus node.

    A case fails when one of its results is at least ``fail_on``; the others pass and their
    results are listed in the suite's ``<system-out>``. ``now`` is the report's timestamp.
    """
    cases: dict[tuple[str, str], list[ValidationResult]] = {}
    for result in report.results:
        cases.setdefault((_shape_name(result), result.focus_node), []).append(result)
    failures = sum(1 for results in cases.values() if max(r.severity for r in results) >= fail_on)
    when = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%S")
    suite = ET.Element(
        "testsuite",
        {
            "name": "citygraph validate",
            "timestamp": when,
            "hostname": platform.node() or "localhost",
            "tests": str(len(cases)),
            "failures": str(failures),
            "errors": "0",
            "time": "0",
        },
    )
    ET.SubElement(suite, "properties")
    passed: list[str] = []
    for (shape, focus), results in cases.items():
        case = ET.SubElement(
            suite, "testcase", {"name": compact(focus), "classname": shape, "time": "0"}
        )
        lines = [_result_line(result, lang) for result in results]
        worst = max(results, key=lambda r: r.severity)
        if worst.severity >= fail_on:
            failure = ET.SubElement(
                case,
                "failure",
                {"message": message(worst, lang), "type": worst.severity.name.lower()},
            )
            failure.text = "\n".join(lines)
        else:
            passed += lines
    ET.SubElement(suite, "system-out").text = "\n".join(passed)
    ET.SubElement(suite, "system-err")
    ET.indent(suite)
    return ET.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"


def _result_line(result: ValidationResult, lang: str) -> str:
    where = ""
    if result.location is not None:
        where = f"{display_path(result.location.path)}:{result.location.line}:"
        where += f"{result.location.column}: "
    return f"{where}{severity_label(result.severity, lang)}: {_headline(result, lang)}"


# --- SARIF 2.1.0 ----------------------------------------------------------------------------


def render_sarif(report: ValidationReport, *, lang: str) -> str:
    """One SARIF run: the shapes as rules, each result with its file, line and column."""
    rules: dict[str, int] = {}
    rule_objects: list[dict[str, object]] = []
    results: list[dict[str, object]] = []
    for result in report.results:
        name = _shape_name(result)
        if name not in rules:
            rules[name] = len(rules)
            rule_objects.append(
                {
                    "id": name,
                    "helpUri": result.shape,
                    "shortDescription": {"text": message(result, lang)},
                    "properties": {"component": result.component},
                }
            )
        location: dict[str, object] = {
            "logicalLocations": [{"fullyQualifiedName": result.focus_node, "kind": "object"}]
        }
        if result.location is not None:
            location["physicalLocation"] = {
                "artifactLocation": {"uri": display_path(result.location.path)},
                "region": {
                    "startLine": result.location.line,
                    "startColumn": result.location.column,
                },
            }
        results.append(
            {
                "ruleId": name,
                "ruleIndex": rules[name],
                "level": _SARIF_LEVELS[result.severity],
                "message": {"text": _headline(result, lang)},
                "locations": [location],
                "properties": {
                    "focusNode": result.focus_node,
                    "path": result.path,
                    "value": result.value,
                    "severity": result.severity.iri,
                },
            }
        )
    log = {
        "$schema": _SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "citygraph",
                        "version": __version__,
                        "informationUri": "https://w3id.org/citygraph",
                        "rules": rule_objects,
                    }
                },
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }
    return json.dumps(log, ensure_ascii=False, indent=2) + "\n"

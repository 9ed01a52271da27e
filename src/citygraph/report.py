"""Rendering a :class:`~citygraph.validate.ValidationReport` as text, Turtle or JSON.

Text is for people (grouped by focus node, prefixed names, the message in their language);
Turtle is a W3C ``sh:ValidationReport``; JSON is a list of objects with stable keys. Each result
says where it is written (``file:line:column``) when that is known; in Turtle as a W3C
``ptr:LineCharPointer`` (https://www.w3.org/TR/Pointers-in-RDF10/) linked by ``dcterms:source``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Final
from typing import Literal as TypingLiteral

from rdflib import DCTERMS, RDF, XSD, BNode, Graph, Literal, URIRef
from rdflib.term import Node
from rdflib.util import from_n3

from citygraph.namespaces import PREFIXES, SH
from citygraph.shacl.model import Severity, ValidationReport, ValidationResult
from citygraph.shacl.terms import path_to_shacl
from citygraph.sourcemap import Position

__all__ = ["FORMATS", "Format", "compact", "display_path", "render", "severity_label"]

Format = TypingLiteral["text", "turtle", "json", "github", "junit", "sarif"]
#: Every report format, in the order ``--format`` lists them.
FORMATS: Final = ("text", "turtle", "json", "github", "junit", "sarif")

#: Languages the shapes' messages are written in; ``zh`` is short for ``zh-Hans``.
_LANGUAGE_ALIASES: Final[Mapping[str, str]] = {"zh": "zh-Hans"}

_SEVERITY_LABELS: Final[Mapping[str, Mapping[Severity, str]]] = {
    "en": {Severity.VIOLATION: "Violation", Severity.WARNING: "Warning", Severity.INFO: "Info"},
    "de": {Severity.VIOLATION: "Verstoß", Severity.WARNING: "Warnung", Severity.INFO: "Hinweis"},
    "zh-Hans": {Severity.VIOLATION: "违规", Severity.WARNING: "警告", Severity.INFO: "提示"},
}

_SUMMARY: Final[Mapping[str, str]] = {
    "en": "{total} results: {v} violations, {w} warnings, {i} infos",
    "de": "{total} Ergebnisse: {v} Verstöße, {w} Warnungen, {i} Hinweise",
    "zh-Hans": "共 {total} 条结果：{v} 条违规，{w} 条警告，{i} 条提示",  # noqa: RUF001
}

_IRI_IN_TEXT: Final = re.compile(r"<([^<>\s]*)>")
_PTR: Final = "http://www.w3.org/2009/pointers#"


def display_path(path: Path) -> str:
    """``path`` as a user and a CI know it: relative to the working directory when under it.

    >>> display_path(Path.cwd() / "data" / "berlin.ttl")
    'data/berlin.ttl'
    """
    if path.is_absolute():
        try:
            return path.relative_to(Path.cwd()).as_posix()
        except ValueError:
            return path.as_posix()
    return path.as_posix()


def _location(position: Position | None) -> str | None:
    if position is None:
        return None
    return f"{display_path(position.path)}:{position.line}:{position.column}"


def render(
    report: ValidationReport,
    *,
    fmt: Format,
    lang: str,
    fail_on: Severity = Severity.VIOLATION,
) -> str:
    """Render ``report`` in ``fmt``; messages in ``lang`` (``en``, ``de``, ``zh``/``zh-Hans``).

    A message missing in ``lang`` falls back to English. Turtle carries every language.
    ``github``, ``junit`` and ``sarif`` are the CI formats of :mod:`citygraph.ci_formats`;
    ``fail_on`` decides which JUnit test cases fail.

    Raises:
        ValueError: ``fmt`` is not one of :data:`FORMATS`.

    >>> from citygraph.shacl import ValidationReport
    >>> render(ValidationReport(results=()), fmt="text", lang="en")
    '0 results: 0 violations, 0 warnings, 0 infos\\n'
    """
    language = _LANGUAGE_ALIASES.get(lang, lang)
    if fmt == "text":
        return _render_text(report, language)
    if fmt == "json":
        return _render_json(report, language)
    if fmt == "turtle":
        return _render_turtle(report)
    if fmt in ("github", "junit", "sarif"):
        from citygraph import ci_formats  # it renders with this module's helpers

        if fmt == "github":
            return ci_formats.render_github(report, lang=language)
        if fmt == "junit":
            return ci_formats.render_junit(report, lang=language, fail_on=fail_on)
        return ci_formats.render_sarif(report, lang=language)
    raise ValueError(f"unknown report format: {fmt!r}")


def compact(text: str) -> str:
    """Shorten the IRIs in a term's text with citygraph's prefixes.

    >>> compact("https://w3id.org/citygraph/id/city/de-berlin")
    'city:de-berlin'
    >>> compact('"1994"^^<http://www.w3.org/2001/XMLSchema#gYear>')
    '"1994"^^xsd:gYear'
    """
    if text.startswith(('"', "^", "(", "<")) or "<" in text:
        return _IRI_IN_TEXT.sub(lambda match: _compact_iri(match.group(1), bracket=True), text)
    return _compact_iri(text, bracket=False)


def _compact_iri(iri: str, *, bracket: bool) -> str:
    best = ""
    for namespace in PREFIXES.values():
        if iri.startswith(namespace) and len(namespace) > len(best):
            best = namespace
    local = iri[len(best) :]
    if best and re.fullmatch(r"[\w][\w.-]*", local) and not local.endswith("."):
        prefix = next(name for name, ns in PREFIXES.items() if ns == best)
        return f"{prefix}:{local}"
    return f"<{iri}>" if bracket else iri


def message(result: ValidationResult, lang: str) -> str:
    """The result's message in ``lang``, else the same language's region variant, else en."""
    language = _LANGUAGE_ALIASES.get(lang, lang)
    messages = result.messages
    if language in messages:
        return messages[language]
    for tag, text in messages.items():
        if tag.split("-")[0] == language.split("-")[0]:
            return text
    return messages.get("en") or next(iter(messages.values()), "")


def severity_label(severity: Severity, lang: str) -> str:
    """The severity's name in ``lang`` (English if the language is unknown).

    >>> severity_label(Severity.WARNING, "de")
    'Warnung'
    """
    language = _LANGUAGE_ALIASES.get(lang, lang)
    return _SEVERITY_LABELS.get(language, _SEVERITY_LABELS["en"])[severity]


# --- text ---------------------------------------------------------------------------------


def _render_text(report: ValidationReport, lang: str) -> str:
    labels = _SEVERITY_LABELS.get(lang, _SEVERITY_LABELS["en"])
    lines: list[str] = []
    focus: str | None = None
    for result in report.results:
        if result.focus_node != focus:
            focus = result.focus_node
            if lines:
                lines.append("")
            lines.append(compact(focus))
        shape = _local_name(result.shape)
        fields = [
            labels[result.severity],
            shape,
            compact(result.path) if result.path else "-",
            compact(result.value) if result.value else "-",
            message(result, lang),
        ]
        if result.location is not None:
            fields.append(f"({_location(result.location)})")
        lines.append("  " + "  ".join(fields))
    counts = report.counts()
    summary = _SUMMARY.get(lang, _SUMMARY["en"]).format(
        total=len(report.results),
        v=counts[Severity.VIOLATION],
        w=counts[Severity.WARNING],
        i=counts[Severity.INFO],
    )
    if lines:
        lines.append("")
    lines.append(summary)
    return "\n".join(lines) + "\n"


def _local_name(iri: str) -> str:
    short = compact(iri)
    return short.removeprefix("cgsh:")


# --- json ---------------------------------------------------------------------------------


def _render_json(report: ValidationReport, lang: str) -> str:
    items = [
        {
            "focus_node": result.focus_node,
            "severity": result.severity.name.lower(),
            "shape": result.shape,
            "component": result.component,
            "source_constraint": result.source_constraint,
            "path": result.path,
            "value": result.value,
            "message": message(result, lang),
            "messages": dict(sorted(result.messages.items())),
            "file": None if result.location is None else display_path(result.location.path),
            "line": None if result.location is None else result.location.line,
            "column": None if result.location is None else result.location.column,
        }
        for result in report.results
    ]
    return json.dumps(items, ensure_ascii=False, indent=2) + "\n"


# --- turtle -------------------------------------------------------------------------------


def _render_turtle(report: ValidationReport) -> str:
    sh = SH
    graph = Graph()
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, namespace, override=True, replace=True)
    report_node = BNode()
    graph.add((report_node, RDF.type, URIRef(sh + "ValidationReport")))
    # SHACL §3.6.1: sh:conforms is true exactly when there is no validation result.
    graph.add((report_node, URIRef(sh + "conforms"), Literal(not report.results)))
    for result in report.results:
        node = BNode()
        graph.add((report_node, URIRef(sh + "result"), node))
        graph.add((node, RDF.type, URIRef(sh + "ValidationResult")))
        terms = result.terms
        focus = terms.focus_node if terms else _term(result.focus_node)
        graph.add((node, URIRef(sh + "focusNode"), focus))
        graph.add((node, URIRef(sh + "resultSeverity"), URIRef(result.severity.iri)))
        graph.add((node, URIRef(sh + "sourceShape"), _term(result.shape)))
        graph.add((node, URIRef(sh + "sourceConstraintComponent"), URIRef(result.component)))
        if result.source_constraint is not None:
            graph.add((node, URIRef(sh + "sourceConstraint"), _term(result.source_constraint)))
        if terms is not None and terms.path is not None:
            graph.add((node, URIRef(sh + "resultPath"), path_to_shacl(graph, terms.path)))
        elif result.path is not None and not result.path.startswith(("^", "(", "<")):
            graph.add((node, URIRef(sh + "resultPath"), URIRef(result.path)))
        value = terms.value if terms else (None if result.value is None else _term(result.value))
        if value is not None:
            graph.add((node, URIRef(sh + "value"), value))
        for language, text in sorted(result.messages.items()):
            graph.add((node, URIRef(sh + "resultMessage"), Literal(text, lang=language)))
        if result.location is not None:
            _add_pointer(graph, node, result.location)
    return graph.serialize(format="turtle")


def _add_pointer(graph: Graph, node: Node, where: Position) -> None:
    pointer = BNode()
    graph.add((node, DCTERMS.source, pointer))
    graph.add((pointer, RDF.type, URIRef(_PTR + "LineCharPointer")))
    graph.add((pointer, URIRef(_PTR + "reference"), URIRef(where.path.resolve().as_uri())))
    graph.add((pointer, URIRef(_PTR + "lineNumber"), Literal(where.line)))
    graph.add((pointer, URIRef(_PTR + "charNumber"), Literal(where.column)))


def _term(text: str) -> Node:
    if text.startswith("_:"):
        return BNode(text[2:])
    if text.startswith('"'):
        term = from_n3(text)
        return term if isinstance(term, Literal) else Literal(text, datatype=XSD.string)
    return URIRef(text)

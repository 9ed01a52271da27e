"""SHACL validation of citygraph's inputs against ``shapes/``; the only module that runs pySHACL.

The report model (:mod:`citygraph.shacl.model`), the term texts (:mod:`citygraph.shacl.terms`)
and file loading (:mod:`citygraph.shacl.graphs`) are shared with :mod:`citygraph.fastshacl`; they
are re-exported here for the callers of this module.

The library API the ``citygraph validate`` command calls::

    report = validate_paths(default_inputs(root), shapes_dir=root / "shapes")
    report.conforms(fail_on=Severity.WARNING)

pySHACL's own ``conforms`` is false as soon as any result exists, even an Info one; here the
caller decides what fails with :meth:`ValidationReport.conforms` (docs: /work/shared/MODEL.md,
"gate on what you mean").
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence, Set
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Final

import pyshacl
from pyshacl.errors import ReportableRuntimeError
from rdflib import RDF, Graph, Literal, URIRef
from rdflib.paths import Path as RDFPath
from rdflib.term import Node

from citygraph.namespaces import SH
from citygraph.project import Project
from citygraph.shacl.graphs import expand, load_graph
from citygraph.shacl.model import (
    ResultTerms,
    Severity,
    ShapesError,
    ValidationReport,
    ValidationResult,
    locate,
)
from citygraph.shacl.terms import path_from_shacl, path_text, path_to_shacl, term_text
from citygraph.sourcemap import SourceMap

__all__ = [
    "Severity",
    "ShapesError",
    "ValidationReport",
    "ValidationResult",
    "check_shapes",
    "default_inputs",
    "load_graph",
    "locate",
    "path_text",
    "path_to_shacl",
    "repository_root",
    "term_text",
    "validate_graph",
    "validate_paths",
    "with_referrers",
]

_SH: Final = SH


def repository_root() -> Path:
    """The root of the inputs a command uses: ``Project.find().root`` (see citygraph.project)."""
    return Project.find().root


def default_inputs(root: Path) -> list[Path]:
    """The repository's own inputs that exist under ``root``, in a stable order.

    ``ontology/citygraph.ttl``, then ``ontology/vocab/*.ttl``, then ``data/*.ttl``.
    """
    ontology = root / "ontology" / "citygraph.ttl"
    inputs = [ontology] if ontology.is_file() else []
    inputs += sorted((root / "ontology" / "vocab").glob("*.ttl"))
    inputs += sorted((root / "data").glob("*.ttl"))
    return inputs


def validate_graph(
    data: Graph, *, shapes_dir: Path, focus: Set[str] | None = None
) -> ValidationReport:
    """Validate ``data`` against the shapes in ``shapes_dir`` (``*.ttl``).

    Runs pySHACL without inference (the shapes target every concrete class themselves), with
    SHACL-SPARQL enabled. With ``focus`` (IRIs), only the results of those focus nodes are
    kept. pySHACL still validates everything: its own ``focus_nodes`` option drops results of
    property shapes shared by several node shapes (``cgsh:Common-startDate`` on a partnership;
    tests/validation/test_changed_only.py), and a report must be a full run's.

    Raises:
        InputSyntaxError: a shapes file does not parse.
        ShapesError: pySHACL rejects the shapes graph.
    """
    return _run(data, load_graph([shapes_dir]), focus=focus)


def with_referrers(graph: Graph, nodes: Set[str]) -> set[str]:
    """``nodes`` and the IRIs that refer to one of them in ``graph`` (what depends on them)."""
    wanted = {URIRef(n) for n in nodes}
    referrers = {
        str(s) for s, _, o in graph if o in wanted and isinstance(s, URIRef) and s not in wanted
    }
    return set(nodes) | referrers


def check_shapes(shapes_dir: Path) -> ValidationReport:
    """Validate the shapes in ``shapes_dir`` against SHACL-SHACL (the shapes of SHACL itself).

    https://www.w3.org/TR/shacl/#shacl-shacl; pySHACL ships the graph as an asset.

    Raises:
        InputSyntaxError: a shapes file does not parse.
    """
    asset = resources.files("pyshacl") / "assets" / "shacl-shacl.ttl"
    shacl_shacl = Graph().parse(data=asset.read_text(encoding="utf-8"), format="turtle")
    return _run(load_graph([shapes_dir]), shacl_shacl)


def _run(data: Graph, shapes: Graph, *, focus: Set[str] | None = None) -> ValidationReport:
    if focus is not None and not focus:
        return ValidationReport(results=())
    try:
        _conforms, report_graph, _text = pyshacl.validate(
            data,
            shacl_graph=shapes,
            inference="none",
            advanced=True,
            allow_infos=True,
            allow_warnings=True,
        )
    except ReportableRuntimeError as error:
        raise ShapesError(str(error)) from error
    results = [_read_result(report_graph, shapes, node) for node in _result_nodes(report_graph)]
    if focus is not None:
        results = [result for result in results if result.focus_node in focus]
    return ValidationReport.of(results)


def validate_paths(
    paths: Sequence[Path],
    *,
    shapes_dir: Path,
    vocab: Sequence[Path] = (),
    focus: Set[str] | None = None,
) -> ValidationReport:
    """Load ``vocab`` and ``paths`` into one data graph and validate it.

    ``vocab`` (the ontology and concept-scheme files) is added to the data so that
    ``sh:class skos:Concept`` and ``skos:inScheme`` checks can see the concepts. With
    ``focus`` (IRIs), only those nodes and the nodes that refer to them are validated
    (:func:`with_referrers`), with the results a full run gives for them.

    Raises:
        InputSyntaxError: an input does not parse or cannot be read.
        ShapesError: pySHACL rejects the shapes graph.
    """
    files = list(expand([*vocab, *paths]))
    graph = load_graph(files)
    nodes = None if focus is None else with_referrers(graph, focus)
    report = validate_graph(graph, shapes_dir=shapes_dir, focus=nodes)
    return locate(report, SourceMap.read(files).locator(graph))


# --- Reading pySHACL's report ---------------------------------------------------------------

_SH_RESULT: Final = URIRef(_SH + "result")
_SH_FOCUS: Final = URIRef(_SH + "focusNode")
_SH_SOURCE_SHAPE: Final = URIRef(_SH + "sourceShape")
_SH_COMPONENT: Final = URIRef(_SH + "sourceConstraintComponent")
_SH_CONSTRAINT: Final = URIRef(_SH + "sourceConstraint")
_SH_SEVERITY: Final = URIRef(_SH + "resultSeverity")
_SH_PATH: Final = URIRef(_SH + "resultPath")
_SH_VALUE: Final = URIRef(_SH + "value")
_SH_RESULT_MESSAGE: Final = URIRef(_SH + "resultMessage")
_SH_MESSAGE: Final = URIRef(_SH + "message")
_SH_VALIDATION_REPORT: Final = URIRef(_SH + "ValidationReport")


def _result_nodes(report: Graph) -> Iterator[Node]:
    for report_node in report.subjects(RDF.type, _SH_VALIDATION_REPORT):
        yield from report.objects(report_node, _SH_RESULT)


def _read_result(report: Graph, shapes: Graph, node: Node) -> ValidationResult:
    focus = _one(report, node, _SH_FOCUS)
    shape = _one(report, node, _SH_SOURCE_SHAPE)
    constraint = report.value(node, _SH_CONSTRAINT)
    path_node = report.value(node, _SH_PATH)
    path = None if path_node is None else path_from_shacl(report, path_node)
    value = report.value(node, _SH_VALUE)
    messages = _messages(report, shapes, node, shape, constraint, focus, path, value)
    return ValidationResult(
        focus_node=term_text(focus),
        shape=term_text(shape),
        component=term_text(_one(report, node, _SH_COMPONENT)),
        severity=Severity.from_iri(str(_one(report, node, _SH_SEVERITY))),
        path=None if path is None else path_text(path),
        value=None if value is None else term_text(value),
        messages=MappingProxyType(messages),
        source_constraint=None if constraint is None else term_text(constraint),
        terms=ResultTerms(focus_node=focus, path=path, value=value),
    )


def _one(graph: Graph, subject: Node, predicate: URIRef) -> Node:
    found = graph.value(subject, predicate)
    if found is None:
        raise ShapesError(f"pySHACL reported a result without {predicate}")
    return found


def _messages(
    report: Graph,
    shapes: Graph,
    node: Node,
    shape: Node,
    constraint: Node | None,
    focus: Node,
    path: URIRef | RDFPath | None,
    value: Node | None,
) -> dict[str, str]:
    """The result's messages by language.

    pySHACL drops the language tag of a SHACL-SPARQL message when it fills in ``{$this}``
    (pyshacl/constraints/constraint_component.py), so the messages are read from the shapes
    graph (the SPARQL constraint's, else the shape's) and their placeholders filled here.
    """
    declared = [
        m for s in (constraint, shape) if s is not None for m in shapes.objects(s, _SH_MESSAGE)
    ]
    tagged = [m for m in declared if isinstance(m, Literal)]
    fills = {
        "this": term_text(focus),
        "value": "" if value is None else term_text(value),
        "path": "" if path is None else path_text(path),
    }
    messages: dict[str, str] = {}
    for message in tagged or [
        m for m in report.objects(node, _SH_RESULT_MESSAGE) if isinstance(m, Literal)
    ]:
        text = re.sub(r"\{[?$](this|value|path)\}", lambda m: fills[m.group(1)], str(message))
        messages.setdefault(message.language or "en", text)
    return messages

"""SHACL validation of citygraph's inputs against ``shapes/``; the only module that runs pySHACL.

The library API the ``citygraph validate`` command calls::

    report = validate_paths(default_inputs(root), shapes_dir=root / "shapes")
    report.conforms(fail_on=Severity.WARNING)

pySHACL's own ``conforms`` is false as soon as any result exists, even an Info one; here the
caller decides what fails with :meth:`ValidationReport.conforms` (docs: /work/shared/MODEL.md,
"gate on what you mean").
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator, Mapping, Sequence, Set
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Final
from typing import Literal as TypingLiteral

import pyshacl
from pyshacl.errors import ReportableRuntimeError
from rdflib import RDF, BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.exceptions import ParserError
from rdflib.paths import AlternativePath, InvPath, MulPath, SequencePath
from rdflib.paths import Path as RDFPath
from rdflib.plugins.parsers.notation3 import BadSyntax
from rdflib.term import Node

from citygraph.errors import CitygraphError, InputSyntaxError
from citygraph.namespaces import SH
from citygraph.project import Project
from citygraph.sourcemap import Locator, Position, SourceMap

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
#: File suffixes read from directories, and the rdflib parser for each.
_FORMATS: Final[Mapping[str, str]] = MappingProxyType({".ttl": "turtle", ".nt": "nt"})
_LINE_IN_MESSAGE: Final = re.compile(r"\bat line (\d+)\b")


class ShapesError(CitygraphError):
    """pySHACL could not use the shapes graph (for example a broken SHACL-SPARQL query)."""


class Severity(enum.IntEnum):
    """A SHACL severity, ordered: ``INFO < WARNING < VIOLATION``.

    >>> Severity.from_iri("http://www.w3.org/ns/shacl#Warning")
    <Severity.WARNING: 2>
    >>> Severity.VIOLATION.iri
    'http://www.w3.org/ns/shacl#Violation'
    """

    INFO = 1
    WARNING = 2
    VIOLATION = 3

    @classmethod
    def from_iri(cls, iri: str) -> Severity:
        """The severity a SHACL IRI (``sh:Info``…) names; ``ValueError`` for any other IRI."""
        for member in cls:
            if member.iri == str(iri):
                return member
        raise ValueError(f"not a SHACL severity: {iri}")

    @property
    def iri(self) -> str:
        """The SHACL IRI of this severity (``http://www.w3.org/ns/shacl#Violation``…)."""
        return _SH + self.name.capitalize()


@dataclass(frozen=True)
class ValidationResult:
    """One SHACL validation result.

    Terms are strings: an IRI as is, a blank node as ``_:id``, a literal in N-Triples form
    (``"1994"^^<http://www.w3.org/2001/XMLSchema#gYear>``); ``path`` is an IRI or, for a complex
    SHACL path, SPARQL property-path syntax. ``messages`` maps a language tag (``en``, ``de``,
    ``zh-Hans``) to the message. ``source_constraint`` names the SHACL-SPARQL constraint that
    produced the result, if any. ``location`` is where the offending triple (the value, else the
    first use of the path) or else the focus node's subject is written, when it is known.
    """

    focus_node: str
    shape: str
    component: str
    severity: Severity
    path: str | None
    value: str | None
    messages: Mapping[str, str]
    source_constraint: str | None = None
    location: Position | None = field(default=None, compare=False)
    # The rdflib terms behind the strings, for writing the W3C report back as RDF.
    terms: _Terms | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class _Terms:
    focus_node: Node
    path: URIRef | RDFPath | None
    value: Node | None


@dataclass(frozen=True)
class ValidationReport:
    """All results of one validation run, sorted by focus node, then severity (worst first)."""

    results: tuple[ValidationResult, ...]

    def conforms(self, fail_on: Severity = Severity.VIOLATION) -> bool:
        """True when no result is at least as severe as ``fail_on``.

        >>> ValidationReport(results=()).conforms(Severity.INFO)
        True
        """
        return all(result.severity < fail_on for result in self.results)

    def counts(self) -> dict[Severity, int]:
        """The number of results per severity (every severity present, zero if none)."""
        counts = dict.fromkeys(Severity, 0)
        for result in self.results:
            counts[result.severity] += 1
        return counts


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


def load_graph(paths: Sequence[Path]) -> Graph:
    """Parse Turtle (``.ttl``) and N-Triples (``.nt``) files into one graph.

    A directory stands for its ``*.ttl`` and ``*.nt`` files (recursively, sorted).

    Raises:
        InputSyntaxError: a file does not parse (with its path, 1-based line and, for Turtle,
            column), cannot be read or decoded, does not exist, or is not ``.ttl``/``.nt``.
    """
    graph = Graph()
    for path in _expand(paths):
        fmt = _FORMATS.get(path.suffix.lower())
        if fmt is None:
            raise InputSyntaxError("not a Turtle (.ttl) or N-Triples (.nt) file", path=path)
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as error:
            raise InputSyntaxError(f"not UTF-8: {error.reason}", path=path) from error
        except OSError as error:
            raise InputSyntaxError(f"cannot read: {error.strerror}", path=path) from error
        try:
            graph.parse(data=text, format=fmt, publicID=path.resolve().as_uri())
        except BadSyntax as error:
            raise _turtle_error(error, path) from error
        except ParserError as error:
            raise _ntriples_error(error, text, path) from error
    return graph


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
    results.sort(key=_sort_key)
    return ValidationReport(results=tuple(results))


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
    files = list(_expand([*vocab, *paths]))
    graph = load_graph(files)
    nodes = None if focus is None else with_referrers(graph, focus)
    report = validate_graph(graph, shapes_dir=shapes_dir, focus=nodes)
    return locate(report, SourceMap.read(files).locator(graph))


def locate(report: ValidationReport, locator: Locator) -> ValidationReport:
    """``report`` with each result's :attr:`~ValidationResult.location` filled in."""
    return ValidationReport(
        results=tuple(replace(r, location=_where(r, locator)) for r in report.results)
    )


def _where(result: ValidationResult, locator: Locator) -> Position | None:
    terms = result.terms
    if terms is None:
        return None
    if isinstance(terms.path, URIRef):
        return locator.triple(terms.focus_node, terms.path, terms.value)
    return locator.node(terms.focus_node)


# --- Loading ------------------------------------------------------------------------------


def _expand(paths: Sequence[Path]) -> Iterator[Path]:
    seen: set[Path] = set()
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix.lower() in _FORMATS)
        elif path.exists():
            found = [path]
        else:
            raise InputSyntaxError("no such file or directory", path=path)
        for file in found:
            if file.resolve() not in seen:
                seen.add(file.resolve())
                yield file


def _turtle_error(error: BadSyntax, path: Path) -> InputSyntaxError:
    # rdflib's message starts "at line N of <…>:"; the column comes from the offset it keeps.
    match = _LINE_IN_MESSAGE.search(str(error))
    line = int(match.group(1)) if match else None
    column = None
    offset = getattr(error, "_i", None)
    source = getattr(error, "_str", None)
    if isinstance(offset, int) and isinstance(source, bytes):
        before = source.decode("utf-8", errors="replace")[:offset]
        column = offset - (before.rfind("\n") + 1) + 1
    why = getattr(error, "_why", None)
    message = str(why) if why else str(error).splitlines()[0]
    return InputSyntaxError(message, path=path, line=line, column=column)


def _ntriples_error(error: ParserError, text: str, path: Path) -> InputSyntaxError:
    # rdflib's N-Triples parser does not say where: find the first line that fails on its own.
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            Graph().parse(data=line + "\n", format="nt")
        except ParserError as line_error:
            return InputSyntaxError(str(line_error), path=path, line=number)
    return InputSyntaxError(str(error), path=path)


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
    path = None if path_node is None else _path_from_shacl(report, path_node)
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
        terms=_Terms(focus_node=focus, path=path, value=value),
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


def term_text(term: Node) -> str:
    """An IRI as is, a blank node as ``_:id``, a literal in N-Triples syntax."""
    if isinstance(term, URIRef):
        return str(term)
    if isinstance(term, BNode):
        return f"_:{term}"
    if isinstance(term, Literal):
        return term.n3()
    return str(term)


def path_text(path: URIRef | RDFPath) -> str:
    """A simple path as its IRI, a complex one in SPARQL property-path syntax."""
    return str(path) if isinstance(path, URIRef) else path.n3()


_MUL: Final[Mapping[URIRef, TypingLiteral["*", "+", "?"]]] = MappingProxyType(
    {
        URIRef(_SH + "zeroOrMorePath"): "*",
        URIRef(_SH + "oneOrMorePath"): "+",
        URIRef(_SH + "zeroOrOnePath"): "?",
    }
)


def _path_from_shacl(graph: Graph, node: Node) -> URIRef | RDFPath:
    """Turn a SHACL path (https://www.w3.org/TR/shacl/#property-paths) into an rdflib path."""
    if isinstance(node, URIRef):
        return node
    inverse = graph.value(node, URIRef(_SH + "inversePath"))
    if inverse is not None:
        return InvPath(_path_from_shacl(graph, inverse))
    alternatives = graph.value(node, URIRef(_SH + "alternativePath"))
    if alternatives is not None:
        members = [_path_from_shacl(graph, m) for m in Collection(graph, alternatives)]
        return AlternativePath(*members)
    for predicate, modifier in _MUL.items():
        inner = graph.value(node, predicate)
        if inner is not None:
            return MulPath(_path_from_shacl(graph, inner), modifier)
    if graph.value(node, RDF.first) is not None:
        return SequencePath(*[_path_from_shacl(graph, m) for m in Collection(graph, node)])
    raise ShapesError(f"unsupported SHACL path: {node}")


def path_to_shacl(graph: Graph, path: URIRef | RDFPath) -> Node:
    """Write an rdflib path into ``graph`` as a SHACL path; return its node."""
    if isinstance(path, URIRef):
        return path
    node = BNode()
    if isinstance(path, InvPath):
        graph.add((node, URIRef(_SH + "inversePath"), path_to_shacl(graph, path.arg)))
    elif isinstance(path, AlternativePath):
        members = Collection(graph, BNode(), [path_to_shacl(graph, a) for a in path.args])
        graph.add((node, URIRef(_SH + "alternativePath"), members.uri))
    elif isinstance(path, MulPath):
        predicate = next(p for p, m in _MUL.items() if m == path.mod)
        graph.add((node, predicate, path_to_shacl(graph, path.path)))
    elif isinstance(path, SequencePath):
        return Collection(graph, BNode(), [path_to_shacl(graph, a) for a in path.args]).uri
    else:
        raise ValueError(f"unsupported path: {path!r}")
    return node


def _sort_key(result: ValidationResult) -> tuple[str, int, str, str, str]:
    return (
        result.focus_node,
        -result.severity,
        result.shape,
        result.path or "",
        result.value or "",
    )

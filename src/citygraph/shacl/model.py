"""The SHACL report model both engines give: results, their severity, the report.

pySHACL (:mod:`citygraph.validate`, the reference) and citygraph's SHACL-to-SPARQL engine
(:mod:`citygraph.fastshacl`) both answer a :class:`ValidationReport`; the renderers
(:mod:`citygraph.report`, :mod:`citygraph.ci_formats`) read it. No validation engine is imported
here.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Final

from rdflib import URIRef
from rdflib.paths import Path as RDFPath
from rdflib.term import Node

from citygraph.errors import CitygraphError
from citygraph.namespaces import SH
from citygraph.sourcemap import Locator, Position

__all__ = [
    "ResultTerms",
    "Severity",
    "ShapesError",
    "ValidationReport",
    "ValidationResult",
    "locate",
]

_SH: Final = SH


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
    terms: ResultTerms | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class ResultTerms:
    """The rdflib terms behind a result's strings (to write the W3C report back as RDF and to
    locate the result in its source file)."""

    focus_node: Node
    path: URIRef | RDFPath | None
    value: Node | None


@dataclass(frozen=True)
class ValidationReport:
    """All results of one validation run, sorted by focus node, then severity (worst first)."""

    results: tuple[ValidationResult, ...]

    @classmethod
    def of(cls, results: Iterable[ValidationResult]) -> ValidationReport:
        """The report of ``results``, in the report's order (focus node, then severity, worst
        first, then shape, path and value), whichever engine found them in whichever order."""
        return cls(results=tuple(sorted(results, key=_order)))

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


def _order(result: ValidationResult) -> tuple[str, int, str, str, str]:
    return (
        result.focus_node,
        -result.severity,
        result.shape,
        result.path or "",
        result.value or "",
    )

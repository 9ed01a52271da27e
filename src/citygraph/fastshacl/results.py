"""Validation results: what a compiled query's row means, turned into ``ValidationResult``s.

The engine (:mod:`citygraph.fastshacl.engine`) yields a :class:`Raw` per failed constraint and
focus node; :class:`Converter` writes its terms, path and messages as :mod:`citygraph.validate`
does, converting each term and path only once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from rdflib import URIRef
from rdflib.paths import Path as RDFPath
from rdflib.term import Node

from citygraph.fastshacl.shapes import SH, Shape, SparqlConstraint, Term
from citygraph.fastshacl.terms import (
    canonical_language,
    path_for_rdflib,
    path_string,
    term_for_rdflib,
    text,
)
from citygraph.shacl.model import ResultTerms, Severity, ValidationResult

__all__ = ["Converter", "Raw"]

_PLACEHOLDER: Final = re.compile(r"\{[?$](this|value|path)\}")


@dataclass(frozen=True)
class Raw:
    """One result before it is turned into text."""

    focus: Term
    shape: Shape
    component: str
    severity: Severity
    value: Term | None
    with_path: bool
    constraint: SparqlConstraint | None = None
    path_override: Term | None = None
    generic: str = ""


class Converter:
    """Turns raw results into ValidationResults, converting each term and path only once."""

    def __init__(self) -> None:
        self._terms: dict[Term, tuple[Node, str]] = {}
        self._paths: dict[int, tuple[URIRef | RDFPath, str]] = {}
        self._fixed: dict[tuple[int, int], MappingProxyType[str, str]] = {}

    def term(self, term: Term) -> tuple[Node, str]:
        found = self._terms.get(term)
        if found is None:
            found = self._terms[term] = (term_for_rdflib(term), text(term))
        return found

    def path(self, raw: Raw) -> tuple[URIRef | RDFPath | None, str | None]:
        if raw.path_override is not None:
            node, path_text = self.term(raw.path_override)
            return (node if isinstance(node, URIRef) else None), path_text
        if not raw.with_path or raw.shape.path is None:
            return None, None
        found = self._paths.get(id(raw.shape))
        if found is None:
            found = (path_for_rdflib(raw.shape.path), path_string(raw.shape.path))
            self._paths[id(raw.shape)] = found
        return found

    def messages(
        self, raw: Raw, focus: str, value: str | None, path: str | None
    ) -> MappingProxyType[str, str]:
        key = (id(raw.shape), id(raw.constraint))
        fixed = self._fixed.get(key)
        if fixed is not None:
            return fixed
        declared = [*(raw.constraint.messages if raw.constraint else ()), *raw.shape.messages]
        messages = MappingProxyType(_messages(raw, focus, value, path))
        if declared and not any(_PLACEHOLDER.search(m.value) for m in declared):
            self._fixed[key] = messages
        return messages

    def result(self, raw: Raw) -> ValidationResult:
        focus, focus_text = self.term(raw.focus)
        value, value_text = (None, None) if raw.value is None else self.term(raw.value)
        rdf_path, path = self.path(raw)
        return ValidationResult(
            focus_node=focus_text,
            shape=self.term(raw.shape.node)[1],
            component=raw.component,
            severity=raw.severity,
            path=path,
            value=value_text,
            messages=self.messages(raw, focus_text, value_text, path),
            source_constraint=None if raw.constraint is None else self.term(raw.constraint.node)[1],
            terms=ResultTerms(focus_node=focus, path=rdf_path, value=value),
        )


def _messages(raw: Raw, focus: str, value: str | None, path: str | None) -> dict[str, str]:
    """The messages as :mod:`citygraph.validate` reads them: the SPARQL constraint's, else the
    shape's, by language, with ``{$this}``, ``{$value}`` and ``{$path}`` filled in."""
    declared = [*(raw.constraint.messages if raw.constraint else ()), *raw.shape.messages]
    fills = {"this": focus, "value": value or "", "path": path or ""}
    messages: dict[str, str] = {}
    for message in declared:
        filled = _PLACEHOLDER.sub(lambda m: fills[m.group(1)], message.value)
        language = message.language
        messages.setdefault(canonical_language(language) if language else "en", filled)
    if not messages:
        local = raw.component.removeprefix(SH).removesuffix("ConstraintComponent")
        messages["en"] = f"{local} constraint not met" + (f" on {path}" if path else "")
    return messages

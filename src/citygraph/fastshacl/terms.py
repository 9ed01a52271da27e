"""Oxigraph terms and paths as the strings (and rdflib terms) a ValidationResult carries.

The text must be what :func:`citygraph.validate.term_text` gives for the same term parsed by
rdflib, so that results of both engines compare equal. Two differences between the parsers
are bridged here:

* Oxigraph lower-cases language tags (``zh-hans``); rdflib keeps them as written. Tags are
  given back in their BCP 47 canonical case (``zh-Hans``, ``en-US``), which is how citygraph
  writes them.
* Oxigraph types a plain literal ``xsd:string``; rdflib leaves it untyped. Plain literals are
  given back untyped (a literal written ``"x"^^xsd:string`` therefore shows as ``"x"``).

Literal values go through rdflib's own ``Literal`` so that its normalisation of lexical forms
(``"01"^^xsd:integer`` → ``"1"``) is the same as the reference's.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

import pyoxigraph as ox
from rdflib import BNode, Literal, URIRef
from rdflib.paths import AlternativePath, InvPath, MulPath, SequencePath
from rdflib.paths import Path as RDFPath
from rdflib.term import Node

from citygraph.fastshacl.loading import original_datatype
from citygraph.fastshacl.shapes import XSD, Alternative, Inverse, Path, Repeat, Sequence, Term
from citygraph.shacl.terms import path_text, term_text

__all__ = ["canonical_language", "path_for_rdflib", "path_string", "term_for_rdflib", "text"]

_XSD_STRING: Final = XSD + "string"


class _Quiet(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return False


@contextmanager
def _quiet_rdflib() -> Iterator[None]:
    # rdflib logs an error (and n3() warns) for every ill-typed literal it is given; those are
    # exactly the values a validation report is about, so the noise is expected here.
    logger = logging.getLogger("rdflib.term")
    quiet = _Quiet()
    logger.addFilter(quiet)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.removeFilter(quiet)


def canonical_language(tag: str) -> str:
    """A language tag in BCP 47 canonical case (RFC 5646 §2.1.1).

    >>> canonical_language("zh-hans")
    'zh-Hans'
    >>> canonical_language("en-us")
    'en-US'
    >>> canonical_language("de")
    'de'
    """
    parts = tag.split("-")
    out = [parts[0].lower()]
    singleton = False
    for part in parts[1:]:
        if singleton or len(part) == 1:
            singleton = True
            out.append(part.lower())
        elif len(part) == 4 and part.isalpha():
            out.append(part.title())
        elif len(part) == 2 and part.isalpha():
            out.append(part.upper())
        else:
            out.append(part.lower())
    return "-".join(out)


def term_for_rdflib(term: Term) -> Node:
    """The rdflib term for an Oxigraph term (see the module docstring for literals)."""
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    with _quiet_rdflib():
        if term.language:
            return Literal(term.value, lang=canonical_language(term.language))
        if term.datatype.value == _XSD_STRING:
            return Literal(term.value)
        return Literal(term.value, datatype=URIRef(original_datatype(term.datatype.value)))


def text(term: Term) -> str:
    """The term as :func:`citygraph.validate.term_text` writes it.

    >>> text(ox.Literal("x", language="zh-hans"))
    '"x"@zh-Hans'
    >>> text(ox.NamedNode("http://example.org/a"))
    'http://example.org/a'
    """
    if isinstance(term, ox.NamedNode):
        return term.value
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    node = term_for_rdflib(term)
    with _quiet_rdflib():
        return term_text(node)


def path_for_rdflib(path: Path) -> URIRef | RDFPath:
    """The rdflib path object for a SHACL path (what the reference reports carry)."""
    if isinstance(path, ox.NamedNode):
        return URIRef(path.value)
    if isinstance(path, Inverse):
        return InvPath(path_for_rdflib(path.path))
    if isinstance(path, Sequence):
        return SequencePath(*[path_for_rdflib(p) for p in path.paths])
    if isinstance(path, Alternative):
        return AlternativePath(*[path_for_rdflib(p) for p in path.paths])
    if isinstance(path, Repeat):
        return MulPath(path_for_rdflib(path.path), path.modifier)  # type: ignore[arg-type]
    raise TypeError(f"not a path: {path!r}")


def path_string(path: Path) -> str:
    """The path as :func:`citygraph.validate.path_text` writes it."""
    return path_text(path_for_rdflib(path))

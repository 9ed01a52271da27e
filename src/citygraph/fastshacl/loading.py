"""Parsing Turtle and N-Triples files into a pyoxigraph store, with precise syntax errors."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Final

import pyoxigraph as ox

from citygraph.errors import InputSyntaxError
from citygraph.shacl.graphs import expand

__all__ = ["PRESERVED", "SURROGATE", "expand", "load_files", "original_datatype"]

#: The Oxigraph format of each file suffix read (the files are those :func:`expand` finds, as
#: for pySHACL: :mod:`citygraph.shacl.graphs`).
FORMATS: Final = {".ttl": ox.RdfFormat.TURTLE, ".nt": ox.RdfFormat.N_TRIPLES}

_XSD: Final = "http://www.w3.org/2001/XMLSchema#"
#: Datatypes an Oxigraph store does not keep: it stores ``"4"^^xsd:positiveInteger`` as
#: ``"4"^^xsd:integer`` and ``xsd:dateTimeStamp`` as ``xsd:dateTime`` (pyoxigraph 0.5.13).
#: pySHACL tells them apart (``sh:datatype xsd:positiveInteger`` rejects ``6``), so when files
#: are loaded for validation, literals of these types get a surrogate datatype instead
#: (:data:`SURROGATE` + the original IRI), which the engine maps back.
PRESERVED: Final = frozenset(
    _XSD + name
    for name in (
        "positiveInteger",
        "nonNegativeInteger",
        "negativeInteger",
        "nonPositiveInteger",
        "long",
        "int",
        "short",
        "byte",
        "unsignedLong",
        "unsignedInt",
        "unsignedShort",
        "unsignedByte",
        "dateTimeStamp",
    )
)
SURROGATE: Final = "urn:x-citygraph:fastshacl:datatype:"
# A cheap over-approximation of "the file may name one of the PRESERVED datatypes"
# (``xsd:int``, ``<…XMLSchema#int>``…); only such files take the slower, preserving path.
_MAY_HAVE_SUBTYPES: Final = re.compile(
    rb"[#:](positiveInteger|nonNegativeInteger|negativeInteger|nonPositiveInteger|long|int"
    rb"|short|byte|unsignedLong|unsignedInt|unsignedShort|unsignedByte|dateTimeStamp)\b"
)


def original_datatype(iri: str) -> str:
    """The datatype a surrogate stands for; any other IRI as is.

    >>> original_datatype(SURROGATE + "http://www.w3.org/2001/XMLSchema#int")
    'http://www.w3.org/2001/XMLSchema#int'
    """
    return iri.removeprefix(SURROGATE)


def _preserve(quads: Iterator[ox.Quad]) -> Iterator[ox.Quad]:
    for quad in quads:
        obj = quad.object
        if isinstance(obj, ox.Literal) and obj.datatype.value in PRESERVED:
            surrogate = ox.Literal(obj.value, datatype=ox.NamedNode(SURROGATE + obj.datatype.value))
            yield ox.Quad(quad.subject, quad.predicate, surrogate, quad.graph_name)
        else:
            yield quad


def load_files(store: ox.Store, paths: Sequence[Path], *, preserve: bool = True) -> None:
    """Parse ``paths`` (files or directories) into the default graph of ``store``.

    Each file's base IRI is its ``file:`` URI, as when rdflib parses it; blank nodes of two
    files never merge. Literals of the :data:`PRESERVED` datatypes are stored with a surrogate
    datatype so that the store keeps them apart from ``xsd:integer``/``xsd:dateTime``, unless
    ``preserve`` is false (for the shapes graph).

    Raises:
        InputSyntaxError: a file does not parse (with its path, 1-based line and column),
            cannot be read, does not exist, or is not ``.ttl``/``.nt``.
    """
    for path in expand(paths):
        rdf_format = FORMATS.get(path.suffix.lower())
        if rdf_format is None:
            raise InputSyntaxError("not a Turtle (.ttl) or N-Triples (.nt) file", path=path)
        try:
            data = path.read_bytes()
        except OSError as error:
            raise InputSyntaxError(f"cannot read: {error.strerror}", path=path) from error
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as error:
            raise InputSyntaxError(f"not UTF-8: {error.reason}", path=path) from error
        base = path.resolve().as_uri()
        try:
            if preserve and _MAY_HAVE_SUBTYPES.search(data):
                store.bulk_extend(_preserve(ox.parse(data, format=rdf_format, base_iri=base)))
            else:  # nothing to preserve: Oxigraph's own loader, without Python per triple
                store.load(data, format=rdf_format, base_iri=base)
        except SyntaxError as error:
            message = str(error.msg if error.msg else error)
            raise InputSyntaxError(
                message, path=path, line=error.lineno, column=error.offset
            ) from None

"""The representations of a document: HTML and four RDF syntaxes, by ``Accept`` or extension.

Negotiation itself is :func:`citygraph.web.negotiation.negotiate` (the endpoint's, table-tested);
this module only says what documents offer.

>>> negotiate_representation("text/turtle;q=0.9, application/ld+json").name
'jsonld'
>>> negotiate_representation("*/*").name
'html'
>>> negotiate_representation("image/png") is None
True
>>> split_extension("city/de-berlin.ttl")
('city/de-berlin', 'ttl')
>>> split_extension("city/de-berlin")
('city/de-berlin', None)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pyoxigraph as ox

from citygraph.namespaces import PREFIXES
from citygraph.web.negotiation import negotiate

__all__ = [
    "HTML",
    "REPRESENTATIONS",
    "Representation",
    "by_name",
    "negotiate_representation",
    "serialize",
    "split_extension",
]


@dataclass(frozen=True)
class Representation:
    """One way to serve a document: short name (= extension), media type, RDF syntax."""

    name: str
    media_type: str
    label: str
    rdf_format: ox.RdfFormat | None = None
    aliases: tuple[str, ...] = ()

    @property
    def content_type(self) -> str:
        """The ``Content-Type`` value (UTF-8 for the text types)."""
        if self.media_type.startswith("text/") or self.media_type.endswith("+xml"):
            return self.media_type + "; charset=utf-8"
        return self.media_type


HTML = Representation("html", "text/html", "HTML", None, ("application/xhtml+xml",))
REPRESENTATIONS: tuple[Representation, ...] = (
    HTML,
    Representation("ttl", "text/turtle", "Turtle", ox.RdfFormat.TURTLE, ("application/x-turtle",)),
    Representation(
        "jsonld", "application/ld+json", "JSON-LD", ox.RdfFormat.JSON_LD, ("application/json",)
    ),
    Representation("nt", "application/n-triples", "N-Triples", ox.RdfFormat.N_TRIPLES),
    Representation(
        "rdf", "application/rdf+xml", "RDF/XML", ox.RdfFormat.RDF_XML, ("application/xml",)
    ),
)


def _offered() -> list[str]:
    types = [r.media_type for r in REPRESENTATIONS]
    for r in REPRESENTATIONS:
        types.extend(a for a in r.aliases if a not in types)
    return types


_OFFERED = _offered()


def by_name(name: str) -> Representation | None:
    """The representation with extension ``name`` (``ttl``), or ``None``."""
    return next((r for r in REPRESENTATIONS if r.name == name), None)


def negotiate_representation(accept: str | None) -> Representation | None:
    """The representation ``Accept`` prefers (HTML for ``*/*``); ``None``: answer 406."""
    chosen = negotiate(accept, _OFFERED)
    if chosen is None:
        return None
    return next(r for r in REPRESENTATIONS if chosen == r.media_type or chosen in r.aliases)


def split_extension(path: str) -> tuple[str, str | None]:
    """Split a known extension (``.ttl``, ``.html`` …) off ``path``."""
    stem, dot, extension = path.rpartition(".")
    if dot and "/" not in extension and by_name(extension) is not None:
        return stem, extension
    return path, None


def serialize(
    triples: Iterable[ox.Triple],
    representation: Representation,
    *,
    prefixes: Mapping[str, str] | None = None,
) -> bytes:
    """``triples`` in ``representation``'s RDF syntax, with ``prefixes`` (default: all of
    citygraph's; N-Triples has none)."""
    assert representation.rdf_format is not None, "HTML is rendered by templates"
    chosen = dict(PREFIXES if prefixes is None else prefixes)
    if representation.rdf_format is ox.RdfFormat.N_TRIPLES:
        chosen = {}
    data = ox.serialize(list(triples), format=representation.rdf_format, prefixes=chosen or None)
    return data or b""

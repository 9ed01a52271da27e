"""The result formats the endpoint offers, with their media types and short names.

Two families: solutions (SELECT, ASK) and graphs (CONSTRUCT, DESCRIBE, Graph Store reads, the
service description). A ``format`` request parameter picks one by short name or media type, so
a browser link can ask for ``format=csv`` where it cannot set ``Accept``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from citygraph.web.negotiation import negotiate

__all__ = [
    "DATASET_FORMATS",
    "GRAPH_FORMATS",
    "SOLUTION_FORMATS",
    "Family",
    "Format",
    "choose",
    "offered_types",
]


class Family(Enum):
    """What a format can carry."""

    SOLUTIONS = "solutions"
    GRAPH = "graph"


@dataclass(frozen=True)
class Format:
    """A result format: ``name`` is the pyoxigraph format name, ``aliases`` extra media types."""

    name: str
    media_type: str
    family: Family
    short_names: tuple[str, ...]
    aliases: tuple[str, ...] = ()
    w3c_iri: str = ""

    @property
    def content_type(self) -> str:
        """The ``Content-Type`` header value (``charset`` for the text types)."""
        if self.media_type.startswith("text/"):
            return self.media_type + "; charset=utf-8"
        return self.media_type


_W3 = "http://www.w3.org/ns/formats/"

SOLUTION_FORMATS: tuple[Format, ...] = (
    Format(
        "JSON",
        "application/sparql-results+json",
        Family.SOLUTIONS,
        ("json", "srj"),
        ("application/json",),
        _W3 + "SPARQL_Results_JSON",
    ),
    Format(
        "XML",
        "application/sparql-results+xml",
        Family.SOLUTIONS,
        ("xml", "srx"),
        ("application/xml", "text/xml"),
        _W3 + "SPARQL_Results_XML",
    ),
    Format("CSV", "text/csv", Family.SOLUTIONS, ("csv",), (), _W3 + "SPARQL_Results_CSV"),
    Format(
        "TSV",
        "text/tab-separated-values",
        Family.SOLUTIONS,
        ("tsv",),
        (),
        _W3 + "SPARQL_Results_TSV",
    ),
)

#: Triple formats first: TriG and N-Quads are offered too (the triples land in the default graph).
GRAPH_FORMATS: tuple[Format, ...] = (
    Format(
        "TURTLE",
        "text/turtle",
        Family.GRAPH,
        ("turtle", "ttl"),
        ("application/x-turtle",),
        _W3 + "Turtle",
    ),
    Format(
        "N_TRIPLES",
        "application/n-triples",
        Family.GRAPH,
        ("ntriples", "nt", "n-triples"),
        ("text/plain",),
        _W3 + "N-Triples",
    ),
    Format(
        "JSON_LD",
        "application/ld+json",
        Family.GRAPH,
        ("jsonld", "json-ld", "json"),
        ("application/json",),
        _W3 + "JSON-LD",
    ),
    Format(
        "RDF_XML",
        "application/rdf+xml",
        Family.GRAPH,
        ("rdfxml", "rdf", "xml"),
        ("application/xml", "text/xml"),
        _W3 + "RDF_XML",
    ),
    Format("TRIG", "application/trig", Family.GRAPH, ("trig",), (), _W3 + "TriG"),
    Format("N_QUADS", "application/n-quads", Family.GRAPH, ("nquads", "nq"), (), _W3 + "N-Quads"),
)

#: For a whole dataset (Graph Store GET without a graph): the quad formats only.
DATASET_FORMATS: tuple[Format, ...] = tuple(
    f for f in GRAPH_FORMATS if f.name in ("TRIG", "N_QUADS")
)


def offered_types(formats: Sequence[Format]) -> list[str]:
    """The media types of ``formats`` in order of preference: canonical ones, then aliases."""
    types = [f.media_type for f in formats]
    for f in formats:
        types.extend(a for a in f.aliases if a not in types)
    return types


def choose(
    formats: Sequence[Format], *, accept: str | None, format_param: str | None
) -> Format | None:
    """Pick the format for a response: the ``format`` parameter wins over ``Accept``.

    Returns ``None`` when nothing offered is acceptable (the caller answers 406).

    >>> choose(SOLUTION_FORMATS, accept="text/csv", format_param=None).name
    'CSV'
    >>> choose(GRAPH_FORMATS, accept=None, format_param="json").name
    'JSON_LD'
    """
    if format_param is not None:
        wanted = format_param.strip().lower()
        for f in formats:
            if wanted in f.short_names or wanted == f.media_type or wanted in f.aliases:
                return f
        return None
    media_type = negotiate(accept, offered_types(formats))
    if media_type is None:
        return None
    for f in formats:
        if media_type == f.media_type or media_type in f.aliases:
            return f
    return None  # pragma: no cover - offered_types only yields types of ``formats``

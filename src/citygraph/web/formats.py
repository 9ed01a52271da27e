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
from citygraph.web.problems import BadRequestError

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
        # Turtle is a subset of N3, so a Turtle answer is a valid one for clients asking n3.
        ("turtle", "ttl", "n3"),
        ("application/x-turtle", "text/n3"),
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
        ("rdfxml", "rdf", "rdf+xml", "xml"),
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
    formats: Sequence[Format], *, accept: str | None, format_param: str | Sequence[str] | None
) -> Format | None:
    """Pick the format for a response: the ``format`` parameter wins over ``Accept``.

    ``format_param`` is the value of the ``format`` parameter, or all its values when it was
    repeated; each may be a comma-separated list (SPARQLWrapper sends ``format=tsv&format=
    text/tab-separated-values``, and for JSON-LD a list of media types). Values that name the
    same format agree; values that name no format of ``formats`` are left out, as long as
    another names one.

    Returns ``None`` when nothing offered is acceptable (the caller answers 406).

    Raises:
        BadRequestError: the values name two different formats of ``formats``.

    >>> choose(SOLUTION_FORMATS, accept="text/csv", format_param=None).name
    'CSV'
    >>> choose(GRAPH_FORMATS, accept=None, format_param="json").name
    'JSON_LD'
    >>> tsv = ["tsv", "text/tab-separated-values"]
    >>> choose(SOLUTION_FORMATS, accept=None, format_param=tsv).name
    'TSV'
    """
    values = [format_param] if isinstance(format_param, str) else list(format_param or ())
    if values:
        named = _named(formats, values)
        if len(named) > 1:
            raise BadRequestError(
                "the format parameters name different formats: "
                + ", ".join(f.media_type for f in named)
                + "; send one (or several that name the same format)"
            )
        return named[0] if named else None
    media_type = negotiate(accept, offered_types(formats))
    if media_type is None:
        return None
    for f in formats:
        if media_type == f.media_type or media_type in f.aliases:
            return f
    return None  # pragma: no cover - offered_types only yields types of ``formats``


def _named(formats: Sequence[Format], values: Sequence[str]) -> list[Format]:
    """The formats of ``formats`` that the ``format`` parameter ``values`` name, in order."""
    named: list[Format] = []
    for value in values:
        for token in value.split(","):
            wanted = token.split(";")[0].strip().lower()
            for f in formats:
                if wanted in (*f.short_names, f.media_type, *f.aliases):
                    if f not in named:
                        named.append(f)
                    break
    return named

"""What an RDF document about a thing says besides the thing (issue 13 §6).

- It says what it is: ``foaf:primaryTopic``, ``void:inDataset``, licence and modified date
  (:func:`about`).
- It carries no axioms about other vocabularies' terms (``schema:City a owl:Class`` comes from
  the store's superclass types; :func:`without_foreign_axioms`).
- It declares only the prefixes it uses (:func:`used_prefixes`).
- Its JSON-LD is compacted with citygraph's published ``@context`` (:data:`CONTEXT_PATH` under
  the base IRI, served by this server at ``/context.jsonld``: :func:`context`), not expanded
  (:func:`compact_jsonld`).

>>> t = ox.Triple(ox.NamedNode(PREFIXES["city"] + "x"), ox.NamedNode(RDF_TYPE),
...               ox.NamedNode(PREFIXES["cg"] + "City"))
>>> sorted(used_prefixes([t]))
['cg', 'city']
>>> compact_jsonld([t], context_url="https://example.org/context.jsonld")["@graph"]
[{'@id': 'city:x', '@type': ['cg:City']}]
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

import pyoxigraph as ox

from citygraph.namespaces import PREFIXES

__all__ = [
    "CONTEXT_PATH",
    "LICENCE",
    "about",
    "compact_jsonld",
    "context",
    "modified_of",
    "used_prefixes",
    "without_foreign_axioms",
]

RDF_TYPE = PREFIXES["rdf"] + "type"
XSD_STRING = PREFIXES["xsd"] + "string"
RDF_LANG_STRING = PREFIXES["rdf"] + "langString"
#: Where the JSON-LD context is published, under the base IRI (and on this server).
CONTEXT_PATH = "context.jsonld"
#: The data's licence (as the dataset description and the site's footer say).
LICENCE = "https://creativecommons.org/licenses/by/4.0/"

#: Namespaces of vocabularies (not of data): their terms get no statements in our documents.
_VOCABULARIES = tuple(
    PREFIXES[p]
    for p in (
        "rdf",
        "rdfs",
        "owl",
        "xsd",
        "skos",
        "dcterms",
        "prov",
        "schema",
        "org",
        "cv",
        "geo",
        "foaf",
        "vann",
        "void",
        "dcat",
        "sh",
        "wdt",
        "dbo",
    )
)

#: A build's version starts with its UTC time (citygraph.build: ``20261207T054931025035Z-…``,
#: microseconds optional).
_VERSION_TIME = re.compile(r"(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(?:\d{1,6})?Z")


def context() -> dict[str, Any]:
    """citygraph's JSON-LD context: every prefix of :data:`citygraph.namespaces.PREFIXES`."""
    return {"@context": dict(PREFIXES)}


def modified_of(version: str) -> str | None:
    """The ``xsd:dateTime`` a data version was built (``None``: the version does not say).

    >>> modified_of("20261127T081500Z-3f2a1c")
    '2026-11-27T08:15:00Z'
    >>> modified_of("20261207T054931025035Z-1221ac5399")
    '2026-12-07T05:49:31Z'
    """
    match = _VERSION_TIME.match(version)
    if match is None:
        return None
    y, mo, d, h, mi, s = match.groups()
    return f"{y}-{mo}-{d}T{h}:{mi}:{s}Z"


def about(document: str, topic: str, *, dataset: str, version: str) -> list[ox.Triple]:
    """The document ``document`` describing itself: a ``foaf:Document`` about ``topic``, in
    ``dataset``, under :data:`LICENCE`, modified when its data version was built."""
    doc = ox.NamedNode(document)

    def p(prefix: str, local: str) -> ox.NamedNode:
        return ox.NamedNode(PREFIXES[prefix] + local)

    triples = [
        ox.Triple(doc, p("rdf", "type"), p("foaf", "Document")),
        ox.Triple(doc, p("foaf", "primaryTopic"), ox.NamedNode(topic)),
        ox.Triple(doc, p("void", "inDataset"), ox.NamedNode(dataset)),
        ox.Triple(doc, p("dcterms", "license"), ox.NamedNode(LICENCE)),
    ]
    modified = modified_of(version)
    if modified is not None:
        triples.append(
            ox.Triple(
                doc, p("dcterms", "modified"), ox.Literal(modified, datatype=p("xsd", "dateTime"))
            )
        )
    return triples


def without_foreign_axioms(triples: Iterable[ox.Triple]) -> list[ox.Triple]:
    """``triples`` without statements whose subject is another vocabulary's term."""
    return [
        t
        for t in triples
        if not (isinstance(t.subject, ox.NamedNode) and t.subject.value.startswith(_VOCABULARIES))
    ]


#: Terms every syntax writes without a prefix (Turtle's ``a``, plain and language strings).
_IMPLICIT = {RDF_TYPE, XSD_STRING, RDF_LANG_STRING}


def _iris(term: object) -> Iterable[str]:
    if isinstance(term, ox.NamedNode):
        if term.value not in _IMPLICIT:
            yield term.value
    elif isinstance(term, ox.Literal):
        if term.datatype.value not in _IMPLICIT:
            yield term.datatype.value
    elif isinstance(term, ox.Triple):
        for part in (term.subject, term.predicate, term.object):
            yield from _iris(part)


def used_prefixes(triples: Iterable[ox.Triple]) -> dict[str, str]:
    """The prefixes of :data:`~citygraph.namespaces.PREFIXES` that name a term of ``triples``
    (the longest namespace wins: ``city:`` rather than a shorter one)."""
    ordered = sorted(PREFIXES.items(), key=lambda item: -len(item[1]))
    used: dict[str, str] = {}
    for triple in triples:
        for iri in _iris(triple):
            for name, namespace in ordered:
                if iri.startswith(namespace) and len(iri) > len(namespace):
                    used[name] = namespace
                    break
    return dict(sorted(used.items()))


def _compact(iri: str) -> str:
    for name, namespace in sorted(PREFIXES.items(), key=lambda item: -len(item[1])):
        local = iri[len(namespace) :]
        # a compact IRI whose local part looks like "//…" or is empty would read back wrongly
        if iri.startswith(namespace) and local and not local.startswith("/"):
            return f"{name}:{local}"
    return iri


def _node_ref(term: object) -> str:
    if isinstance(term, ox.BlankNode):
        return "_:" + term.value
    assert isinstance(term, ox.NamedNode)
    return _compact(term.value)


def _value(term: object) -> Any:
    if isinstance(term, ox.NamedNode | ox.BlankNode):
        return {"@id": _node_ref(term)}
    assert isinstance(term, ox.Literal)
    if term.language:
        return {"@value": term.value, "@language": term.language}
    if term.datatype.value == XSD_STRING:
        return term.value
    return {"@value": term.value, "@type": _compact(term.datatype.value)}


def compact_jsonld(triples: Iterable[ox.Triple], *, context_url: str) -> dict[str, Any]:
    """``triples`` as compacted JSON-LD: ``{"@context": context_url, "@graph": [nodes]}``, one
    node per subject, compact IRIs, ``@type`` for ``rdf:type``, values sorted.

    Raises:
        ValueError: a triple is RDF-star (its subject or object is a triple).
    """
    nodes: dict[str, dict[str, Any]] = {}
    for triple in triples:
        if isinstance(triple.subject, ox.Triple) or isinstance(triple.object, ox.Triple):
            raise ValueError("RDF-star triples have no JSON-LD 1.1 form")
        node = nodes.setdefault(_node_ref(triple.subject), {})
        if triple.predicate.value == RDF_TYPE and isinstance(triple.object, ox.NamedNode):
            node.setdefault("@type", []).append(_compact(triple.object.value))
        else:
            node.setdefault(_compact(triple.predicate.value), []).append(_value(triple.object))
    graph = []
    for ref in sorted(nodes):
        node = {"@id": ref}
        for key in sorted(nodes[ref], key=lambda k: (k != "@type", k)):
            node[key] = sorted(nodes[ref][key], key=lambda v: json.dumps(v, sort_keys=True))
        graph.append(node)
    return {"@context": context_url, "@graph": graph}

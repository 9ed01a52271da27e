"""What a document about a thing contains (the index pages' listings are in citygraph.indexes).

A document about a thing (``/doc/city/de-berlin`` about ``city:de-berlin``) is defined, not
"whatever DESCRIBE returns". It holds:

1. the thing's own statements (every triple with the thing as subject, in any graph);
2. the labels (``rdfs:label``, ``skos:prefLabel``, ``dcterms:title``) of everything it links to;
3. every incoming link (partnerships where it is a partner, ``cg:twinnedWith``, things tagged
   with a concept, facts derived from a source, events in a partnership …), at most
   :data:`MAX_INCOMING` of them (the first in IRI order);
4. the key facts (:data:`KEY_PROPERTIES`: type, dates, partners, status, sources …) of every
   thing it links to or that links to it, so a page can show a partner table or a timeline, and
   the labels of what those facts point to;
5. the full description of its sources (``prov:wasDerivedFrom``);
6. for a partnership, the agreements of its predecessors (East Berlin's 1988 agreement on the
   Berlin-Beijing page) with their key facts, so its history reads back to its origins;
7. the statements of the blank nodes it links to (a geometry and its ``geo:asWKT``): they have no
   document of their own, so without them their content would be lost (issue 13 §6).

Every part is one branch of a UNION of simple patterns (a flat-OPTIONAL form of the same
CONSTRUCT was 50-80x slower on Oxigraph; /work/shared/BENCHMARKING.md), and the thing's IRI is
bound with ``substitutions=``, never pasted into the query text.

>>> import pyoxigraph as ox
>>> s = ox.Store()
>>> s.load(b'<https://w3id.org/citygraph/id/city/x> <http://www.w3.org/2000/01/rdf-schema#label>'
...        b' "X"@en .', format=ox.RdfFormat.N_TRIPLES)
>>> len(describe(s, "https://w3id.org/citygraph/id/city/x"))
1
>>> describe(s, "https://w3id.org/citygraph/id/city/nowhere")
[]
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import pyoxigraph as ox

from citygraph.namespaces import CG, PREFIXES, sparql_prolog

__all__ = [
    "KEY_PROPERTIES",
    "LABEL_PROPERTIES",
    "LabelLookup",
    "Term",
    "ThingGraph",
    "describe",
    "exists",
    "list_things",
    "run_query",
]

#: Any RDF term that can be an object (pyoxigraph's stubs name no alias for it).
Term = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple

RDF = PREFIXES["rdf"]
RDFS = PREFIXES["rdfs"]
SKOS = PREFIXES["skos"]
DCTERMS = PREFIXES["dcterms"]
PROV = PREFIXES["prov"]

#: Properties whose values name a thing for people, in order of preference.
LABEL_PROPERTIES: tuple[str, ...] = (RDFS + "label", SKOS + "prefLabel", DCTERMS + "title")

#: The facts a document carries about each neighbour of its thing (part 4 of the definition).
KEY_PROPERTIES: tuple[str, ...] = (
    RDF + "type",
    *LABEL_PROPERTIES,
    CG + "partner",
    CG + "partnershipType",
    CG + "status",
    CG + "statusSince",
    CG + "startDate",
    CG + "endDate",
    CG + "signedOn",
    CG + "signatory",
    CG + "agreementType",
    CG + "eventType",
    CG + "organisationType",
    CG + "role",
    CG + "participant",
    CG + "inPartnership",
    CG + "country",
    CG + "location",
    PROV + "wasDerivedFrom",
    RDF + "subject",
    RDF + "predicate",
    RDF + "object",
    DCTERMS + "publisher",
    SKOS + "inScheme",
)


def _one_of(variable: str, iris: Iterable[str]) -> str:
    # Only our own constant IRIs go here (never request values): they are part of the query text.
    # FILTER(IN) rather than VALUES: Oxigraph joins a VALUES block first, which made the label
    # branches scan every label in the store (10x slower on the real data).
    return f"FILTER(?{variable} IN (" + ", ".join(f"<{iri}>" for iri in iris) + "))"


_LABELS = _one_of("lp", LABEL_PROPERTIES)

#: Incoming links a document holds at most (a country, a status or a theme of the worldwide
#: layer has tens of thousands); the first ones in IRI order, so the cut is stable.
MAX_INCOMING = 2000
_INCOMING = (
    "{{ SELECT ?this ?{n} ?{p} WHERE {{ ?{n} ?{p} ?this }} ORDER BY ?{n} ?{p} LIMIT "
    + str(MAX_INCOMING)
    + " }}"
)
_KEYS = _one_of("kp", KEY_PROPERTIES)

_IN = _INCOMING.format(n="n", p="p2")
_PRE = "?this cg:predecessor+ ?pre . ?pre cg:agreement ?n ."

#: One branch per part of the document (numbers as in the module docstring).
_BRANCHES: tuple[str, ...] = (
    "?this ?p ?o",  # 1
    f"?this ?p ?o . ?o ?lp ?ol . {_LABELS}",  # 2
    _INCOMING.format(n="in", p="ip"),  # 3
    f"?this ?p1 ?n . ?n ?kp ?kv . {_KEYS}",  # 4, outgoing
    f"{_IN} ?n ?kp ?kv . {_KEYS}",  # 4, incoming
    f"?this ?p1 ?n . ?n ?kp ?kv . ?kv ?lp ?kl . {_KEYS} {_LABELS}",  # 4, labels
    f"{_IN} ?n ?kp ?kv . ?kv ?lp ?kl . {_KEYS} {_LABELS}",  # 4, labels
    "?this prov:wasDerivedFrom ?src . ?src ?sp ?sv",  # 5
    f"{_PRE} ?n ?kp ?kv . {_KEYS}",  # 6
    f"{_PRE} ?n ?kp ?kv . ?kv ?lp ?kl . {_KEYS} {_LABELS}",  # 6, labels
    "?this ?bp ?b . FILTER(isBlank(?b)) ?b ?bq ?bv",  # 7
)

DOCUMENT_QUERY = (
    sparql_prolog(["cg", "prov"])
    + """CONSTRUCT {
  ?this ?p ?o .
  ?o ?lp ?ol .
  ?in ?ip ?this .
  ?n ?kp ?kv .
  ?kv ?lp ?kl .
  ?src ?sp ?sv .
  ?pre cg:agreement ?n .
  ?b ?bq ?bv .
}
WHERE {
  """
    + "\n  UNION ".join("{ " + branch + " }" for branch in _BRANCHES)
    + "\n}"
)

EXISTS_QUERY = "ASK { { ?this ?p ?o } UNION { ?s ?p ?this } }"


def run_query(target: ox.Store, query: str, bindings: Mapping[str, Term]) -> object:
    """``query`` on ``target`` over the union of its graphs, with ``bindings`` substituted."""
    return target.query(
        query,
        use_default_graph_as_union=True,
        substitutions={ox.Variable(name): value for name, value in bindings.items()},
    )


def describe(target: ox.Store, iri: str) -> list[ox.Triple]:
    """Return the document about ``iri`` (see the module docstring): its triples, sorted.

    An empty list means the store knows nothing about ``iri``.

    Raises:
        ValueError: ``iri`` is not an absolute IRI.
    """
    result = run_query(target, DOCUMENT_QUERY, {"this": ox.NamedNode(iri)})
    assert isinstance(result, ox.QueryTriples)
    return sorted(set(result), key=str)


def exists(target: ox.Store, iri: str) -> bool:
    """Whether ``iri`` occurs as subject or object anywhere in the store.

    Raises:
        ValueError: ``iri`` is not an absolute IRI.
    """
    result = run_query(target, EXISTS_QUERY, {"this": ox.NamedNode(iri)})
    assert isinstance(result, ox.QueryBoolean)
    return bool(result)


@dataclass
class ThingGraph:
    """Triples indexed by subject, for pages: ``graph.values(s, p)`` and friends.

    >>> import pyoxigraph as ox
    >>> t = ox.Triple(ox.NamedNode("http://x/a"), ox.NamedNode("http://x/p"), ox.Literal("1"))
    >>> ThingGraph.from_triples([t]).first("http://x/a", "http://x/p").value
    '1'
    """

    forward: dict[str, dict[str, list[Term]]] = field(default_factory=dict)
    backward: dict[str, dict[str, list[str]]] = field(default_factory=dict)

    @classmethod
    def from_triples(cls, triples: Iterable[ox.Triple]) -> ThingGraph:
        """Index ``triples`` (blank-node subjects are kept under ``_:id``)."""
        graph = cls()
        for triple in triples:
            subject = _key(triple.subject)
            graph.forward.setdefault(subject, {}).setdefault(triple.predicate.value, []).append(
                triple.object
            )
            # A blank node (a cg:sourceNote, a geometry) cannot be linked to: no incoming link.
            if isinstance(triple.object, ox.NamedNode) and isinstance(triple.subject, ox.NamedNode):
                graph.backward.setdefault(triple.object.value, {}).setdefault(
                    triple.predicate.value, []
                ).append(subject)
        for properties in graph.forward.values():
            for values in properties.values():
                values.sort(key=str)
        for incoming in graph.backward.values():
            for subjects in incoming.values():
                subjects.sort()
        return graph

    def values(self, subject: str, predicate: str) -> list[Term]:
        """The objects of ``subject predicate ?o`` (sorted)."""
        return self.forward.get(subject, {}).get(predicate, [])

    def first(self, subject: str, predicate: str) -> Term | None:
        """One object of ``subject predicate ?o`` (the first in order), or ``None``."""
        found = self.values(subject, predicate)
        return found[0] if found else None

    def iris(self, subject: str, predicate: str) -> list[str]:
        """The IRI objects of ``subject predicate ?o``."""
        return [v.value for v in self.values(subject, predicate) if isinstance(v, ox.NamedNode)]

    def subjects(self, predicate: str, obj: str) -> list[str]:
        """The subjects of ``?s predicate obj`` (``obj`` an IRI)."""
        return self.backward.get(obj, {}).get(predicate, [])

    def incoming(self, obj: str) -> dict[str, list[str]]:
        """Every ``?s ?p obj``, as predicate -> subjects."""
        return self.backward.get(obj, {})

    def types(self, subject: str) -> set[str]:
        """The ``rdf:type`` IRIs of ``subject``."""
        return set(self.iris(subject, RDF + "type"))

    def labels(self, subject: str) -> dict[str, str]:
        """The labels of ``subject``: language tag (``""``: none) -> text, best property first."""
        found: dict[str, str] = {}
        for prop in LABEL_PROPERTIES:
            for value in self.values(subject, prop):
                if isinstance(value, ox.Literal):
                    found.setdefault((value.language or "").lower(), value.value)
        return found


def _key(term: object) -> str:
    if isinstance(term, ox.NamedNode):
        return term.value
    if isinstance(term, ox.BlankNode):
        return "_:" + term.value
    return str(term)


# -- labels and subjects for the pages ------------------------------------------------------


class LabelLookup(Mapping[str, Mapping[str, str]]):
    """The labels of IRIs (language tag lower case -> text), read from the store's indexes on
    demand and remembered: index pages name a few hundred things out of tens of thousands.

    >>> import pyoxigraph as ox
    >>> s = ox.Store()
    >>> s.add(ox.Quad(ox.NamedNode("http://x/a"), ox.NamedNode(LABEL_PROPERTIES[0]),
    ...               ox.Literal("A", language="en"), ox.NamedNode("http://x/g")))
    >>> LabelLookup(s)["http://x/a"]
    {'en': 'A'}
    >>> LabelLookup(s)["http://x/b"]
    {}
    """

    def __init__(self, target: ox.Store) -> None:
        self._store = target
        self._memo: dict[str, dict[str, str]] = {}
        self._properties = [ox.NamedNode(p) for p in LABEL_PROPERTIES]

    def __getitem__(self, iri: str) -> dict[str, str]:
        found = self._memo.get(iri)
        if found is not None:
            return found
        found = {}
        try:
            subject = ox.NamedNode(iri)
        except ValueError:
            return found
        for prop in self._properties:
            for quad in self._store.quads_for_pattern(subject, prop, None, None):
                label = quad.object
                if isinstance(label, ox.Literal):
                    found.setdefault((label.language or "").lower(), label.value)
        self._memo[iri] = found  # a race only computes the same value twice
        return found

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._memo))

    def __len__(self) -> int:
        return len(self._memo)


def list_things(target: ox.Store, *, namespaces: Sequence[str]) -> Iterator[str]:
    """Every subject IRI under one of ``namespaces`` (for the sitemap), sorted."""
    query = "SELECT DISTINCT ?s WHERE { ?s ?p ?o FILTER(isIRI(?s)) }"
    result = run_query(target, query, {})
    assert isinstance(result, ox.QuerySolutions)
    found = sorted(
        s.value
        for s in (row["s"] for row in result)
        if isinstance(s, ox.NamedNode) and s.value.startswith(tuple(namespaces))
    )
    yield from found


def _text(term: object) -> str:
    if isinstance(term, ox.NamedNode | ox.Literal):
        return term.value
    return ""

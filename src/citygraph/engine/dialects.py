"""How SPARQL stores differ, and what citygraph does about it: the one place (issue 11 §1).

A remote backend speaks only the standards (SPARQL 1.1 Query, Update and Protocol, the Graph
Store Protocol), but stores read them differently. Every difference citygraph knows of is a
field of :class:`Dialect` or a step of :func:`normalise_binding` / :func:`normalise_term`, and
each is checked against a real server in ``tests/dialects/test_virtuoso_dialect.py`` (the raw
behaviour, so a store that changes is noticed, and the answer after this module). The table in
docs/scaling.md is the prose version of this module.

What citygraph does, whatever the store:

* **Result media types.** It always asks for ``application/sparql-results+json`` (SELECT, ASK)
  and ``application/n-triples`` (CONSTRUCT, DESCRIBE), formats every store here writes, and
  serialises the answer itself in whatever the client negotiated. It never passes a store's
  own CSV, TSV, XML or Turtle through: Virtuoso quotes every CSV cell, answers a SELECT asked as
  N-Triples or Turtle with the DAWG result-set vocabulary, and has no N-Quads or JSON-LD.
* **Union default graph.** citygraph's queries see the union of its graphs as default graph
  (``use_default_graph_as_union`` on the embedded store). A store whose default graph is already
  that union (``oxigraph serve --union-default-graph``) needs nothing; on any other store
  (:attr:`Dialect.dataset_from_protocol`) citygraph names its graphs with the protocol's
  ``default-graph-uri`` and ``named-graph-uri`` parameters (:func:`dataset_parameters`): a plain
  Virtuoso default graph is *every* graph of the server, its own system graphs included
  (about 2,500 triples in 3 graphs on a fresh database), and ``GRAPH ?g`` ranges over those too.
  Graphs a query names must be among them even when empty (:func:`dataset_parameters`).
* **Service description.** citygraph serves its own (``GET /sparql``); a store's is never
  relayed (Virtuoso's names ``http://localuriqaserver/sparql`` as its endpoint).
* **DESCRIBE.** Each store defines its own DESCRIBE: Oxigraph returns the concise bounded
  description (the resource's triples and those of its blank nodes), Virtuoso adds incoming
  links and returns nothing at all for some resources. citygraph sends the CONSTRUCT of
  :func:`describe_query` instead, so a DESCRIBE of IRIs means the same on every backend.
* **Blank nodes.** Labels are only meaningful within one result (as the standard says). Virtuoso
  writes ``nodeID://b10230`` in JSON results, not a valid label: it becomes ``vb10230``.
* **Literals.** ``typed-literal`` (SPARQL 1.0's JSON) becomes ``literal``; ``xsd:string`` is
  dropped (RDF 1.1: a simple literal *is* an xsd:string, and Oxigraph writes none); booleans
  take their canonical form (Virtuoso writes ``"1"^^xsd:boolean``); Virtuoso's
  ``virtrdf:Geometry`` is ``geo:wktLiteral`` again. Virtuoso *stores* a WKT literal as its own
  geometry type with single-precision coordinates (``POINT(7.14816 51.25627)`` comes back as
  ``POINT(7.1481599807739 51.256271362305)``): that loss happens at load time and cannot be
  undone here; it moves a map pin by less than a metre.
* **Language tags** are lower case on both stores tested (``zh-Hans`` becomes ``zh-hans``);
  pages match them case-insensitively.
* **Aggregates** keep each store's numeric types and lexical forms: ``SUM`` of a decimal and a
  double is a double on Oxigraph, a decimal on Virtuoso; ``AVG`` has 18 digits on Oxigraph, 15 on
  Virtuoso; a double is ``"2"`` on one and ``"2.0"`` on the other. citygraph's own queries only
  count (``COUNT`` is ``xsd:integer`` everywhere). ``GROUP_CONCAT`` without ``separator`` is an
  error on Virtuoso: citygraph's queries always name one.
* **Ordering.** ``ORDER BY`` over one type agrees; over mixed kinds of terms the stores differ
  (Virtuoso sorts literals before IRIs, against SPARQL §15.1), and without ``ORDER BY`` no order
  is promised. citygraph's queries order by one kind of term, or compare answers as multisets.
* **Errors.** Virtuoso answers a syntax error with 400 but a query it cannot run (an unsupported
  built-in, a missing argument) with 500, both as ``text/plain``: :func:`classify_error` reads
  its SQL state, so the query's fault stays a 400 and a timeout a 503, and only the backend's
  own failure becomes a 502.
* **Partial answers.** When Virtuoso's time limit (``MaxQueryExecutionTime``, or a ``timeout``
  request parameter) strikes, it answers **200 with the rows found so far** and the header
  ``X-SQL-State: S1TAT`` ("anytime query"). :func:`is_complete` says so, and citygraph answers
  such a response as a timeout, never as the result. A query whose *estimated* cost exceeds
  ``MaxQueryCostEstimationTime`` is refused before it starts (500, SQL state 42000): also a
  timeout to :func:`classify_error`.
* **Graph Store Protocol.** Virtuoso's endpoint (``/sparql-graph-crud``) takes both ``graph=``
  and its own ``graph-uri=``; citygraph sends the standard ``graph=``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import pyoxigraph as ox

from citygraph.namespaces import (
    GRAPH_CURATED,
    GRAPH_DERIVED,
    GRAPH_META,
    GRAPH_ONTOLOGY,
    GRAPH_VOCAB,
    GRAPH_WORLDWIDE,
)

__all__ = [
    "DESCRIBE_DEPTH",
    "DIALECTS",
    "KNOWN_GRAPHS",
    "QUERY_ACCEPT",
    "Dialect",
    "ErrorKind",
    "classify_error",
    "dataset_parameters",
    "describe_query",
    "detect",
    "is_complete",
    "normalise_binding",
    "normalise_term",
]

XSD = "http://www.w3.org/2001/XMLSchema#"
XSD_STRING = XSD + "string"
XSD_BOOLEAN = XSD + "boolean"
WKT_LITERAL = "http://www.opengis.net/ont/geosparql#wktLiteral"
VIRTUOSO_GEOMETRY = "http://www.openlinksw.com/schemas/virtrdf#Geometry"

#: What citygraph asks a store for, by query form (see the module docstring).
QUERY_ACCEPT: Mapping[str, str] = {
    "SELECT": "application/sparql-results+json",
    "ASK": "application/sparql-results+json",
    "CONSTRUCT": "application/n-triples",
    "DESCRIBE": "application/n-triples",
}

ErrorKind = Literal["query", "timeout", "backend"]

#: Every graph citygraph's queries may name, present in a build or not (see dataset_parameters).
KNOWN_GRAPHS = (
    GRAPH_ONTOLOGY,
    GRAPH_VOCAB,
    GRAPH_CURATED,
    GRAPH_DERIVED,
    GRAPH_WORLDWIDE,
    GRAPH_META,
)

#: How many blank nodes deep :func:`describe_query` follows (Oxigraph's DESCRIBE: unbounded).
DESCRIBE_DEPTH = 3


@dataclass(frozen=True)
class Dialect:
    """What citygraph must know about a store to get standard answers from it."""

    #: The name settings use (``CITYGRAPH_BACKEND_DIALECT``).
    name: str
    #: True when the store's default graph is not the union of citygraph's graphs, so each
    #: query names them with ``default-graph-uri`` / ``named-graph-uri``.
    dataset_from_protocol: bool
    #: Datatype IRIs the store invents, mapped back to the standard ones.
    datatypes: Mapping[str, str]
    #: Prefix of blank-node labels that are not valid labels (``nodeID://``), or "".
    blank_node_prefix: str = ""


DIALECTS: Mapping[str, Dialect] = {
    # Oxigraph's server started with --union-default-graph; also the assumption for any store not
    # listed (Fuseki with tdb2:unionDefaultGraph, GraphDB, QLever: docs/scaling.md).
    "standard": Dialect("standard", dataset_from_protocol=False, datatypes={}),
    # A store whose default graph is its own: name the graphs in every request.
    "dataset": Dialect("dataset", dataset_from_protocol=True, datatypes={}),
    "virtuoso": Dialect(
        "virtuoso",
        dataset_from_protocol=True,
        datatypes={VIRTUOSO_GEOMETRY: WKT_LITERAL},
        blank_node_prefix="nodeID://",
    ),
}


def detect(server_header: str | None) -> Dialect:
    """The dialect of a store from its HTTP ``Server`` header (used when settings name none).

    >>> detect("Virtuoso/07.20.3229 (Linux) x86_64-pc-linux-gnu").name
    'virtuoso'
    >>> detect("Oxigraph/0.5.3").name
    'standard'
    """
    if server_header and server_header.lower().startswith("virtuoso"):
        return DIALECTS["virtuoso"]
    return DIALECTS["standard"]


def dataset_parameters(
    dialect: Dialect, graphs: Iterable[str], *, has_dataset_clause: bool
) -> list[tuple[str, str]]:
    """Protocol parameters that make ``graphs`` the union default graph and the named graphs.

    None when the store already has that default graph, or when the query names its own
    dataset (``FROM``): the protocol's parameters would override it (SPARQL 1.1 Protocol §2.1.4).
    :data:`KNOWN_GRAPHS` are always named, present or not: Virtuoso answers *nothing at all* to
    a query with ``FILTER NOT EXISTS { GRAPH <g> {…} }`` or ``MINUS`` when ``<g>`` is not one of
    the named graphs (sources-disagree-worldwide.rq on a build without the worldwide layer).

    >>> params = dataset_parameters(DIALECTS["virtuoso"], ["urn:g1"], has_dataset_clause=False)
    >>> params[0], len(params) == 2 * (1 + len(KNOWN_GRAPHS))
    (('default-graph-uri', 'https://w3id.org/citygraph/graph/curated'), True)
    >>> dataset_parameters(DIALECTS["standard"], ["urn:g1"], has_dataset_clause=False)
    []
    """
    if not dialect.dataset_from_protocol or has_dataset_clause:
        return []
    names = sorted(set(graphs) | set(KNOWN_GRAPHS))
    return [("default-graph-uri", g) for g in names] + [("named-graph-uri", g) for g in names]


def normalise_binding(dialect: Dialect, value: Mapping[str, str]) -> dict[str, str]:
    """One term of a SPARQL JSON result, as the standard (and pyoxigraph's parser) writes it.

    >>> normalise_binding(DIALECTS["virtuoso"], {"type": "bnode", "value": "nodeID://b7"})
    {'type': 'bnode', 'value': 'vb7'}
    >>> normalise_binding(DIALECTS["virtuoso"], {"type": "typed-literal", "value": "1",
    ...     "datatype": "http://www.w3.org/2001/XMLSchema#boolean"})
    {'type': 'literal', 'value': 'true', 'datatype': 'http://www.w3.org/2001/XMLSchema#boolean'}
    """
    kind = value.get("type")
    result = dict(value)
    if kind == "bnode":
        label = value["value"]
        if dialect.blank_node_prefix and label.startswith(dialect.blank_node_prefix):
            result["value"] = "v" + label[len(dialect.blank_node_prefix) :]
        return result
    if kind not in ("literal", "typed-literal"):
        return result
    result["type"] = "literal"
    datatype = value.get("datatype")
    if datatype is None:
        return result
    datatype = dialect.datatypes.get(datatype, datatype)
    if datatype == XSD_STRING:
        del result["datatype"]
        return result
    result["datatype"] = datatype
    if datatype == XSD_BOOLEAN:
        result["value"] = _canonical_boolean(value["value"])
    return result


def normalise_term(dialect: Dialect, term: ox.NamedNode | ox.BlankNode | ox.Literal) -> object:
    """A term parsed from a store's N-Triples, with the store's own datatypes mapped back.

    >>> geometry = ox.Literal("POINT(1 2)", datatype=ox.NamedNode(VIRTUOSO_GEOMETRY))
    >>> normalise_term(DIALECTS["virtuoso"], geometry).datatype.value
    'http://www.opengis.net/ont/geosparql#wktLiteral'
    """
    if not isinstance(term, ox.Literal) or term.language is not None:
        return term
    datatype = dialect.datatypes.get(term.datatype.value, term.datatype.value)
    if datatype == XSD_BOOLEAN:
        return ox.Literal(_canonical_boolean(term.value), datatype=ox.NamedNode(datatype))
    if datatype != term.datatype.value:
        return ox.Literal(term.value, datatype=ox.NamedNode(datatype))
    return term


def _canonical_boolean(lexical: str) -> str:
    # xsd:boolean's lexical space is {true, false, 1, 0}; its canonical form is true/false.
    return {"1": "true", "0": "false"}.get(lexical.strip(), lexical.strip())


def describe_query(iris: Sequence[str], *, depth: int = DESCRIBE_DEPTH) -> str:
    """The CONSTRUCT citygraph sends for ``DESCRIBE <iri> …``: Oxigraph's DESCRIBE, anywhere.

    The resources' own triples and those of the blank nodes they lead to, through blank nodes
    only, up to ``depth`` blank nodes deep (the concise bounded description, which standard
    property paths cannot bound by node kind; citygraph's data nests one: a geometry). ``iris``
    must be valid IRIs; pyoxigraph writes them, they are never pasted raw.

    >>> q = describe_query(["http://ex.org/a"], depth=1)
    >>> q.startswith("CONSTRUCT { ?s ?p ?o . ?o ?p1 ?o1 . } WHERE { VALUES ?s { <http://ex.org/a>")
    True
    >>> q.endswith("?s ?p ?o OPTIONAL { ?o ?p1 ?o1 FILTER(isBlank(?o)) } }")
    True
    """
    values = " ".join(str(ox.NamedNode(iri)) for iri in iris)
    template = "?s ?p ?o . " + "".join(f"?o{_n(i)} ?p{i + 1} ?o{i + 1} . " for i in range(depth))
    where = ""
    for i in reversed(range(depth)):
        inner = f" {where}" if where else ""
        where = f"OPTIONAL {{ ?o{_n(i)} ?p{i + 1} ?o{i + 1} FILTER(isBlank(?o{_n(i)})){inner} }}"
    return f"CONSTRUCT {{ {template}}} WHERE {{ VALUES ?s {{ {values} }} ?s ?p ?o {where} }}"


def _n(i: int) -> str:
    return str(i) if i else ""


#: Virtuoso's SQL states for errors that are the query's fault (SPARQL compiler, bad
#: arguments, unsupported features) and for its execution-time limit.
_VIRTUOSO_QUERY_STATES = ("37000", "22023", "42000", "07S01", "22007", "22005", "42001")
_VIRTUOSO_TIMEOUT_STATES = ("S1T00",)


def classify_error(dialect: Dialect, status: int, body: str) -> ErrorKind:
    """Whose fault a failed request to the store is: the query's, the clock's or the store's.

    >>> classify_error(DIALECTS["virtuoso"], 500,
    ...     "Virtuoso 07S01 Error SR183: Required argument delim (no 3) not supplied")
    'query'
    >>> classify_error(DIALECTS["virtuoso"], 500, "Virtuoso 42000 Error The estimated "
    ...     "execution time 29817 (sec) exceeds the limit of 400 (sec).")
    'timeout'
    >>> classify_error(DIALECTS["standard"], 400, "Parser error")
    'query'
    >>> classify_error(DIALECTS["standard"], 503, "")
    'backend'
    """
    if dialect.name == "virtuoso" and body.startswith("Virtuoso "):
        state = body.split(" ", 2)[1]
        if state in _VIRTUOSO_TIMEOUT_STATES or "estimated execution time" in body:
            return "timeout"
        if state in _VIRTUOSO_QUERY_STATES:
            return "query"
    if 400 <= status < 500 and status not in (401, 403, 404, 408, 429):
        return "query"
    return "backend"


def is_complete(dialect: Dialect, headers: Mapping[str, str]) -> bool:
    """False when a store's 200 answer holds only part of the result (Virtuoso's anytime query).

    ``headers`` must match names case-insensitively (httpx's ``Headers`` do).

    >>> is_complete(DIALECTS["virtuoso"], {"X-SQL-State": "S1TAT"})
    False
    >>> is_complete(DIALECTS["virtuoso"], {})
    True
    """
    if dialect.name != "virtuoso":
        return True
    state = headers.get("X-SQL-State") or headers.get("x-sql-state")
    return state != "S1TAT"

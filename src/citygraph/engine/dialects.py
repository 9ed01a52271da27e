"""How SPARQL stores differ, and what citygraph does about it: the one list (issue 11 §1).

A remote backend (:mod:`citygraph.engine.remote`) speaks only the standards: SPARQL 1.1 Query,
Update and Protocol, the Graph Store Protocol. Stores read them differently. Every difference
citygraph knows of is named here, with what citygraph does about it; the corrections are the
functions of this module, which the remote backend calls. Each is checked against a real
Virtuoso in ``tests/dialects/test_virtuoso_dialect.py`` (the raw behaviour, so a store that
changes is noticed, and the answer after this module). docs/scaling.md is the operator's view.

* **Result media types.** citygraph asks for ``application/sparql-results+json`` (SELECT, ASK)
  and ``application/n-triples`` (CONSTRUCT, DESCRIBE) first (:data:`QUERY_ACCEPT`), parses the
  answer and serialises it itself in the format the client negotiated; it never relays a
  store's own CSV, TSV, XML or Turtle. Virtuoso's TSV loses language tags and writes IRIs as
  strings, its CSV quotes every cell, a SELECT asked as Turtle comes back in the DAWG
  result-set vocabulary, a CONSTRUCT asked with JSON results first in ``Accept`` comes back as
  ``?s ?p ?o`` rows, and it has no N-Quads or JSON-LD results (406). So citygraph's ``Accept``
  names only the formats of the query's form.
* **Union default graph.** citygraph's queries see the union of its graphs as default graph;
  Oxigraph's server has a default graph of its own, Virtuoso's is every graph of the server
  (its system graphs included), and given the build's graphs as ``default-graph-uri`` Virtuoso
  chooses slow plans. citygraph names the union in every query, by listing the build's graphs
  or on Virtuoso by excluding the graphs that are not (:attr:`Dialect.union_by_exclusion`):
  :mod:`citygraph.engine.datasets`, which also says what a Graph Store read of the default
  graph and a whole-dataset read name. A query Virtuoso refuses for the cost it estimates with
  the exclusions is sent again with the graphs listed (:func:`refused_by_estimate`).
* **Reads during a commit.** Oxigraph's queries read a snapshot; Virtuoso's read each row as
  last committed (read committed), so a query running while the switch to a new build commits
  can mix the two builds (:attr:`Dialect.snapshot_reads`): there each answer is kept only
  between two equal stamps of the store's build (:mod:`citygraph.engine.remote_stamps`).
* **Service description.** citygraph serves its own (``GET /sparql``); a store's is never
  relayed (Virtuoso's names ``http://localuriqaserver/sparql`` as its endpoint).
* **DESCRIBE.** Each store defines its own. Oxigraph returns the concise bounded description
  (the resource's triples and those of its blank nodes); Virtuoso adds the triples *pointing
  to* the resource, and returns nothing for some resources (one whose only triple is a label).
  :func:`rewrite_describe` sends the CONSTRUCT of :func:`describe_query` instead, which gives
  Oxigraph's answer on any store, for a DESCRIBE of IRIs (the form the pages' "data" links and
  most clients use); a DESCRIBE of variables stays the store's own.
* **Blank nodes.** Labels mean something only within one answer (as the standard says).
  Virtuoso writes ``nodeID://b10230`` in JSON and XML results, which is not a valid label
  (pyoxigraph refuses it): it becomes ``vb10230``.
* **Literals.** Virtuoso writes ``typed-literal`` (SPARQL 1.0's JSON; pyoxigraph reads it),
  gives plain strings the datatype ``xsd:string`` (the same term in RDF 1.1), writes booleans
  as ``"1"``/``"0"`` (made ``true``/``false`` here) and stores a ``geo:wktLiteral`` as its
  own ``virtrdf:Geometry`` (the datatype is mapped back here) with single-precision
  coordinates: ``POINT(7.14816 51.25627)`` comes back as ``POINT(7.1481599807739
  51.256271362305)``. That loss happens when the data is loaded and cannot be undone; it moves
  a map pin by less than a metre. A *computed* boolean (``BIND(true AS ?b)``) is
  ``"1"^^xsd:integer`` on Virtuoso: no query of citygraph computes one.
* **Language tags** are lower case on both stores tested (``zh-Hans`` becomes ``zh-hans``,
  as on the embedded store); pages compare them case-insensitively.
* **Aggregates** keep each store's numeric types and lexical forms: ``SUM`` of a decimal and a
  double is a double on Oxigraph, a decimal on Virtuoso; ``AVG`` has 18 digits on Oxigraph, 15
  on Virtuoso; a double is ``"2"`` on one and ``"2.0"`` on the other. citygraph's own queries
  only count (``COUNT`` is ``xsd:integer`` everywhere). ``GROUP_CONCAT`` without
  ``separator`` fails on Virtuoso: citygraph's queries always name one.
* **Ordering.** ``ORDER BY`` over one kind of term agrees; over mixed kinds the stores differ
  (Virtuoso sorts literals before IRIs, against SPARQL 1.1 §15.1), and without ``ORDER BY``
  no order is promised. citygraph's queries order by one kind of term.
* **Partial answers.** Virtuoso's "anytime query" answers with the rows found so far when
  its time limit strikes, but only for a client that sends its ``timeout`` request parameter:
  with it, one run of a cross product answered ``200`` with no ``X-SQL-State`` header and 6 %
  of the rows (other runs: 500, ``S1TAT``), so nothing would tell such an answer from a
  complete one. citygraph never sends ``timeout``. Without it, a query stopped by the
  server's ``MaxQueryExecutionTime`` fails (500, SQL state ``S1TAT``), which
  :func:`classify_error` reads as a timeout. An answer that still says it is partial (HTTP
  206, or ``X-SQL-State: S1TAT``) is a timeout too, never the result (:func:`is_complete`).
  A query whose *estimated* cost exceeds ``MaxQueryCostEstimationTime`` is refused before it
  starts (500, SQL state 42000).
* **The deadline.** SPARQL 1.1 Protocol has no way to cancel a query. Closing the connection
  stops Oxigraph's server only while it streams (an aggregate goes on until its
  ``--timeout-s``), and Virtuoso only when it notices, which a busy Virtuoso did not in
  minutes. Virtuoso cannot be told citygraph's deadline without enabling partial answers (the
  item above): it goes on evaluating a query citygraph gave up on until its own
  ``MaxQueryExecutionTime`` (``[SPARQL]`` section of virtuoso.ini), which its operator sets.
* **Errors.** Virtuoso answers a syntax error with 400 but a query it cannot run (an
  unsupported function, a missing argument) with 500, both as ``text/plain`` starting with
  its SQL state: :func:`classify_error` reads that, so the query's fault is the client's 400,
  a timeout a 503, and only the store's own failure a 502. Its syntax errors name a line but
  no column: when a store refuses a query, citygraph parses it itself, and a syntax error
  pyoxigraph finds is reported in its words (line and column), the same on every backend.
* **Graph Store Protocol.** Virtuoso's endpoint is ``/sparql-graph-crud``; it takes the
  standard ``graph=`` (and its own ``graph-uri=``). ``MOVE`` and ``DROP SILENT`` work.

The dialect of a store is read from its HTTP ``Server`` header (:func:`detect`): no setting.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import pyoxigraph as ox

__all__ = [
    "DESCRIBE_DEPTH",
    "DIALECTS",
    "QUERY_ACCEPT",
    "Dialect",
    "ErrorKind",
    "classify_error",
    "describe_query",
    "detect",
    "is_complete",
    "local_syntax_error",
    "normalise_binding",
    "normalise_term",
    "query_form",
    "refused_by_estimate",
    "rewrite_describe",
    "rewrite_stream",
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

#: How many blank nodes deep :func:`describe_query` follows (Oxigraph's DESCRIBE: unbounded).
DESCRIBE_DEPTH = 3


@dataclass(frozen=True)
class Dialect:
    """What citygraph must know about a store to get standard answers from it."""

    #: The name settings use (``CITYGRAPH_BACKEND_DIALECT``).
    name: str
    #: Datatype IRIs the store invents, mapped back to the standard ones.
    datatypes: Mapping[str, str]
    #: Prefix of blank-node labels that are not valid labels (``nodeID://``), or "".
    blank_node_prefix: str = ""
    #: Byte strings replaced in a store's JSON results and N-Triples as they stream in
    #: (:func:`rewrite_stream`): the same corrections as :func:`normalise_binding`.
    byte_rewrites: tuple[tuple[bytes, bytes], ...] = ()
    #: Name the union default graph by excluding the graphs that are not the build's, rather
    #: than by listing the build's graphs (:func:`citygraph.engine.datasets.union_dataset`).
    union_by_exclusion: bool = False
    #: The store's default graph is the union of all its graphs
    #: (see :func:`citygraph.engine.datasets.default_graph`).
    default_is_every_graph: bool = False
    #: A query reads a snapshot of the store taken when it began; if not, a query running
    #: while an update commits can read rows from before and after it, and citygraph keeps an
    #: answer only between two equal stamps (:mod:`citygraph.engine.remote_stamps`).
    snapshot_reads: bool = True


DIALECTS: Mapping[str, Dialect] = {
    # Oxigraph's server started with --union-default-graph; also the assumption for any store not
    # listed (Fuseki with tdb2:unionDefaultGraph, GraphDB, QLever: docs/scaling.md).
    "standard": Dialect("standard", datatypes={}),
    "virtuoso": Dialect(
        "virtuoso",
        datatypes={VIRTUOSO_GEOMETRY: WKT_LITERAL},
        blank_node_prefix="nodeID://",
        byte_rewrites=(
            # Exactly as Virtuoso 7.2 writes JSON results and N-Triples (type before value).
            (b'"type": "bnode", "value": "nodeID://', b'"type": "bnode", "value": "v'),
            (
                b'"datatype": "' + XSD_BOOLEAN.encode() + b'", "value": "1"',
                b'"datatype": "' + XSD_BOOLEAN.encode() + b'", "value": "true"',
            ),
            (
                b'"datatype": "' + XSD_BOOLEAN.encode() + b'", "value": "0"',
                b'"datatype": "' + XSD_BOOLEAN.encode() + b'", "value": "false"',
            ),
            (b'"1"^^<' + XSD_BOOLEAN.encode() + b">", b'"true"^^<' + XSD_BOOLEAN.encode() + b">"),
            (b'"0"^^<' + XSD_BOOLEAN.encode() + b">", b'"false"^^<' + XSD_BOOLEAN.encode() + b">"),
            (VIRTUOSO_GEOMETRY.encode(), WKT_LITERAL.encode()),
        ),
        union_by_exclusion=True,
        default_is_every_graph=True,
        snapshot_reads=False,
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


def refused_by_estimate(dialect: Dialect, body: str) -> bool:
    """Whether the store refused a query, before running it, for its estimated cost.

    Virtuoso's estimate grows with each excluded graph: ``sources-disagree.rq`` (a ``FILTER NOT
    EXISTS``), after a publication, is estimated at 0.1 s with the build's graphs listed, at
    1,163 s with 6 exclusions and 2,547 s with 12 (and refused, ``MaxQueryCostEstimationTime``)
    while it runs in 0.05 s. So a query refused so with the exclusions is sent again with the
    graphs listed (:attr:`citygraph.engine.datasets.Dataset.fallback`): one more round trip
    for the few such queries.

    >>> refused_by_estimate(DIALECTS["virtuoso"], "Virtuoso 42000 Error The estimated "
    ...     "execution time 2547 (sec) exceeds the limit of 400 (sec).")
    True
    """
    return dialect.name == "virtuoso" and "estimated execution time" in body


def rewrite_stream(dialect: Dialect, chunks: Iterable[bytes]) -> Iterator[bytes]:
    """``chunks`` of a store's answer with :attr:`Dialect.byte_rewrites` applied, still streamed.

    A pattern cut by a chunk boundary is found: the last bytes of a chunk that could begin one
    wait for the next chunk.

    >>> answer = [b'{"x": { "type": "bnode", "va', b'lue": "nodeID://b7" }}']
    >>> b"".join(rewrite_stream(DIALECTS["virtuoso"], answer))
    b'{"x": { "type": "bnode", "value": "vb7" }}'
    """
    if not dialect.byte_rewrites:
        yield from chunks
        return
    keep = max(len(old) for old, _ in dialect.byte_rewrites) - 1
    carry = b""
    for chunk in chunks:
        data = carry + chunk
        for old, new in dialect.byte_rewrites:
            data = data.replace(old, new)
        carry = data[-keep:] if len(data) > keep else data
        ready = data[: len(data) - len(carry)]
        if ready:
            yield ready
    if carry:
        yield carry


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


_DESCRIBE_IRIS = re.compile(
    r"""(?P<prologue>(?:\s+|\#[^\n]*\n|PREFIX\s+[\w.-]*:\s*<[^<>\s]*>|BASE\s*<[^<>\s]*>)*)
        DESCRIBE\s+(?P<iris>(?:<[^<>"{}|^`\\\s]*>\s*)+)""",
    re.IGNORECASE | re.VERBOSE,
)


_FORM = re.compile(r"\b(SELECT|CONSTRUCT|DESCRIBE|ASK)\b", re.IGNORECASE)
_NOT_KEYWORDS = re.compile(r"<[^<>]*>|#[^\n]*")


def query_form(query: str) -> str | None:
    """The form of one of citygraph's own queries (its first form keyword), or None.

    For the queries citygraph writes (pages, listings, versions): a user's query has its form
    from the endpoint's tokenizer. IRIs and comments are skipped, strings are not.

    >>> query_form("PREFIX s: <http://ex.org/select#> CONSTRUCT WHERE { ?s ?p ?o }")
    'CONSTRUCT'
    """
    match = _FORM.search(_NOT_KEYWORDS.sub(" ", query))
    return match.group(1).upper() if match else None


def rewrite_describe(query: str) -> str | None:
    """:func:`describe_query` for a ``DESCRIBE`` of absolute IRIs only (no ``WHERE``), or None.

    Any other query (a DESCRIBE of variables, prefixed names or relative IRIs included) is
    left to the store: its DESCRIBE is its own (see the module docstring).

    >>> rewrite_describe("PREFIX a: <http://a/> DESCRIBE <http://ex.org/x>")[:9]
    'CONSTRUCT'
    >>> rewrite_describe("DESCRIBE ?x WHERE { ?x ?p 1 }") is None
    True
    """
    match = _DESCRIBE_IRIS.fullmatch(query)
    if match is None:
        return None
    iris = re.findall(r"<([^<>]*)>", match.group("iris"))
    if not all(re.match(r"[A-Za-z][A-Za-z0-9+.-]*:", iri) for iri in iris):
        return None
    try:
        return describe_query(iris)
    except ValueError:  # not an IRI pyoxigraph accepts: the store will say so
        return None


def local_syntax_error(query: str) -> str | None:
    """pyoxigraph's syntax error for ``query`` (``error at L:C: …``), or None if it parses.

    Only parses: the query is never evaluated (pyoxigraph evaluates lazily, and a query that
    mentions SERVICE is not even handed to it, so nothing is ever fetched).

    >>> local_syntax_error("SELECT * { ?s ?p ?o } x")
    'error at 1:24: expected [_]'
    >>> local_syntax_error("SELECT * { ?s ?p ?o }") is None
    True
    """
    if "service" in query.lower():
        return None
    try:
        ox.Store().query(query)
    except SyntaxError as error:
        return str(error)
    except (OSError, ValueError, RuntimeError):
        return None
    return None


def _n(i: int) -> str:
    return str(i) if i else ""


#: Virtuoso's SQL states for errors that are the query's fault (SPARQL compiler, bad
#: arguments, unsupported features) and for its execution-time limit.
_VIRTUOSO_QUERY_STATES = ("37000", "22023", "42000", "07S01", "22007", "22005", "42001")
#: S1TAT is the anytime query's ("Returning partial results after anytime timeout").
_VIRTUOSO_TIMEOUT_STATES = ("S1T00", "S1TAT")


def classify_error(dialect: Dialect, status: int, body: str) -> ErrorKind:
    """Whose fault a failed request to the store is: the query's, the clock's or the store's.

    >>> classify_error(DIALECTS["virtuoso"], 500,
    ...     "Virtuoso 07S01 Error SR183: Required argument delim (no 3) not supplied")
    'query'
    >>> classify_error(DIALECTS["virtuoso"], 500, "Virtuoso 42000 Error The estimated "
    ...     "execution time 29817 (sec) exceeds the limit of 400 (sec).")
    'timeout'
    >>> classify_error(DIALECTS["virtuoso"], 500, "Virtuoso S1TAT Error RC...: Returning "
    ...     "incomplete results, query interrupted by result timeout.")
    'timeout'
    >>> classify_error(DIALECTS["standard"], 400, "Parser error")
    'query'
    >>> classify_error(DIALECTS["standard"], 503, "")
    'backend'
    """
    if dialect.name == "virtuoso" and body.startswith("Virtuoso "):
        state = body.split(" ", 2)[1]
        if state in _VIRTUOSO_TIMEOUT_STATES or refused_by_estimate(dialect, body):
            return "timeout"
        if state in _VIRTUOSO_QUERY_STATES:
            return "query"
    if 400 <= status < 500 and status not in (401, 403, 404, 408, 429):
        return "query"
    return "backend"


def is_complete(dialect: Dialect, status: int, headers: Mapping[str, str]) -> bool:
    """False when a store's successful answer holds only part of the result: HTTP 206 (no
    range was asked for), or Virtuoso's anytime query marked ``X-SQL-State: S1TAT``.

    ``headers`` must match names case-insensitively (httpx's ``Headers`` do).

    >>> is_complete(DIALECTS["virtuoso"], 200, {"X-SQL-State": "S1TAT"})
    False
    >>> is_complete(DIALECTS["virtuoso"], 206, {})
    False
    >>> is_complete(DIALECTS["standard"], 206, {})
    False
    >>> is_complete(DIALECTS["virtuoso"], 200, {})
    True
    """
    if status == 206:
        return False
    if dialect.name != "virtuoso":
        return True
    state = headers.get("X-SQL-State") or headers.get("x-sql-state")
    return state != "S1TAT"

"""The pages' view of a remote store: the part of ``pyoxigraph.Store`` they use, over SPARQL.

The linked-data pages, documents, listings and statistics call ``query(…, substitutions=,
use_default_graph_as_union=)``, ``quads_for_pattern`` and ``named_graphs`` on a
:class:`pyoxigraph.Store`. :class:`RemoteStore` answers the same calls from a SPARQL 1.1
endpoint, so that code is unchanged:

- ``substitutions`` become a trailing ``VALUES`` clause (the same bindings: pyoxigraph, too,
  binds only variables the query projects, see :mod:`citygraph.dataset`);
- the union default graph is named as the store's dialect says (see
  :func:`citygraph.engine.datasets.union_dataset`);
- answers are parsed with ``pyoxigraph.parse_query_results`` / ``pyoxigraph.parse``; a graph
  result is returned as a real :class:`pyoxigraph.QueryTriples` (read into a small in-memory
  store first: the pages' graph results are one thing's document).

:class:`RemoteHandle` is the remote :class:`~citygraph.engine.snapshots.StoreHandle`: it reads
the store's version at most every ``check_interval`` seconds and starts a new
:class:`~citygraph.engine.snapshots.Snapshot` (with fresh caches) when it changes.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Mapping
from typing import cast

import pyoxigraph as ox

from citygraph.engine.datasets import union_graphs
from citygraph.engine.remote import Backend, RemotePool
from citygraph.engine.snapshots import Snapshot

__all__ = ["RemoteHandle", "RemoteStore"]

#: Seconds a page's question to the store may take.
PAGE_QUERY_TIMEOUT = 60.0

Term = ox.NamedNode | ox.BlankNode | ox.Literal


class RemoteStore:
    """The subset of :class:`pyoxigraph.Store` the pages use, answered by a remote store."""

    def __init__(self, pool: RemotePool, *, timeout: float = PAGE_QUERY_TIMEOUT) -> None:
        self.pool = pool
        self.timeout = timeout

    def query(
        self,
        query: str,
        *,
        base_iri: str | None = None,
        use_default_graph_as_union: bool = False,
        substitutions: Mapping[ox.Variable, Term] | None = None,
        default_graph: list[ox.NamedNode] | None = None,
        named_graphs: list[ox.NamedNode] | None = None,
    ) -> ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples:
        """Evaluate ``query`` like :meth:`pyoxigraph.Store.query`.

        Raises:
            SyntaxError: the store refused the query.
            QueryTimeoutError, BackendError: see :class:`~citygraph.engine.remote.SparqlClient`.
        """
        text = substitute(query, substitutions) if substitutions else query
        if base_iri:
            text = f"BASE <{base_iri}>\n{text}"
        default: tuple[str, ...] | None = None
        named: tuple[str, ...] | None = None
        union = None
        if default_graph is not None or named_graphs is not None:
            default = tuple(g.value for g in default_graph or ())
            named = tuple(g.value for g in named_graphs or ())
        elif use_default_graph_as_union:
            union = self.pool.union_dataset(timeout=self.timeout)
        else:
            # As on the embedded store: citygraph's graphs are the named graphs and the default
            # graph is empty (a store's own default graph may hold its system graphs: Virtuoso).
            named = union_graphs(self.pool.graph_names(timeout=self.timeout))
        result = self.pool.client.query(
            text, timeout=self.timeout, default_graphs=default, named_graphs=named, dataset=union
        )
        if isinstance(result, ox.QuerySolutions | ox.QueryBoolean):
            return result
        return _query_triples(result)

    def quads_for_pattern(
        self,
        subject: Term | None,
        predicate: ox.NamedNode | None,
        obj: Term | None,
        graph_name: ox.NamedNode | ox.DefaultGraph | None = None,
    ) -> Iterator[ox.Quad]:
        """The quads of the named graphs matching the pattern (``None``: any)."""
        if isinstance(graph_name, ox.DefaultGraph):
            return iter(())  # a build keeps nothing in the default graph
        pattern = {"s": subject, "p": predicate, "o": obj, "g": graph_name}
        bound = {name: term for name, term in pattern.items() if term is not None}
        query = "SELECT ?s ?p ?o ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
        result = self.query(query, substitutions={ox.Variable(k): v for k, v in bound.items()})
        assert isinstance(result, ox.QuerySolutions)
        return (ox.Quad(row["s"], row["p"], row["o"], row["g"]) for row in result)

    def named_graphs(self) -> Iterator[ox.NamedNode]:
        return (ox.NamedNode(g) for g in self.pool.graph_names(timeout=self.timeout))

    def contains_named_graph(self, graph: ox.NamedNode) -> bool:
        return graph.value in self.pool.graph_names(timeout=self.timeout)


def substitute(query: str, substitutions: Mapping[ox.Variable, Term]) -> str:
    """``query`` with the variables of ``substitutions`` bound by writing their terms in place.

    A trailing ``VALUES`` clause is the obvious translation, but it joins after everything else
    is evaluated: Oxigraph then built the document of every thing to keep one (10 s instead of
    milliseconds). Written in place, the binding reaches every branch of a UNION. A variable
    in a projection becomes ``(term AS ?var)`` (so it is still projected, as pyoxigraph's
    substitutions keep it), in ``GROUP BY``/``ORDER BY`` ``(term)``, elsewhere the term.
    Strings, IRIs and comments are skipped. Not handled (the pages do not do it): ``SELECT *``
    (the variable is no longer in scope) and a variable assigned by ``BIND``/``AS``.

    >>> this = {ox.Variable("this"): ox.NamedNode("http://e/a")}
    >>> substitute("ASK { ?this ?p '?this' }", this)
    "ASK { <http://e/a> ?p '?this' }"
    >>> substitute("SELECT ?this (COUNT(*) AS ?n) { ?this ?p ?o } GROUP BY ?this", this)
    'SELECT (<http://e/a> AS ?this) (COUNT(*) AS ?n) { <http://e/a> ?p ?o } GROUP BY (<http://e/a>)'
    """
    terms = {v.value: str(t) for v, t in substitutions.items()}
    mode = "pattern"

    def replace(match: re.Match[str]) -> str:
        nonlocal mode
        word = (match.group("word") or "").upper()
        if word == "SELECT":
            mode = "projection"
        elif word in ("GROUP", "ORDER"):
            mode = "modifier"
        elif word in ("WHERE", "{", "}", "LIMIT", "OFFSET", "HAVING", "VALUES"):
            mode = "pattern"
        name = match.group("var")
        if name is None or name[1:] not in terms:
            return match.group(0)
        term = terms[name[1:]]
        if mode == "projection":
            return f"({term} AS {name})"
        return f"({term})" if mode == "modifier" else term

    return _TOKENS.sub(replace, query)


#: Strings, IRIs, comments, variables and the words that start a part of a query.
_TOKENS = re.compile(
    r'"""(?:[^"\\]|\\.|"(?!""))*"""' + r"|'''(?:[^'\\]|\\.|'(?!''))*'''"
    r'|"(?:[^"\\\n]|\\.)*"' + r"|'(?:[^'\\\n]|\\.)*'"
    r'|<[^<>"{}|^`\\\x00-\x20]*>|\#[^\n]*'
    r"|(?P<var>[?$]\w+)"
    r"|(?P<word>[{}]|(?<![\w:])(?:SELECT|WHERE|GROUP|ORDER|LIMIT|OFFSET|HAVING|VALUES)(?![\w:]))",
    re.IGNORECASE,
)


def _query_triples(triples: Iterator[ox.Triple]) -> ox.QueryTriples:
    memory = ox.Store()
    memory.extend(ox.Quad(t.subject, t.predicate, t.object) for t in triples)
    result = memory.query("CONSTRUCT WHERE { ?s ?p ?o }")
    assert isinstance(result, ox.QueryTriples)
    return result


class RemoteHandle:
    """The remote store's current build for the pages (the remote ``StoreHandle``)."""

    def __init__(
        self,
        backend: Backend,
        *,
        check_interval: float,
        connections: int = 8,
        version_timeout: float = 30.0,
    ) -> None:
        # The pages ask the store through ``pool.client`` (``connections`` sizes its connection
        # pool), not through ``pool.run``: its query count does not apply.
        self.pool = RemotePool(
            backend,
            max_concurrent=connections,
            check_interval=check_interval,
            version_timeout=version_timeout,
        )
        self._lock = threading.Lock()
        self._snapshot: Snapshot | None = None
        self._started = False

    def snapshot(self) -> Snapshot:
        """The snapshot of the store's current build (a new one when its version changed).

        The store's version is read outside the lock (at most every ``check_interval``
        seconds, by one caller; the others go on with the version last read): while the store
        is slow or down, page requests do not queue behind one read.

        Raises:
            StoreNotFoundError: the store holds no citygraph build.
            BackendError: the store cannot be reached.
        """
        if not self._started:
            self.pool.start()
            self._started = True
        else:
            self.pool.check_for_new_build()
        version = self.pool.version
        with self._lock:
            if self._snapshot is None or self._snapshot.version != version:
                store = cast(ox.Store, RemoteStore(self.pool))  # the subset the pages use
                self._snapshot = Snapshot(store=store, version=version)
            return self._snapshot

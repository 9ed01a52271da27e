"""The changes a write applies, as plain data the write process can receive.

:class:`UpdateChange` (SPARQL Update) and :class:`GraphChange` (Graph Store PUT, POST, DELETE)
are sent to :mod:`citygraph.engine.write_process`, which applies them to the copy of the current
build (:func:`citygraph.engine.writes.transaction`). Everything that runs the engine on client
input (parsing the update or the body, executing it) happens in :meth:`Change.apply`, so in that
process. Refusals are domain errors (:mod:`citygraph.engine.errors`); the web layer gives them
their statuses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

import pyoxigraph as ox

from citygraph.engine.errors import (
    EvaluationError,
    GraphExistsError,
    GraphNotFoundError,
    InvalidChangeError,
    syntax_checked,
)

__all__ = ["Change", "GraphChange", "UpdateChange"]

# pyoxigraph 0.5's messages for a missing / an existing graph (pinned by tests/web/test_update.py).
_GRAPH_MISSING = re.compile(r"^The graph <[^>]*> does not exist$")
_GRAPH_EXISTS = re.compile(r"^The graph <[^>]*> already exists$")


class Change(Protocol):
    """A change to a writable store; returns whether it created the graph it names."""

    def apply(self, store: ox.Store) -> bool:
        """Apply the change to ``store``; raise to abandon the write."""
        ...


@dataclass(frozen=True)
class UpdateChange:
    """A SPARQL Update (its text, with ``USING`` added for protocol parameters)."""

    text: str
    base_iri: str

    def apply(self, store: ox.Store) -> bool:
        """Apply the update, reading the engine's refusals into citygraph's errors.

        SPARQL 1.1 Update §3.1.5 and §3.2 make ``CLEAR``, ``DROP``, ``MOVE`` (…) of a graph that
        does not exist, and ``CREATE`` of one that does, fail unless ``SILENT`` is given. Those
        are the client's to fix (the web layer answers 404 naming the missing graph, as a Graph
        Store ``DELETE`` of it answers, Graph Store Protocol §5.4; 409 naming the existing one).

        Raises:
            InputSyntaxError: the update does not parse.
            GraphNotFoundError: the update needs a graph that does not exist.
            GraphExistsError: the update creates a graph that exists.
            EvaluationError: the engine failed otherwise.
        """
        try:
            syntax_checked(lambda: store.update(self.text, base_iri=self.base_iri))
        except RuntimeError as error:
            message = str(error)
            if _GRAPH_MISSING.match(message):
                raise GraphNotFoundError(
                    f"{message}: the update fails (SPARQL 1.1 Update §3); add SILENT to ignore "
                    "missing graphs"
                ) from None
            if _GRAPH_EXISTS.match(message):
                raise GraphExistsError(
                    f"{message}: CREATE fails (SPARQL 1.1 Update §3.2.1); add SILENT to ignore it"
                ) from None
            raise EvaluationError(f"the update failed during evaluation: {message}") from None
        return False


@dataclass(frozen=True)
class GraphChange:
    """A Graph Store write: ``method`` (``PUT``, ``POST``, ``DELETE``) on ``graph`` (``None``:
    the default graph), with the ``body`` in ``media_type`` (a graph format pyoxigraph reads),
    relative IRIs resolved against ``base_iri``."""

    method: str
    graph: str | None
    body: bytes = b""
    media_type: str = ""
    base_iri: str = ""

    def apply(self, store: ox.Store) -> bool:
        """Replace, merge into or delete the graph; return whether it was created.

        Raises:
            InputSyntaxError: the body does not parse.
            InvalidChangeError: a JSON-LD body that names graphs.
            GraphNotFoundError: DELETE of a graph that does not exist.
        """
        graph = ox.DefaultGraph() if self.graph is None else ox.NamedNode(self.graph)
        quads = self._quads(graph) if self.method in ("PUT", "POST") else []
        existed = isinstance(graph, ox.DefaultGraph) or store.contains_named_graph(graph)
        if self.method == "DELETE":
            if not existed:
                raise GraphNotFoundError(f"there is no graph <{self.graph}>")
            if isinstance(graph, ox.DefaultGraph):
                store.clear_graph(graph)
            else:
                store.remove_graph(graph)
            return False
        if self.method == "PUT" and existed:
            store.clear_graph(graph)
        if not isinstance(graph, ox.DefaultGraph):
            store.add_graph(graph)
        store.extend(quads)
        return not existed

    def _quads(self, graph: ox.NamedNode | ox.DefaultGraph) -> list[ox.Quad]:
        fmt = ox.RdfFormat.from_media_type(self.media_type)
        assert fmt is not None, "the worker checks the media type (415) before"
        parsed = syntax_checked(
            lambda: list(ox.parse(self.body, format=fmt, base_iri=self.base_iri))
        )
        for quad in parsed:
            # JSON-LD can name graphs (a top-level @id with @graph); the body of a graph
            # write is one graph (Graph Store Protocol §5.3), so it must not.
            if not isinstance(quad.graph_name, ox.DefaultGraph):
                raise InvalidChangeError(
                    f"the body names the graph {quad.graph_name}; a Graph Store write carries "
                    "one graph, named by ?graph=<IRI> or ?default (drop the @id next to @graph)"
                )
        return [ox.Quad(q.subject, q.predicate, q.object, graph) for q in parsed]

"""The SPARQL 1.1 Graph Store HTTP Protocol operations, independent of the web framework.

https://www.w3.org/TR/sparql11-http-rdf-update/: reading (§5.2), replacing (§5.3), deleting
(§5.4) and merging into (§5.5) one graph, named by indirect identification (``?graph=<IRI>`` or
``?default``), or reading the whole dataset. ``routes_store.py`` reads the HTTP request, calls
one method of :class:`GraphStore` and sends the :class:`~citygraph.web.answers.Answer`.

A :class:`GraphStore` works through its server worker's :class:`~citygraph.web.endpoint.Endpoint`,
so a graph read gets the same query processes, ETags and caches as a query, and a graph write
the same token check and copy-on-write build as a SPARQL Update.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pyoxigraph as ox

from citygraph.engine.changes import GraphChange
from citygraph.engine.jobs import DatasetJob, GraphJob, Job
from citygraph.web import formats
from citygraph.web.answers import Answer
from citygraph.web.endpoint import Endpoint, not_acceptable
from citygraph.web.formats import DATASET_FORMATS, GRAPH_FORMATS
from citygraph.web.nesting import check_rdf
from citygraph.web.problems import BadRequestError, UnsupportedMediaTypeError
from citygraph.web.protocol import parse_content_type

__all__ = ["GraphStore", "GraphTarget"]

#: The offered formats a graph write reads: the triple formats, and JSON-LD, which pyoxigraph
#: counts as a dataset format as it can name graphs (bodies that do are refused).
_UPLOAD_FORMATS = tuple(f for f in GRAPH_FORMATS if f.name not in ("TRIG", "N_QUADS"))


@dataclass(frozen=True)
class GraphTarget:
    """The graph a Graph Store request is about: a named graph, the default graph or all."""

    iri: str | None = None
    default: bool = False

    @property
    def whole_dataset(self) -> bool:
        """Neither ``graph=`` nor ``default``: the request is about the whole dataset."""
        return self.iri is None and not self.default

    def term(self) -> ox.NamedNode | ox.DefaultGraph:
        """The graph as a pyoxigraph term."""
        return ox.DefaultGraph() if self.iri is None else ox.NamedNode(self.iri)


class GraphStore:
    """The Graph Store of one server worker, served through its ``endpoint``."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint

    def read(
        self,
        target: GraphTarget,
        *,
        accept: str | None,
        format_param: str | Sequence[str] | None,
        if_none_match: str | None,
    ) -> Answer:
        """GET of a graph (Graph Store HTTP Protocol §5.2), or of the whole dataset.

        Raises:
            NotFoundError: there is no such named graph.
            NotAcceptableError: no offered format is acceptable.
            PayloadTooLargeError, QueryTimeoutError, OverloadedError: see
                :meth:`Endpoint.answer <citygraph.web.endpoint.Endpoint.answer>`.
        """
        endpoint = self.endpoint
        endpoint.pool.check_for_new_build()
        limits = {
            "max_rows": endpoint.settings.max_result_rows,
            "max_bytes": endpoint.settings.max_response_bytes,
        }
        job: Job
        if target.whole_dataset:
            fmt = formats.choose(DATASET_FORMATS, accept=accept, format_param=format_param)
            if fmt is None:
                raise not_acceptable("the whole dataset", DATASET_FORMATS)
            job = DatasetJob(graph_format=fmt.name, **limits)
        else:
            fmt = formats.choose(GRAPH_FORMATS, accept=accept, format_param=format_param)
            if fmt is None:
                raise not_acceptable("a graph", GRAPH_FORMATS)
            job = GraphJob(graph=target.iri, graph_format=fmt.name, **limits)
        return endpoint.answer(job, if_none_match, what="graph read")

    def write(
        self,
        method: str,
        target: GraphTarget,
        *,
        content_type: str | None,
        body: bytes,
        authorization: str | None,
    ) -> Answer:
        """PUT, POST or DELETE a graph (Graph Store HTTP Protocol §5.3 to §5.5).

        Returns 201 when the graph was created, 204 otherwise.

        Raises:
            ForbiddenError, UnauthorizedError: see
                :meth:`Endpoint.authorize <citygraph.web.endpoint.Endpoint.authorize>`.
            BadRequestError: no graph named; the body nests too deeply.
            InputSyntaxError: the body does not parse.
            UnsupportedMediaTypeError: the body is not in a graph format.
            BadRequestError: a JSON-LD body that names graphs.
            NotFoundError: DELETE of a graph that does not exist.
        """
        self.endpoint.authorize(authorization)
        if target.whole_dataset:
            raise BadRequestError("name the graph to write: ?graph=<IRI> or ?default")
        media_type = ""
        if method in ("PUT", "POST"):
            media_type = self._upload_media_type(content_type)
            check_rdf(body, media_type)  # before any parser sees it (issue 9 §3)
        base = target.iri or self.endpoint.settings.base_iri
        change = GraphChange(method, target.iri, body, media_type, base)
        created = self.endpoint.write(change, f"{method} {target.iri or 'default graph'}")
        return Answer(status=201 if created else 204)

    def _upload_media_type(self, content_type: str | None) -> str:
        """The media type of an upload, if it is one the write can read.

        Raises:
            UnsupportedMediaTypeError: not a graph format, or not in UTF-8.
        """
        media, charset = parse_content_type(content_type)
        if charset not in (None, "utf-8", "utf8"):
            raise UnsupportedMediaTypeError(f"charset {charset!r} is not supported; send UTF-8")
        fmt = ox.RdfFormat.from_media_type(media) if media else None
        if fmt == ox.RdfFormat.JSON_LD and media != fmt.media_type:
            fmt = None  # plain application/json is not read as RDF: it rarely is
        if fmt is None or (fmt.supports_datasets and fmt != ox.RdfFormat.JSON_LD):
            raise UnsupportedMediaTypeError(
                f"cannot read a graph from Content-Type {media or '(none)'}; send one of "
                + ", ".join(f.media_type for f in _UPLOAD_FORMATS)
            )
        return media

"""``/store``: the SPARQL 1.1 Graph Store HTTP Protocol (https://www.w3.org/TR/sparql11-http-rdf-update/).

Indirect graph identification: ``?graph=<IRI>`` or ``?default``. Reads are always on; writes
need the update token. A GET without either returns the whole dataset (TriG or N-Quads).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from citygraph.web.dependencies import BodyDep, GraphStoreDep
from citygraph.web.graph_store import GraphTarget
from citygraph.web.problems import BadRequestError
from citygraph.web.protocol import check_graph_iri, parse_params
from citygraph.web.responses import to_response

__all__ = ["router"]

router = APIRouter()


def graph_target(query_string: bytes) -> tuple[GraphTarget, tuple[str, ...]]:
    """Read ``graph``/``default`` (and every ``format`` value) from the URL.

    Raises:
        BadRequestError: both given, repeated, or ``graph`` not an absolute IRI.
    """
    params = parse_params(query_string, where="URL")
    graphs = [value for name, value in params if name == "graph"]
    default = any(name == "default" for name, _ in params)
    formats = tuple(value for name, value in params if name == "format")
    if len(graphs) > 1:
        raise BadRequestError("give the graph parameter at most once")
    if graphs and default:
        raise BadRequestError("give either ?graph=<IRI> or ?default, not both")
    if graphs:
        return GraphTarget(iri=check_graph_iri(graphs[0], parameter="graph")), formats
    return GraphTarget(default=default), formats


@router.api_route("/store", methods=["GET", "HEAD"], name="store")
def read_graph(request: Request, graph_store: GraphStoreDep) -> Response:
    """GET/HEAD a graph (§5.2), or the whole dataset."""
    target, fmt = graph_target(request.scope["query_string"])
    answer = graph_store.read(
        target,
        accept=request.headers.get("accept"),
        format_param=fmt,
        if_none_match=request.headers.get("if-none-match"),
    )
    return to_response(request, answer)


@router.api_route("/store", methods=["PUT", "POST", "DELETE"])
def write_graph(request: Request, body: BodyDep, graph_store: GraphStoreDep) -> Response:
    """PUT (replace, §5.3), DELETE (§5.4) or POST (merge, §5.5) a graph; needs the token."""
    target, _ = graph_target(request.scope["query_string"])
    answer = graph_store.write(
        request.method,
        target,
        content_type=request.headers.get("content-type"),
        body=body,
        authorization=request.headers.get("authorization"),
    )
    return to_response(request, answer)

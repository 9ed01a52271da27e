"""``/sparql``: the SPARQL 1.1 query and update service (https://www.w3.org/TR/sparql11-protocol/)."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import APIRouter, Request
from fastapi.responses import Response

from citygraph.web.answers import Answer
from citygraph.web.dependencies import BodyDep, EndpointDep, SettingsDep, local_base
from citygraph.web.endpoint import Endpoint
from citygraph.web.frontend import language_links
from citygraph.web.i18n import choose_language
from citygraph.web.problems import MethodNotAllowedError
from citygraph.web.protocol import Operation, SparqlRequest, read_sparql_request
from citygraph.web.responses import to_response

__all__ = ["answer_query", "router"]

router = APIRouter()

ALLOW = ("GET", "HEAD", "POST")


@router.api_route("/sparql", methods=list(ALLOW), name="sparql")
def sparql(
    request: Request, body: BodyDep, endpoint: EndpointDep, settings: SettingsDep
) -> Response:
    """Query (GET or POST), update (POST), or the service description (GET without a query)."""
    method = "GET" if request.method == "HEAD" else request.method
    parsed = read_sparql_request(
        method=method,
        query_string=request.scope["query_string"],
        content_type=request.headers.get("content-type"),
        body=body,
        max_length=settings.max_query_length,
    )
    accept = request.headers.get("accept")
    if parsed.operation is Operation.QUERY:
        answer = answer_query(endpoint, parsed, request.headers)
    elif parsed.operation is Operation.UPDATE:
        answer = endpoint.update(parsed, authorization=request.headers.get("authorization"))
    else:
        site = local_base(request, settings)
        language = choose_language(
            request.query_params.get("lang"), request.headers.get("accept-language")
        )
        answer = endpoint.description(
            accept=accept,
            format_param=parsed.formats,
            endpoint=site + "sparql",
            site=site,
            language=language,
            languages=language_links(request),
        )
    return to_response(request, answer)


def answer_query(endpoint: Endpoint, parsed: SparqlRequest, headers: Mapping[str, str]) -> Answer:
    """The answer to a query request (its ``Accept`` and ``If-None-Match`` in ``headers``);
    shared by the route and the lean path (:mod:`citygraph.web.lean_path`). Blocks while a query
    process evaluates it: call it from a thread."""
    return endpoint.query(
        parsed, accept=headers.get("accept"), if_none_match=headers.get("if-none-match")
    )


@router.api_route("/sparql", methods=["PUT", "DELETE", "PATCH"], include_in_schema=False)
def sparql_other_methods(request: Request) -> Response:
    """The protocol defines GET and POST only (§2.1, §2.2): 405 with ``Allow``."""
    raise MethodNotAllowedError(request.method, ALLOW)

"""What routes get from the app: endpoint, Graph Store, settings, request body (bounded)."""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import Depends, Request
from fastapi.responses import Response

from citygraph.config import Settings
from citygraph.web.endpoint import Answer, Endpoint
from citygraph.web.fast_path import remember
from citygraph.web.graph_store import GraphStore
from citygraph.web.problems import PayloadTooLargeError

__all__ = ["BodyDep", "EndpointDep", "GraphStoreDep", "SettingsDep", "read_body", "to_response"]


def get_endpoint(request: Request) -> Endpoint:
    """The endpoint built at start-up (see :func:`citygraph.web.app.create_app`)."""
    return cast(Endpoint, request.app.state.endpoint)


def get_graph_store(request: Request) -> GraphStore:
    """The Graph Store built at start-up beside the endpoint (see :func:`get_endpoint`)."""
    return cast(GraphStore, request.app.state.graph_store)


def get_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    return cast(Settings, request.app.state.settings)


async def read_body(request: Request) -> bytes:
    """The request body, refused with 413 beyond ``max_upload_bytes`` (before reading it all)."""
    limit = get_settings(request).max_upload_bytes
    too_large = PayloadTooLargeError(
        f"the request body is larger than {limit:,} bytes, this endpoint's limit"
    )
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        raise too_large
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


EndpointDep = Annotated[Endpoint, Depends(get_endpoint)]
GraphStoreDep = Annotated[GraphStore, Depends(get_graph_store)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
BodyDep = Annotated[bytes, Depends(read_body)]


def to_response(request: Request, answer: Answer) -> Response:
    """Turn an :class:`Answer` into a response; note query time and cache use for the log."""
    headers = dict(answer.headers)
    if answer.etag is not None:
        headers["ETag"] = answer.etag
    if answer.query_seconds is not None:
        request.state.query_ms = round(answer.query_seconds * 1000, 2)
    if answer.cacheable:
        request.state.cache = "hit" if answer.cached else "miss"
        remember(get_endpoint(request), request.scope, answer)
    body = b"" if answer.status == 304 else answer.body
    return Response(
        content=body, status_code=answer.status, media_type=answer.content_type, headers=headers
    )

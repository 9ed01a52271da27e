"""What routes get from the app: endpoint, Graph Store, settings, request body (bounded)."""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import Depends, Request

from citygraph.config import Settings
from citygraph.web.endpoint import Endpoint
from citygraph.web.graph_store import GraphStore
from citygraph.web.problems import PayloadTooLargeError

__all__ = ["BodyDep", "EndpointDep", "GraphStoreDep", "SettingsDep", "local_base", "read_body"]


def get_endpoint(request: Request) -> Endpoint:
    """The endpoint built at start-up (see :func:`citygraph.web.app.create_app`)."""
    return cast(Endpoint, request.app.state.endpoint)


def get_graph_store(request: Request) -> GraphStore:
    """The Graph Store built at start-up beside the endpoint (see :func:`get_endpoint`)."""
    return cast(GraphStore, request.app.state.graph_store)


def get_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    return cast(Settings, request.app.state.settings)


def local_base(request: Request, settings: Settings) -> str:
    """This server's base URL as its readers see it, ending in ``/``: the configured
    ``public_url`` (behind a proxy), else the request's own base."""
    base = settings.public_url or str(request.base_url)
    return base if base.endswith("/") else base + "/"


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

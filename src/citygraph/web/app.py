"""The app factory: routers, middleware, error handlers, and the query pool's life cycle."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.middleware.cors import CORSMiddleware

from citygraph import __version__, allocator
from citygraph.config import Settings
from citygraph.engine.builds import CurrentLink
from citygraph.engine.cache import ResponseCache
from citygraph.engine.pool import QueryPool
from citygraph.engine.remote import RemotePool, backend_of
from citygraph.web import (
    frontend,
    linked_data,
    routes_ops,
    routes_sparql,
    routes_store,
    trailing_slash,
)
from citygraph.web.access_log import AccessLog
from citygraph.web.endpoint import Endpoint
from citygraph.web.error_handlers import install_error_handlers
from citygraph.web.fast_path import FastPath
from citygraph.web.graph_store import GraphStore
from citygraph.web.lean_path import LeanQueries
from citygraph.web.metrics import Metrics

__all__ = ["create_app", "create_app_from_env"]


def create_app(settings: Settings, *, extra_routers: Sequence[APIRouter] = ()) -> FastAPI:
    """Build the web app for ``settings``; nothing starts until its lifespan begins.

    ``extra_routers`` (pages, the query UI…) are included after the endpoint's own routes and
    share its error handling, CORS, log and metrics.

    At start-up the query processes open the store's current build (which must exist and be of
    this citygraph's format: :class:`~citygraph.errors.StoreNotFoundError`, or its
    :class:`~citygraph.errors.BuildFormatError`, otherwise); at shutdown they end.
    """
    metrics = Metrics()
    # One view of the store's `current` link for the endpoint and the pages, so that after a
    # write both serve the new build at once (engine/builds.py).
    link = CurrentLink(settings.store)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool: QueryPool | RemotePool
        if settings.backend:  # a remote SPARQL store (docs/backends.md)
            pool = RemotePool(
                backend_of(settings),
                max_concurrent=settings.max_concurrent_queries,
                check_interval=settings.version_check_interval,
                client_max_queries=settings.client_max_queries,
                version_timeout=settings.query_timeout,
            )
        else:
            pool = _embedded_pool(settings, link)
        try:
            # Either pool refuses a build of another format as it starts (the embedded one as
            # it opens the build, the remote one as it reads the store's version).
            await run_in_threadpool(pool.start)
            endpoint = Endpoint(
                settings,
                pool,
                ResponseCache(max_bytes=settings.cache_bytes),
                metrics,
                query_page=frontend.render_query_ui,
            )
            app.state.endpoint = endpoint
            app.state.graph_store = GraphStore(endpoint)
            yield
        finally:
            await run_in_threadpool(pool.close)

    app = FastAPI(
        title="citygraph",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        # Starlette's redirect echoes the whole query string into Location: see trailing_slash.
        redirect_slashes=False,
    )
    app.state.settings = settings
    app.include_router(routes_sparql.router)
    app.include_router(routes_store.router)
    app.include_router(routes_ops.router)
    app.include_router(frontend.create_router())
    for router in extra_routers:
        app.include_router(router)
    linked_data.install(app, settings, link=link)
    trailing_slash.install(app)
    install_error_handlers(app)
    # Middleware wraps outwards: LeanQueries (GET queries without the router) inside FastPath
    # (which answers repeated ones from memory), both inside CORS (their answers get CORS headers
    # too), AccessLog outermost (it logs and counts everything).
    app.add_middleware(LeanQueries)
    app.add_middleware(FastPath)
    # CORS open for reads: any origin may query; Authorization is not an allowed header, so
    # browsers on other sites cannot send writes.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_methods=["GET", "HEAD", "POST"],
        allow_headers=["Accept", "Content-Type", "If-None-Match"],
        expose_headers=["ETag", "Retry-After", "Content-Length"],
        max_age=86400,
    )
    app.add_middleware(AccessLog, metrics=metrics, proxies=settings.proxy_networks())
    return app


def _embedded_pool(settings: Settings, link: CurrentLink) -> QueryPool:
    """The query processes on the embedded store's current build."""
    return QueryPool(
        settings.store,
        size=settings.query_processes,
        in_memory=settings.in_memory,
        max_concurrent=settings.max_concurrent_queries,
        check_interval=settings.version_check_interval,
        # SERVICE to allowed endpoints needs the network; otherwise the OS refuses it.
        offline=not settings.service_allowlist,
        memory=settings.query_memory_bytes,
        fast_size=settings.fast_query_processes,
        fast_budget=settings.fast_lane_budget,
        client_processes=settings.client_query_processes,
        client_max_queries=settings.client_max_queries,
        link=link,
    )


def create_app_from_env() -> FastAPI:
    """The app for the settings in the environment (the factory uvicorn workers call).

    The worker's allocator is limited to a few arenas first, before any request thread starts
    (:mod:`citygraph.allocator`: its memory levels off instead of growing with the churn of
    its caches)."""
    allocator.limit_arenas()
    return create_app(Settings.from_env())

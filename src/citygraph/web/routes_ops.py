"""Operations: ``/healthz`` for load balancers and ``/metrics`` for Prometheus."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from citygraph.engine.pool import END_REASONS
from citygraph.engine.remote import RemotePool
from citygraph.web.dependencies import EndpointDep, get_endpoint, get_settings

__all__ = ["router"]

router = APIRouter()


@router.get("/healthz")
async def healthz(request: Request) -> Response:
    """200 ``ok`` while queries can be served; 503 ``unavailable`` without query processes (on
    the embedded store; a remote backend has none), 503
    ``saturated`` (with Retry-After) while no general-lane process is free and more than
    ``saturated_queue`` queries wait for one (docs/endpoint.md, "Fair under load").

    ``async``: it only reads counters, so it answers even when every thread of the threadpool
    is waiting for a query process (and so reads its dependencies itself: FastAPI runs plain
    ``def`` dependencies in that threadpool).
    """
    pool = get_endpoint(request).pool
    settings = get_settings(request)
    processes = len(pool.pids())
    load = pool.load()
    status = "ok"
    # A remote backend has no local query processes: the store evaluates (issue 11).
    if not processes and not isinstance(pool, RemotePool):
        status = "unavailable"
    elif load.free == 0 and load.waiting > settings.saturated_queue:
        status = "saturated"
    body = {
        "status": status,
        "version": pool.version,
        "query_processes": processes,
        "free_query_processes": load.free,
        "free_fast_query_processes": load.free_fast,
        "waiting_queries": load.waiting,
        "queries_in_progress": load.inflight,
    }
    headers = {"Retry-After": "1"} if status == "saturated" else None
    return JSONResponse(body, status_code=200 if status == "ok" else 503, headers=headers)


@router.get("/metrics")
def metrics(endpoint: EndpointDep) -> Response:
    """Prometheus text exposition format 0.0.4."""
    pool = endpoint.pool
    cache = endpoint.cache
    gauges = {
        "citygraph_queries_in_progress": ("Queries running or waiting.", float(pool.inflight)),
        "citygraph_query_processes": ("Live query processes.", float(len(pool.pids()))),
        "citygraph_query_processes_killed_total": (
            "Query processes killed at the timeout or the fast lane's budget.",
            float(pool.stats.killed),
        ),
        "citygraph_build_switches_total": ("Switches to a new build.", float(pool.stats.switches)),
        "citygraph_queries_demoted_total": (
            "Queries moved from the fast lane to the general lane after its budget.",
            float(pool.stats.demoted),
        ),
        "citygraph_cache_hits_total": ("Response cache hits.", float(cache.hits)),
        "citygraph_cache_misses_total": ("Response cache misses.", float(cache.misses)),
        "citygraph_cache_bytes": ("Bytes held by the response cache.", float(cache.size)),
        "citygraph_get_cache_hits_total": (
            "GET requests answered before routing (fast path).",
            float(endpoint.get_cache.hits),
        ),
        "citygraph_get_cache_bytes": (
            "Bytes held by the fast path's cache.",
            float(endpoint.get_cache.size),
        ),
    }
    ends = {
        "citygraph_query_process_ends_total": (
            "Query processes ended during a query: killed at the timeout, at the fast lane's "
            "budget, when the client went away, over their memory budget, at an engine panic, "
            "crashed, or retired after answering (too much memory of their own).",
            "reason",
            {reason: float(pool.stats.ends[reason]) for reason in END_REASONS},
        )
    }
    text = endpoint.metrics.render(gauges, lambda: pool.version, counters=ends)
    return PlainTextResponse(text, media_type="text/plain; version=0.0.4")

"""Operations: ``/healthz`` for load balancers and ``/metrics`` for Prometheus."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from citygraph.web.dependencies import EndpointDep
from citygraph.web.pool import END_REASONS

__all__ = ["router"]

router = APIRouter()


@router.get("/healthz")
def healthz(endpoint: EndpointDep) -> Response:
    """200 with the served data version while query processes are up, else 503."""
    processes = len(endpoint.pool.pids())
    body = {
        "status": "ok" if processes else "unavailable",
        "version": endpoint.pool.version,
        "query_processes": processes,
    }
    return JSONResponse(body, status_code=200 if processes else 503)


@router.get("/metrics")
def metrics(endpoint: EndpointDep) -> Response:
    """Prometheus text exposition format 0.0.4."""
    pool = endpoint.pool
    cache = endpoint.cache
    gauges = {
        "citygraph_queries_in_progress": ("Queries running or waiting.", float(pool.inflight)),
        "citygraph_query_processes": ("Live query processes.", float(len(pool.pids()))),
        "citygraph_query_processes_killed_total": (
            "Query processes killed at the timeout.",
            float(pool.stats.killed),
        ),
        "citygraph_build_switches_total": ("Switches to a new build.", float(pool.stats.switches)),
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
            "Query processes ended during a query: killed at the timeout, over their memory "
            "budget, or crashed.",
            "reason",
            {reason: float(pool.stats.ends[reason]) for reason in END_REASONS},
        )
    }
    text = endpoint.metrics.render(gauges, lambda: pool.version, counters=ends)
    return PlainTextResponse(text, media_type="text/plain; version=0.0.4")

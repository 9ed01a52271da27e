"""The floor of a small query: ``citygraph serve``'s server stack answering a fixed body.

Issue 10 §3: how close is each small query to what this Python stack can do at all? The floor
server is the same uvicorn, protocol class and options
(:func:`citygraph.cli_serve.uvicorn_options`), the same app with every middleware (access log,
CORS, fast path, lean path) and the same number of workers, plus one route,
``GET /floor?query=N``, that answers ``N`` bytes, made once, with the request's ``Accept`` as
their type: no query, no query process, no thread. The bench asks it for the body size of each
variant of each query (``bench run``, the "floor" columns), so citygraph / floor is the share of
the possible that a query reaches. Its own query process (on disk, one) stays idle.

    python -m bench.floor --store STORE --port 8001 --workers 2
"""

from __future__ import annotations

import argparse
import functools
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response

__all__ = ["PATH", "create_floor_app", "main"]

PATH = "/floor"

router = APIRouter()


@functools.lru_cache(maxsize=256)
def _body(size: int) -> bytes:
    return b"x" * size


@router.get(PATH)
async def floor(request: Request, query: str = "") -> Response:
    """``query`` bytes (a number; anything else, such as the readiness probe's ASK: none)."""
    size = int(query) if query.isdigit() else 0
    media = request.headers.get("accept") or "application/octet-stream"
    return Response(_body(min(size, 50_000_000)), media_type=media)


def create_floor_app() -> FastAPI:
    """citygraph's app for the settings in the environment, with the floor route."""
    from citygraph import allocator
    from citygraph.config import Settings
    from citygraph.web.app import create_app

    allocator.limit_arenas()  # as create_app_from_env
    return create_app(Settings.from_env(), extra_routers=[router])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.floor", description=__doc__)
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)

    from citygraph.cli_serve import uvicorn_options
    from citygraph.config import Settings, hand_on_to_child_processes
    from citygraph.web.server import run_workers

    settings = Settings.from_env(None, store=args.store.resolve())
    hand_on_to_child_processes(store=settings.store)
    run_workers(  # as citygraph serve: a listening socket per worker
        "bench.floor:create_floor_app",
        host=args.host,
        port=args.port,
        workers=args.workers,
        **uvicorn_options(settings),
    )


if __name__ == "__main__":
    main()

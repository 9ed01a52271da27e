"""citygraph's app, or the floor app (``bench/floor.py``), on another HTTP server stack.

Issue 10 §3: is the floor (the same stack answering a fixed body) set by uvicorn with h11, and
would another server lift it? ``citygraph serve`` runs uvicorn with its own h11 protocol class
(``web/server.py``); this starts the same app, with the same settings, start-up (the settings
handed on to the workers, the zygote host of an in-memory store) and number of workers, on

- ``granian``: granian (a Rust HTTP server, hyper) with its ASGI interface and lifespan;
- ``httptools``: uvicorn with its httptools (llhttp) protocol instead of citygraph's h11 class
  (so without the header deadline and the lingering close of ``web/server.py``), a listening
  socket per worker as ``citygraph serve``;
- ``h11-shared``: ``citygraph serve``'s uvicorn and h11 class, but its workers sharing one
  listening socket (uvicorn's own scheme, ``serve``'s until ``web/server.py``'s
  ``run_workers``): what a socket per worker changes.

Bench only: ``citygraph serve`` always runs uvicorn with h11 (``docs/performance.md``, the
floor, says why). Used by ``python -m bench stacks`` (``bench/stacks.py``):

    python -m bench.stack_server serve --app citygraph --http granian --store STORE --port 8001
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

__all__ = ["APPS", "DEFAULT_STACKS", "HTTP_STACKS", "main"]

#: The app factories, by name.
APPS = {
    "citygraph": "citygraph.web.app:create_app_from_env",
    "floor": "bench.floor:create_floor_app",
}
#: The server stacks this module starts (uvicorn with h11 is ``citygraph serve`` itself).
HTTP_STACKS = ("granian", "httptools", "h11-shared")
#: Those ``bench stacks`` measures unless told.
DEFAULT_STACKS = ("granian", "httptools")


def _granian(target: str, host: str, port: int, workers: int, settings: Any) -> None:
    from granian.constants import HTTPModes, Interfaces
    from granian.http import HTTP1Settings
    from granian.server import Server

    from citygraph.cli_serve import _log_config, request_head_limit

    log_config = _log_config()
    log_config["loggers"]["_granian"] = {"handlers": ["default"], "level": "INFO"}
    Server(
        target,
        address=host,
        port=port,
        interface=Interfaces.ASGI,  # with the lifespan (the query processes start in it)
        workers=workers,
        http=HTTPModes.http1,
        websockets=False,
        # citygraph's header deadline, and its bound on a request's head (granian's read
        # buffer: 417,792 bytes by default, less than a GET of the longest query accepted).
        http1_settings=HTTP1Settings(
            header_read_timeout=int(settings.header_timeout * 1000),
            max_buffer_size=request_head_limit(settings),
        ),
        log_dictconfig=log_config,
        log_access=False,
        factory=True,
        respawn_failed_workers=True,  # as uvicorn's supervisor does
        # A worker that does not stop within 5 s of SIGTERM is killed (serve's graceful
        # shutdown is 5 s): without it, a worker stopped during its start-up never ended, and
        # the server with it (docs/performance.md, Summary item 3).
        workers_kill_timeout=5,
    ).serve()


def _uvicorn_httptools(target: str, host: str, port: int, workers: int, settings: Any) -> None:

    from citygraph.cli_serve import uvicorn_options
    from citygraph.web.server import run_workers

    options = uvicorn_options(settings)
    options.pop("h11_max_incomplete_event_size")
    options["http"] = "httptools"
    run_workers(target, host=host, port=port, workers=workers, **options)


def _uvicorn_shared_socket(target: str, host: str, port: int, workers: int, settings: Any) -> None:
    import uvicorn

    from citygraph.cli_serve import uvicorn_options

    options = uvicorn_options(settings)
    uvicorn.run(target, factory=True, host=host, port=port, workers=workers, **options)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.stack_server", description=__doc__)
    # `serve`, as in `citygraph serve` (the tests find a server by it: bench/stack_guarantees.py)
    parser.add_argument("command", choices=("serve",))
    parser.add_argument("--app", choices=sorted(APPS), required=True)
    parser.add_argument("--http", choices=HTTP_STACKS, required=True)
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)

    # citygraph serve's start-up (cli_serve.serve): the settings for the workers, then the
    # zygote host when the store is served from memory (none for the floor: it reads the disk).
    from citygraph.cli_serve import _zygote_host
    from citygraph.config import Settings, hand_on_to_child_processes

    settings = Settings.from_env(None, store=args.store.resolve())
    hand_on_to_child_processes(store=settings.store)
    zygotes = _zygote_host(settings)
    serve = {
        "granian": _granian,
        "httptools": _uvicorn_httptools,
        "h11-shared": _uvicorn_shared_socket,
    }[args.http]
    try:
        serve(APPS[args.app], args.host, args.port, args.workers, settings)
    finally:
        if zygotes is not None:
            zygotes.close()


if __name__ == "__main__":
    main()

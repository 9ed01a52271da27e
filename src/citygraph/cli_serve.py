"""``citygraph serve``: run the SPARQL endpoint over a built store.

Registered in :mod:`citygraph.cli`; also runnable as ``python -m citygraph.cli_serve``.
"""

from __future__ import annotations

import copy
import sys
import warnings
from pathlib import Path
from typing import Any

import click

from citygraph.cli import backend_options, store_option
from citygraph.config import (
    Settings,
    describe_settings,
    hand_on_to_child_processes,
    hand_on_zygote_host,
)
from citygraph.engine.builds import check_served_format
from citygraph.engine.remote import backend_of
from citygraph.engine.zygote_host import ZygoteHost
from citygraph.errors import CitygraphError
from citygraph.store import current_build

__all__ = ["serve"]


def _settings_help() -> str:
    lines = ["\b", "Settings (environment variables):"]
    for info in describe_settings():
        if info.secret or info.default in ("", ()):
            default = "(not set)"
        elif isinstance(info.default, tuple):
            default = ",".join(info.default)
        else:
            default = str(info.default)
        lines.append(f"  {info.env} = {default}")
    return "\n".join(lines)


@click.command(
    epilog=_settings_help() + "\n\nSee docs/endpoint.md for the protocol, limits and writes."
)
@store_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option(
    "--port",
    default=8000,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port to listen on.",
)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1),
    help="Server worker processes (each with CITYGRAPH_QUERY_PROCESSES query processes).",
)
@click.option(
    "--get",
    "get_path",
    default=None,
    metavar="PATH",
    help="Answer one GET request for PATH without opening a socket, print it and exit "
    "(exit code 0 for 2xx, 1 otherwise).",
)
@backend_options
def serve(
    store_dir: Path,
    host: str,
    port: int,
    workers: int,
    get_path: str | None,
    backend: str | None,
    backend_update: str | None,
    backend_store: str | None,
) -> None:
    """Serve the built store: SPARQL 1.1 at /sparql, the Graph Store at /store.

    \b
    Example:
      citygraph build
      citygraph serve --port 8000 --workers 2
      curl -H 'Accept: text/csv' \\
        --data-urlencode 'query=SELECT * WHERE { ?s ?p ?o } LIMIT 3' \\
        http://127.0.0.1:8000/sparql
      citygraph serve --get '/sparql?query=ASK{?s?p?o}'
      citygraph serve --backend http://127.0.0.1:7878/query

    With --backend, the endpoint, Graph Store reads, pages, map, dumps and VoID are answered
    from that remote SPARQL 1.1 store instead of the store directory (docs/backends.md).
    """
    given = {"backend": backend, "backend_update": backend_update, "backend_store": backend_store}
    overrides = {k: v for k, v in given.items() if v is not None}
    try:
        settings = Settings.from_env(None, store=store_dir.resolve(), **overrides)
        # A build of another format is refused here, before anything starts
        # (citygraph.build_format).
        if settings.backend:
            check_served_format(backend_of(settings), timeout=settings.query_timeout)
            serving = f"the remote store {settings.backend}"
        else:
            serving = f"build {current_build(settings.store).version} of {settings.store}"
    except CitygraphError as error:
        raise click.ClickException(str(error)) from None
    if get_path is not None:
        sys.exit(_get(settings, get_path))
    # Worker processes build their own app from the environment: hand the store on to them.
    hand_on_to_child_processes(store=settings.store, **overrides)
    click.echo(f"citygraph: serving {serving} on http://{host}:{port}/sparql", err=True)
    zygotes = _zygote_host(settings)
    try:
        _run(settings, host, port, workers)
    finally:
        if zygotes is not None:
            zygotes.close()


def _zygote_host(settings: Settings) -> ZygoteHost | None:
    """In memory, the machine's zygote host, started before the workers (so that every worker's
    query processes share one copy of the build, and the copy starts at once); its socket is
    handed on to the workers."""
    if settings.backend or not settings.in_memory:
        return None
    grace = settings.query_timeout + settings.version_check_interval + 10
    zygotes = ZygoteHost(settings.store, grace=grace)
    hand_on_zygote_host(zygotes.path)
    return zygotes


def _run(settings: Settings, host: str, port: int, workers: int) -> None:
    from citygraph.web.listening import ListenError
    from citygraph.web.server import run_workers

    try:
        run_workers(
            "citygraph.web.app:create_app_from_env",
            host=host,
            port=port,
            workers=workers,
            **uvicorn_options(settings),
        )
    except ListenError as error:
        raise click.ClickException(str(error)) from None


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """What ``serve`` asks of uvicorn besides the app and the address (the bench's floor server,
    ``bench/floor.py``, serves with the same)."""
    return {
        "access_log": False,
        # h11 with TCP_NODELAY and a deadline for the headers: see web/server.py.
        "http": "citygraph.web.server:NoDelayH11Protocol",
        # A GET may carry the longest query accepted: its head is read whole, so that the client
        # gets a readable 413 rather than a connection closed under it (h11's default is 16 KiB);
        # beyond it, h11 answers 400 and closes the connection.
        "h11_max_incomplete_event_size": request_head_limit(settings),
        "log_config": _log_config(),
        "timeout_graceful_shutdown": 5,
    }


def request_head_limit(settings: Settings) -> int:
    """Bytes of a request's line and headers the server reads before it gives up.

    A GET may carry the longest query accepted, percent-encoded (up to 12 bytes a character:
    four UTF-8 bytes, each as %XX): its head must be read whole so that the client gets a
    readable 413 rather than a connection closed under it.

    >>> request_head_limit(Settings(max_query_length=100_000))
    1265536
    """
    return 12 * settings.max_query_length + 65_536


def _get(settings: Settings, path: str) -> int:
    with warnings.catch_warnings():
        # Starlette's notice about its test client's HTTP library is not for our users.
        # (Starlette's StarletteDeprecationWarning is a UserWarning, not a DeprecationWarning.)
        warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
        warnings.simplefilter("ignore", DeprecationWarning)
        from fastapi.testclient import TestClient

    from citygraph.web.app import create_app

    with TestClient(create_app(settings)) as client:
        response = client.get(path)
    click.echo(response.text, nl=False)
    return 0 if 200 <= response.status_code < 300 else 1


def _log_config() -> dict[str, Any]:
    """uvicorn's logging, plus citygraph's loggers; access lines are bare JSON."""
    from uvicorn.config import LOGGING_CONFIG

    config: dict[str, Any] = copy.deepcopy(LOGGING_CONFIG)
    config["formatters"]["json_line"] = {"format": "%(message)s"}
    config["handlers"]["citygraph_access"] = {
        "class": "logging.StreamHandler",
        "formatter": "json_line",
        "stream": "ext://sys.stdout",
    }
    config["loggers"]["citygraph"] = {"handlers": ["default"], "level": "INFO"}
    config["loggers"]["citygraph.access"] = {
        "handlers": ["citygraph_access"],
        "level": "INFO",
        "propagate": False,
    }
    return config


if __name__ == "__main__":
    serve()

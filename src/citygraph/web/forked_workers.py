"""uvicorn's worker processes forked from ``citygraph serve`` instead of spawned (issue 10 §2).

A spawned worker is a new interpreter that imports the app: 40-50 MiB of its own each. ``serve
--workers N`` (:func:`~citygraph.web.server.run_workers`) first imports what a worker imports
(:func:`preload`), then forks each worker (:class:`ForkedWorker`), so that the workers share
those pages copy-on-write. Measured in docs/performance.md, "Memory" ("Forked HTTP workers").
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import multiprocessing
import signal
import socket
import sys
from multiprocessing.connection import Connection
from typing import Any

from uvicorn._subprocess import subprocess_started
from uvicorn.config import LIFESPAN, WS_PROTOCOLS
from uvicorn.importer import import_from_string
from uvicorn.supervisors.multiprocess import SIGNALS, Process

__all__ = ["ForkedWorker", "preload"]


def preload(config: Any) -> None:
    """Import, in the process the workers are forked from, what each worker would import to
    start (the app's module, uvicorn's protocol and lifespan classes), so that the workers
    share it (the app itself is made in each worker). An import that fails here fails again in
    the worker, which reports it as uvicorn does (a failure to start)."""
    names = [
        config.app.partition(":")[0] if isinstance(config.app, str) else None,
        config.http if isinstance(config.http, str) and ":" in config.http else None,
        WS_PROTOCOLS.get(config.ws) if isinstance(config.ws, str) else None,
        LIFESPAN.get(config.lifespan),
    ]
    for name in names:
        if name:
            with contextlib.suppress(Exception):
                if ":" in name:
                    import_from_string(name)
                else:
                    importlib.import_module(name)


_FORK = multiprocessing.get_context("fork")


class ForkedWorker(Process):
    """uvicorn's worker process, forked from the supervisor instead of spawned.

    A spawned worker is a new interpreter that imports the app: 40-50 MiB of its own each
    (docs/performance.md, "Memory"). A forked one shares the supervisor's imported modules
    copy-on-write; the supervisor freezes its objects (``gc.freeze()``) before each fork, so
    that a worker's collector does not write to those pages. What a spawned worker would not
    have is undone in the child before uvicorn's start: the file descriptors it must not hold
    (``inherited``: the other workers' sockets and pipes, the port's lock) are closed, and the
    supervisor's signal handlers are reset to the defaults. (Its own pipe's both ends stay open,
    as in a spawned worker: its health thread then ends with the worker, not with an EOF
    traceback when the supervisor closes its end.)"""

    def __init__(
        self, config: Any, sockets: list[socket.socket], inherited: list[socket.socket | Connection]
    ) -> None:
        super().__init__(config, sockets)  # a spawn context's process object, never started
        # (uvicorn types it as a spawned process; a forked one has the same interface)
        self.process = _FORK.Process(  # type: ignore[assignment]
            target=self._forked, args=(sockets, inherited)
        )

    def start(self) -> None:
        gc.freeze()  # what the supervisor holds now stays shared (refcounts aside)
        for stream in (sys.stdout, sys.stderr):  # (else the child writes its copy of them too)
            with contextlib.suppress(Exception):
                stream.flush()
        super().start()

    def _forked(
        self, sockets: list[socket.socket], inherited: list[socket.socket | Connection]
    ) -> None:  # pragma: no cover (in the worker)
        for resource in inherited:
            with contextlib.suppress(OSError):
                resource.close()
        for sig in SIGNALS:
            signal.signal(
                sig, signal.default_int_handler if sig == signal.SIGINT else signal.SIG_DFL
            )
        subprocess_started(
            config=self.config, target=self.target, sockets=sockets, stdin_fileno=None
        )

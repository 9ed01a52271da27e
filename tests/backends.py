"""The stores the suite runs on: the embedded one, and a real ``oxigraph serve`` (remote).

Tests that must hold on every backend are marked ``every_backend`` (``pytestmark =
every_backend`` in their module): each of them that uses the ``backend`` fixture (directly or
through ``settings``) runs on every backend of :data:`BACKENDS`, on the embedded store and on a
remote store reached over the SPARQL 1.1 Protocol (tests/conftest.py). A remote
build gets there through :func:`citygraph.engine.remote_publish.publish_build`, as ``citygraph build
--backend`` publishes it. One ``oxigraph serve`` runs per data set and session (started on
first use, on 127.0.0.1 and a free port), and one Virtuoso per data set in the same way: see
:class:`OxigraphServers`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
from tests.serving import free_port, wait_until_answers
from tests.virtuoso import running_virtuoso

from citygraph.config import Settings
from citygraph.engine.datasets import SYSTEM_GRAPHS
from citygraph.engine.remote import Backend, SparqlClient
from citygraph.engine.remote_publish import publish_build
from citygraph.engine.remote_reads import GRAPH_NAMES_QUERY
from citygraph.engine.remote_store import RemoteHandle
from citygraph.store import current_build, open_current

__all__ = [
    "BACKENDS",
    "OxigraphServers",
    "empty",
    "every_backend",
    "fails_on",
    "open_store",
    "remote_settings",
]

#: ``embedded``: the store directory; ``oxigraph``: a real ``oxigraph serve``. Tests also
#: marked ``virtuoso`` run on a real Virtuoso Open Source too (tests/virtuoso.py; Debian's
#: package, installed by make test): those that pass there (docs/scaling.md).
BACKENDS = ("embedded", "oxigraph")
every_backend = pytest.mark.every_backend

OXIGRAPH = Path(sys.executable).with_name("oxigraph")
#: Seconds a test ``oxigraph serve`` evaluates one query at most (Virtuoso's is its
#: ``MaxQueryExecutionTime``, tests/virtuoso.py): far beyond any test's own timeout.
STORE_TIMEOUT = 120

#: What Virtuoso 7.2 does that citygraph cannot correct (docs/scaling.md, "Virtuoso").
VIRTUOSO_WKT = (
    "Virtuoso stores a geo:wktLiteral as its own geometry with single-precision coordinates: "
    "POINT(13.41053 52.52437) comes back as POINT(13.410530090332 52.524368286133)"
)
VIRTUOSO_MOVE = (
    "Virtuoso's MOVE of a graph that does not exist succeeds and empties the target (SPARQL 1.1 "
    "Update section 3.2.5 says it fails unless SILENT): only the store's lock keeps staging "
    "graphs in place until the switch"
)
VIRTUOSO_SERVICE_SILENT = (
    "Virtuoso answers SERVICE SILENT to an endpoint it cannot reach with 500 (HTCLI Error "
    "HC001), not with the one empty solution of SPARQL 1.1 Federated Query section 4"
)
VIRTUOSO_FROM = (
    "Virtuoso lets a query's FROM win over the protocol's default-graph-uri (against SPARQL 1.1 "
    "Protocol section 2.1.4)"
)


def empty(backend: Backend) -> None:
    """Remove every graph of the store but its own system graphs: ``DROP ALL`` does it on
    Oxigraph, and nothing at all on Virtuoso 7.2 (it answers 200 and keeps every graph)."""
    client = SparqlClient(backend, connections=1)
    try:
        rows = client.select(GRAPH_NAMES_QUERY, timeout=60)
    finally:
        client.close()
    graphs = [r["g"].value for r in rows if isinstance(r["g"], ox.NamedNode)]
    drops = [f"DROP SILENT GRAPH <{g}>" for g in graphs if g not in SYSTEM_GRAPHS]
    if drops:
        answer = httpx.post(backend.update, data={"update": " ;\n".join(drops)}, timeout=120)
        answer.raise_for_status()


def fails_on(
    request: pytest.FixtureRequest, backend: str, store: str, reason: str, *, strict: bool = True
) -> None:
    """Expect the running test to fail when ``backend`` is ``store``, for ``reason`` (what the
    store does). Strict: if the store starts to pass, the test fails and the note must go.
    ``strict=False`` only for a store that does it in some runs and not in others (the reason
    says so): a pass is then reported (XPASS), not a failure."""
    if backend == store:
        request.applymarker(pytest.mark.xfail(reason=f"{store}: {reason}", strict=strict))


def open_store(backend: str, store_dir: Path, servers: OxigraphServers) -> ox.Store:
    """The current build of ``store_dir`` on ``backend``: the embedded store opened
    read-only, or a store-like view of it published to an ``oxigraph serve`` of its own."""
    if backend == "embedded":
        return open_current(store_dir)[0]
    remote = servers.publish(str(store_dir), store_dir, kind=backend)
    return RemoteHandle(remote, check_interval=0.0).snapshot().store


def remote_settings(
    settings: Settings, backend: str, servers: OxigraphServers, *, name: str = ""
) -> Settings:
    """``settings`` on ``backend``: for ``oxigraph``, their store's current build published to
    the server ``name`` (default: one per store directory) and the backend URLs set."""
    if backend == "embedded":
        return settings
    remote = servers.publish(name or str(settings.store), settings.store, kind=backend)
    return dataclasses.replace(
        settings, backend=remote.query, backend_update=remote.update, backend_store=remote.store
    )


class OxigraphServers:
    """The remote stores of one test session, one per name (a data set): ``oxigraph serve``
    processes and Virtuoso instances."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        #: Per ``kind:name``: the process (None for a Virtuoso, whose process its context
        #: manager owns), its endpoints and its process id.
        self._running: dict[str, tuple[subprocess.Popen[bytes] | None, Backend, int]] = {}
        self._virtuosos = contextlib.ExitStack()
        self._published: dict[str, str] = {}
        self._count = 0

    def get(self, name: str, *, kind: str = "oxigraph", timezone: str = "") -> Backend:
        """The server called ``name``, started now if it is not running.

        ``kind`` ``virtuoso``: a Virtuoso instead of an ``oxigraph serve``; ``timezone``: the
        Virtuoso's ``TZ`` (see :func:`tests.virtuoso.running_virtuoso`), if it is started now.
        """
        name = f"{kind}:{name}"
        if name not in self._running:
            if kind == "virtuoso":
                self._running[name] = self._start_virtuoso(timezone)
            else:
                self._running[name] = self._start()
        return self._running[name][1]

    def publish(self, name: str, store_dir: Path, *, kind: str = "oxigraph") -> Backend:
        """Server ``name`` holding the current build of ``store_dir`` (published if needed)."""
        backend = self.get(name, kind=kind)
        name = f"{kind}:{name}"
        build = current_build(store_dir)
        published = self._published.get(name, "")
        if published != f"{store_dir}:{build.version}":
            if not published.startswith(f"{store_dir}:"):  # another test's store: start empty
                empty(backend)
            publish_build(build, backend)
            self._published[name] = f"{store_dir}:{build.version}"
        return backend

    def kill(self, name: str, *, kind: str = "oxigraph") -> int:
        """Kill server ``name`` at once with SIGKILL (a store failing mid-answer); returns its
        process id as it was. The next :meth:`get` of ``name`` starts a new one."""
        process, _, pid = self._running.pop(f"{kind}:{name}")
        self._published.pop(f"{kind}:{name}", None)
        os.kill(pid, signal.SIGKILL)
        if process is not None:
            process.wait()
        # A Virtuoso's process is its context manager's child: reaped when the session ends.
        return pid

    def pid(self, name: str, *, kind: str = "oxigraph") -> int:
        """The process id of the server called ``name`` (started if not running)."""
        self.get(name, kind=kind)
        return self._running[f"{kind}:{name}"][2]

    def close(self) -> None:
        self._virtuosos.close()
        for process, _, _ in self._running.values():
            if process is None:
                continue
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def _start_virtuoso(self, timezone: str) -> tuple[None, Backend, int]:
        self._count += 1
        server = self._virtuosos.enter_context(
            running_virtuoso(self.directory / f"virtuoso-{self._count}", timezone=timezone)
        )
        backend = Backend(query=server.query_url, update=server.update_url, store=server.store_url)
        return None, backend, server.pid

    def _start(self) -> tuple[subprocess.Popen[bytes], Backend, int]:
        assert OXIGRAPH.is_file(), "oxigraph is not installed: pip install -e '.[test]'"
        port = free_port()
        self._count += 1
        location = self.directory / f"server-{self._count}"
        log_path = location.with_suffix(".log")
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [
                    str(OXIGRAPH),
                    "serve",
                    "--location",
                    str(location),
                    "--bind",
                    f"127.0.0.1:{port}",
                    # Meant to bound a query citygraph gave up on, but not seen to stop
                    # a COUNT of a cross product (docs/backends.md): the tests that leave
                    # one stop the store instead (test_limits.py, idle_store_afterwards).
                    "--timeout-s",
                    str(STORE_TIMEOUT),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        url = f"http://127.0.0.1:{port}"
        wait_until_answers(
            process,
            url + "/query?query=ASK%7B%7D",
            timeout=30,
            log=log_path.read_text,
            what="oxigraph serve",
        )
        backend = Backend(query=url + "/query", update=url + "/update", store=url + "/store")
        return process, backend, process.pid

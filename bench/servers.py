"""The stores and servers compared: ``citygraph serve`` and ``oxigraph serve-read-only``.

Both serve exactly the same dataset: the generated N-Triples are built into a citygraph store
(graph ``graph:worldwide``; the build derives ``cg:twinnedWith`` into ``graph:derived`` and adds
``graph:meta``), and that built store is dumped as N-Quads and loaded with ``oxigraph load`` into
the reference store, which ``oxigraph serve-read-only --union-default-graph`` serves with the same
default graph as citygraph (the union of all graphs).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from citygraph.engine.remote import Backend

__all__ = [
    "Endpoint",
    "Server",
    "ServerSpec",
    "citygraph_available",
    "citygraph_spec",
    "floor_spec",
    "oxigraph_spec",
    "prepare_stores",
    "running",
]

REPO = Path(__file__).resolve().parent.parent
#: Bumped when a build of the same data changes, so cached stores are rebuilt (2: the build
#: derives cg:startYear and cg:searchKey, which the date range and the label search read).
STORES_VERSION = 2


def venv_bin(name: str) -> Path:
    """The path of a console script next to the running Python (the project's venv)."""
    return Path(sys.executable).parent / name


@dataclass(frozen=True)
class ServerSpec:
    """How to start one server: its command, its SPARQL query path and extra environment."""

    name: str
    command: tuple[str, ...]
    query_path: str
    env: Mapping[str, str] = field(default_factory=dict)

    def with_port(self, port: int) -> tuple[str, ...]:
        return tuple(part.replace("{port}", str(port)) for part in self.command)


class Endpoint(Protocol):
    """What the driver needs of a measured server: its name, URL, query path and process."""

    @property
    def name(self) -> str: ...
    @property
    def base(self) -> str: ...
    @property
    def query_path(self) -> str: ...
    @property
    def pid(self) -> int: ...


@dataclass(frozen=True)
class External:
    """A server started by someone else (e.g. a Virtuoso of tests/virtuoso.py)."""

    name: str
    base: str
    query_path: str
    pid: int


@dataclass
class Server:
    """A started server process."""

    spec: ServerSpec
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def query_path(self) -> str:
        return self.spec.query_path

    @property
    def endpoint(self) -> str:
        return self.base + self.spec.query_path

    @property
    def name(self) -> str:
        return self.spec.name


def citygraph_available() -> str | None:
    """Why ``citygraph serve`` cannot be used yet, or None when it can."""
    if not (REPO / "src" / "citygraph" / "cli_serve.py").exists():
        return "src/citygraph/cli_serve.py does not exist yet"
    binary = venv_bin("citygraph")
    if not binary.exists():
        return f"{binary} is not installed"
    result = subprocess.run(
        [str(binary), "serve", "--help"], capture_output=True, timeout=60, check=False
    )
    if result.returncode != 0:
        return "`citygraph serve --help` failed: " + result.stderr.decode(errors="replace")[-300:]
    return None


def oxigraph_spec(location: Path, *, name: str = "oxigraph", writable: bool = False) -> ServerSpec:
    """``oxigraph serve-read-only`` of ``location`` (or, ``writable``, ``oxigraph serve``: a
    remote backend for citygraph), with the union of all graphs as its default graph."""
    command = (
        str(venv_bin("oxigraph")),
        "serve" if writable else "serve-read-only",
        "--location",
        str(location),
        "--bind",
        "127.0.0.1:{port}",
        "--union-default-graph",
    )
    return ServerSpec(name=name, command=command, query_path="/query")


def citygraph_spec(
    store_root: Path,
    *,
    workers: int,
    env: Mapping[str, str],
    backend: Backend | None = None,
    name: str = "citygraph",
) -> ServerSpec:
    """``citygraph serve`` of ``store_root``, or (``backend``) of a remote SPARQL store."""
    remote = (
        ("--backend", backend.query, "--backend-update", backend.update_url)
        + (("--backend-store", backend.store) if backend.store else ())
        if backend is not None
        else ()
    )
    command = (
        str(venv_bin("citygraph")),
        "serve",
        "--store",
        str(store_root),
        "--host",
        "127.0.0.1",
        "--port",
        "{port}",
        "--workers",
        str(workers),
        *remote,
    )
    return ServerSpec(name=name, command=command, query_path="/sparql", env=dict(env))


def floor_spec(store_root: Path, *, workers: int, env: Mapping[str, str]) -> ServerSpec:
    """The floor server (``bench/floor.py``): citygraph's server stack with ``workers`` workers
    and the run's settings ``env``, answering ``GET /floor?query=N`` with ``N`` fixed bytes. Its
    one query process per worker reads the build on disk and stays idle."""
    command = (
        sys.executable,
        "-m",
        "bench.floor",
        "--store",
        str(store_root),
        "--port",
        "{port}",
        "--workers",
        str(workers),
    )
    settings = {
        **env,
        "CITYGRAPH_IN_MEMORY": "false",
        "CITYGRAPH_QUERY_PROCESSES": "1",
        "CITYGRAPH_FAST_QUERY_PROCESSES": "0",
        "PYTHONPATH": str(REPO),
    }
    return ServerSpec(name="floor", command=command, query_path="/floor", env=settings)


def prepare_stores(data_dir: Path, *, log: Path) -> tuple[Path, Path]:
    """Build (or reuse) the citygraph store and the Oxigraph reference store for ``data_dir``.

    Returns the citygraph store root and the Oxigraph store directory. Both are rebuilt when
    the generated data changed (its digest is recorded in ``stores.json``), and when citygraph's
    build format did (citygraph.build_format: ``serve`` refuses a build of another).
    """
    from citygraph.build_format import FORMAT  # a store of another format would be refused

    params = json.loads((data_dir / "params.json").read_text(encoding="utf-8"))
    marker = data_dir / "stores.json"
    wanted = {"sha256": params["sha256"], "stores_version": STORES_VERSION, "build_format": FORMAT}
    cg_root = data_dir / "citygraph-store"
    ox_dir = data_dir / "oxigraph-store"
    if marker.is_file() and json.loads(marker.read_text(encoding="utf-8")) == wanted:
        return cg_root, ox_dir
    marker.unlink(missing_ok=True)
    shutil.rmtree(cg_root, ignore_errors=True)
    shutil.rmtree(ox_dir, ignore_errors=True)

    # Imported lazily: `python -m bench generate` needs neither citygraph nor pyoxigraph.
    import pyoxigraph as ox

    from citygraph import build, store
    from citygraph.namespaces import GRAPH_WORLDWIDE

    started = time.monotonic()
    inputs = [build.BuildInput(data_dir / "data.nt", GRAPH_WORLDWIDE)]
    result = build.build_store(cg_root, inputs, carry_over=())
    _say(f"citygraph store built in {time.monotonic() - started:.1f} s: {result.quads_per_graph}")

    started = time.monotonic()
    dump = data_dir / "store.nq"
    built = ox.Store.read_only(str(store.current_build(cg_root).path))
    built.dump(output=str(dump), format=ox.RdfFormat.N_QUADS)
    del built
    with log.open("ab") as out:
        subprocess.run(
            [str(venv_bin("oxigraph")), "load", "--location", str(ox_dir), "--file", str(dump)],
            stdout=out,
            stderr=out,
            check=True,
            timeout=3600,
        )
    dump.unlink()
    _say(f"oxigraph store loaded in {time.monotonic() - started:.1f} s")
    marker.write_text(json.dumps(wanted), encoding="utf-8")
    return cg_root, ox_dir


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start(spec: ServerSpec, log_dir: Path, *, ready_timeout: float = 600.0) -> Server:
    """Start ``spec`` on a free port of 127.0.0.1 and wait until it answers a query.

    Raises:
        RuntimeError: if the server exits or does not answer within ``ready_timeout`` seconds.
    """
    port = free_port()
    log_dir.mkdir(parents=True, exist_ok=True)
    log = log_dir / f"{spec.name}.log"
    env = dict(os.environ)
    env.update(spec.env)
    with log.open("wb") as out:
        process = subprocess.Popen(
            spec.with_port(port),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,  # its own process group: stopped with its workers
        )
    server = Server(spec=spec, process=process, port=port, log=log)
    try:
        _wait_until_ready(server, ready_timeout)
    except BaseException:  # also Ctrl-C or SIGTERM while waiting: never leave it running
        stop(server)
        raise
    return server


def _wait_until_ready(server: Server, ready_timeout: float) -> None:
    deadline = time.monotonic() + ready_timeout
    probe = server.endpoint + "?" + urllib.parse.urlencode({"query": "ASK { ?s ?p ?o }"})
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            tail = server.log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"{server.name} exited with {server.process.returncode}:\n{tail}")
        try:
            request = urllib.request.Request(
                probe, headers={"Accept": "application/sparql-results+json"}
            )
            # Long enough for a first query that is slow (citygraph on a remote store reads the
            # graph names once): a probe that gives up only piles up more of the same work.
            with urllib.request.urlopen(request, timeout=90) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.25)
    raise RuntimeError(
        f"{server.name} did not answer within {ready_timeout:.0f} s (log: {server.log})"
    )


def stop(server: Server) -> None:
    """Stop a server started by :func:`start`: SIGTERM to its process group, then SIGKILL."""
    stop_group(server.process, grace=20)


def stop_group(process: subprocess.Popen[bytes], *, grace: float) -> None:
    """Stop ``process``, started with ``start_new_session=True`` (it leads its process group):
    SIGTERM to the group, SIGKILL if it has not exited after ``grace`` seconds; then SIGKILL to
    what is left of the group (workers whose parent exited). Also ``tests/serving.py``'s."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=grace)
    # Workers left in the group after the parent exited.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


@contextlib.contextmanager
def running(specs: Sequence[ServerSpec], log_dir: Path) -> Iterator[list[Server]]:
    """Start every server in ``specs`` (one after the other) and stop them all on exit."""
    servers: list[Server] = []
    try:
        for spec in specs:
            started = time.monotonic()
            servers.append(start(spec, log_dir))
            _say(
                f"{spec.name} ready on port {servers[-1].port} ({time.monotonic() - started:.1f} s)"
            )
        yield servers
    finally:
        for server in servers:
            stop(server)


def _say(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)

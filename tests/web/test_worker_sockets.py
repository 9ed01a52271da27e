"""`citygraph serve --workers N` gives each worker a listening socket of its own (SO_REUSEPORT,
``web/server.py``, :func:`run_workers`), so that a client's connections are served by all the
workers; and the port stays its own: a second `serve`, or another program, cannot share it."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from bench.servers import stop_group
from tests.serving import free_port, running_server, wait_until_answers
from tests.web.test_server import descendants

from citygraph.web.listening import PortInUseError, bind_worker_sockets

ENV = {"CITYGRAPH_IN_MEMORY": "false", "CITYGRAPH_QUERY_PROCESSES": "1"}


@pytest.fixture
def two_workers(store_dir: Path, tmp_path: Path) -> Iterator[str]:
    with running_server(
        store_dir, tmp_path / "server.log", args=("--workers", "2"), env=ENV
    ) as url:
        yield url


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def _hex_address(host: str, port: int) -> str:
    """An IPv4 address as /proc/net/tcp writes it (the address's bytes in host order)."""
    packed = socket.inet_aton(host)
    return f"{int.from_bytes(packed, sys.byteorder):08X}:{port:04X}"


def _tcp_sockets() -> list[tuple[str, str, str, str]]:
    """(local address, remote address, state, inode) of every IPv4 TCP socket."""
    lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
    return [(f[1], f[2], f[3], f[9]) for f in (line.split() for line in lines)]


def _holders(inode: str) -> set[int]:
    """The processes among this test's descendants that hold socket ``inode``."""
    found = set()
    for pid in descendants(os.getpid()):
        try:
            names = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for name in names:
            try:
                if os.readlink(f"/proc/{pid}/fd/{name}") == f"socket:[{inode}]":
                    found.add(pid)
            except OSError:
                continue
    return found


def _worker_serving(client: socket.socket, port: int) -> int:
    """The process that holds the server's end of ``client``'s connection."""
    host, client_port = client.getsockname()
    local, remote = _hex_address("127.0.0.1", port), _hex_address(host, client_port)
    established = "01"
    inodes = [
        i
        for (loc, rem, state, i) in _tcp_sockets()
        if loc == local and rem == remote and state == established
    ]
    assert len(inodes) == 1, "the server's end of the connection was not found"
    (holder,) = _holders(inodes[0])
    return holder


def test_each_worker_listens_on_a_socket_of_its_own(two_workers: str) -> None:
    listen = "0A"  # TCP_LISTEN in /proc/net/tcp
    local = _hex_address("127.0.0.1", _port(two_workers))
    inodes = [i for (loc, _, state, i) in _tcp_sockets() if loc == local and state == listen]
    assert len(inodes) == 2
    # each socket is in the supervisor (which keeps it for a replacement) and in one worker
    workers = [_holders(inode) for inode in inodes]
    assert all(len(holders) == 2 for holders in workers)
    assert len(set.union(*workers)) == 3


def test_a_clients_connections_are_served_by_both_workers(two_workers: str) -> None:
    """64 fresh connections from one client: the kernel gives each to one of the two listening
    sockets by a hash of its (random-keyed) addresses and ports, which differ by the client's
    port; all 64 on one socket has a chance of 2 in 2^64."""
    port = _port(two_workers)
    serving = set()
    for _ in range(64):
        with socket.create_connection(("127.0.0.1", port), timeout=30) as client:
            client.sendall(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n")
            assert client.recv(65536).startswith(b"HTTP/1.1 200")
            # kept alive: the worker that answered still holds the connection
            serving.add(_worker_serving(client, port))
    assert len(serving) == 2


#: The default (one worker, served in the serve process) listens as several do: it is refused
#: the same way (exit 2 and the message, before the app starts; uvicorn itself exits 3 after
#: the app's start-up) and says its port.
WORKERS = pytest.mark.parametrize("workers", [1, 2], ids=["one-worker", "two-workers"])


def _serve(
    store_dir: Path, port: int, *more: str, workers: int = 2
) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "citygraph", "serve", "--store", str(store_dir)]
    return subprocess.run(
        [*command, "--port", str(port), "--workers", str(workers), *more],
        env={**os.environ, **ENV},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_second_serve_on_the_same_port_is_refused(store_dir: Path, two_workers: str) -> None:
    port = _port(two_workers)
    second = _serve(store_dir, port)
    assert second.returncode == 2  # citygraph: the command could not do its work
    assert f"cannot listen on 127.0.0.1:{port}" in second.stderr
    assert "Traceback" not in second.stderr
    # the first serve still has the port to itself: every new connection is answered by it
    for _ in range(8):
        assert httpx.get(two_workers + "/healthz", timeout=30).status_code == 200


def test_a_host_name_serves_every_worker_on_one_address(store_dir: Path, tmp_path: Path) -> None:
    """``--host localhost`` is resolved once: both sockets listen on its IPv4 address, on one
    port, and the server answers there."""
    with running_server(
        store_dir, tmp_path / "server.log", args=("--workers", "2", "--host", "localhost"), env=ENV
    ) as url:
        listen = "0A"
        local = _hex_address("127.0.0.1", _port(url))
        assert sum(1 for (loc, _, st, _) in _tcp_sockets() if loc == local and st == listen) == 2
        for _ in range(8):
            assert httpx.get(url + "/healthz", timeout=30).status_code == 200


def test_a_serve_on_one_address_is_refused_on_the_port_of_a_serve_on_all(
    store_dir: Path, tmp_path: Path
) -> None:
    with running_server(
        store_dir, tmp_path / "server.log", args=("--workers", "2", "--host", "0.0.0.0"), env=ENV
    ) as url:
        second = _serve(store_dir, _port(url), "--host", "127.0.0.1")
        assert second.returncode == 2
        assert f"cannot listen on 127.0.0.1:{_port(url)}" in second.stderr
        assert "Traceback" not in second.stderr
        assert httpx.get(url + "/healthz", timeout=30).status_code == 200


def test_a_serve_starting_on_a_port_keeps_another_host_name_off_it() -> None:
    """Two serves started at the same moment: the first has passed the check that nothing
    listens on the port, and does not listen yet (its sockets closed here, its lock kept); a
    second, given another name for the port's address, is refused."""
    lock, sockets = bind_worker_sockets("0.0.0.0", 0, 2)
    with lock:
        port = sockets[0].getsockname()[1]
        for sock in sockets:
            sock.close()
        for host in ("127.0.0.1", "localhost"):
            with pytest.raises(PortInUseError, match="another citygraph serve is starting"):
                bind_worker_sockets(host, port, 2)
    # the lock released, the port is free again
    lock, sockets = bind_worker_sockets("localhost", port, 2)
    with lock:
        for sock in sockets:
            sock.close()


@WORKERS
def test_a_host_that_does_not_resolve_is_refused(store_dir: Path, workers: int) -> None:
    # .invalid never resolves (RFC 6761)
    result = _serve(store_dir, free_port(), "--host", "no-such-host.invalid", workers=workers)
    assert result.returncode == 2
    assert "cannot listen on no-such-host.invalid" in result.stderr
    assert "does not resolve" in result.stderr
    assert "Traceback" not in result.stderr
    assert "Application startup" not in result.stderr


@WORKERS
def test_a_port_held_by_another_program_is_refused(store_dir: Path, workers: int) -> None:
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        result = _serve(store_dir, other.getsockname()[1], workers=workers)
    assert result.returncode == 2
    assert "cannot listen on 127.0.0.1" in result.stderr
    assert "Traceback" not in result.stderr
    assert "Application startup" not in result.stderr


def test_another_program_cannot_bind_the_port_of_a_serve(two_workers: str) -> None:
    # the sockets share the port only with sockets that ask for it (SO_REUSEPORT)
    with socket.socket() as other:
        other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        with pytest.raises(OSError, match="in use"):
            other.bind(("127.0.0.1", _port(two_workers)))


@WORKERS
def test_port_0_serves_every_worker_on_one_free_port(
    store_dir: Path, tmp_path: Path, workers: int
) -> None:
    """The log says which port (one worker too: uvicorn does not say it for sockets it is
    given), and each worker listens on it."""
    log = tmp_path / "server.log"
    command = [sys.executable, "-m", "citygraph", "serve", "--store", str(store_dir)]
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*command, "--port", "0", "--workers", str(workers)],
            env={**os.environ, **ENV},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # stop_group stops its workers with it
        )
    try:
        port = _announced_port(process, log)
        url = f"http://127.0.0.1:{port}"
        wait_until_answers(process, url + "/healthz", timeout=60, log=log.read_text)
        listen = "0A"
        local = _hex_address("127.0.0.1", port)
        listening = sum(1 for (loc, _, st, _) in _tcp_sockets() if loc == local and st == listen)
        assert listening == workers
    finally:
        stop_group(process, grace=30)


def test_a_program_asking_to_share_the_port_of_one_worker_is_refused(
    store_dir: Path, tmp_path: Path
) -> None:
    """SO_REUSEPORT is set only where several workers share the port: with one, a program that
    asks for it is refused too (it would get a share of the connections)."""
    with (
        running_server(store_dir, tmp_path / "server.log", env=ENV) as url,
        socket.socket() as other,
    ):
        other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        with pytest.raises(OSError, match="in use"):
            other.bind(("127.0.0.1", _port(url)))


def _announced_port(process: subprocess.Popen[bytes], log: Path) -> int:
    """The port a server started with ``--port 0`` says it listens on (its log's first line
    "running on http://…:PORT"), within 60 s."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        found = re.search(r"running on http://127\.0\.0\.1:(\d+)", log.read_text())
        if found and int(found.group(1)) > 0:
            return int(found.group(1))
        time.sleep(0.1)
    raise AssertionError(f"no port announced: {log.read_text()}")


def test_a_worker_that_dies_is_replaced_on_its_own_socket(two_workers: str, tmp_path: Path) -> None:
    listen = "0A"
    local = _hex_address("127.0.0.1", _port(two_workers))
    inodes = [i for (loc, _, state, i) in _tcp_sockets() if loc == local and state == listen]
    supervisor = set.intersection(*(_holders(inode) for inode in inodes))
    (worker,) = _holders(inodes[0]) - supervisor
    os.kill(worker, signal.SIGKILL)
    # a new worker takes the socket: the kernel's connections for it are served again
    deadline = time.monotonic() + 120
    while not (_holders(inodes[0]) - supervisor - {worker}):
        assert time.monotonic() < deadline, "no worker took the dead worker's socket"
        time.sleep(0.2)
    (replacement,) = _holders(inodes[0]) - supervisor
    assert replacement != worker
    # the log says which socket the replacement took
    log = (tmp_path / "server.log").read_text()
    said = re.search(
        rf"\[{worker}\] died; child process \[{replacement}\] now serves "
        r"listening socket (\d) of 2",
        log,
    )
    assert said is not None, log
    # both sockets still listen, and the server answers
    still = [i for (loc, _, state, i) in _tcp_sockets() if loc == local and state == listen]
    assert sorted(still) == sorted(inodes)
    for _ in range(8):
        assert httpx.get(two_workers + "/healthz", timeout=60).status_code == 200

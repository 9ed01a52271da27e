"""What `citygraph serve` does with connections (``web/server.py``), seen on a real server:
slow request headers are cut off, and every connection has Nagle's algorithm turned off."""

from __future__ import annotations

import ctypes
import os
import socket
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.serving import running_server

#: pidfd_getfd(2) (Linux ≥ 5.6): a copy of another process's file descriptor.
SYS_PIDFD_GETFD = 438


@pytest.fixture
def server(store_dir: Path, tmp_path: Path) -> Iterator[str]:
    env = {"CITYGRAPH_HEADER_TIMEOUT": "1", "CITYGRAPH_IN_MEMORY": "false"}
    with running_server(store_dir, tmp_path / "server.log", env=env) as url:
        yield url


def connect(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=30)


def closed_by_server(sock: socket.socket) -> bool:
    """Whether the server closes the connection (within the socket's 30 s timeout)."""
    try:
        return sock.recv(1024) == b""
    except ConnectionResetError:
        return True


def test_a_client_that_never_finishes_its_headers_is_dropped(server: str) -> None:
    with connect(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: test\r\n")
        assert closed_by_server(sock)


def test_trickling_header_bytes_does_not_extend_the_deadline(server: str) -> None:
    with connect(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\n")
        sock.settimeout(0.3)
        # a header byte every 0.3 s: the deadline (1 s) is not pushed back by them
        for _ in range(20):
            try:
                sock.sendall(b"X")
            except (BrokenPipeError, ConnectionResetError):
                return
            try:
                if sock.recv(1024) == b"":
                    return
            except TimeoutError:
                continue
        pytest.fail("the connection outlived 20 header bytes sent over 6 s")


def server_pid() -> int:
    """The `citygraph serve` process started by this test process (the server fixture's)."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            command = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == os.getpid() and b"citygraph\x00serve" in command:
            return int(entry)
    raise AssertionError("no citygraph serve process found")


def server_side_nodelay(pid: int, client: socket.socket) -> int:
    """TCP_NODELAY of the server's end of ``client``'s connection, read from a copy of the
    server's descriptor (pidfd_getfd: the test process is the server's parent)."""
    libc = ctypes.CDLL(None, use_errno=True)
    pidfd = os.pidfd_open(pid)
    try:
        for name in os.listdir(f"/proc/{pid}/fd"):
            fd = libc.syscall(SYS_PIDFD_GETFD, pidfd, int(name), 0)
            assert fd >= 0, os.strerror(ctypes.get_errno())
            copy = socket.socket(fileno=fd) if _is_socket(fd) else None
            if copy is None:
                os.close(fd)
                continue
            try:
                if copy.family == socket.AF_INET and _peer(copy) == client.getsockname():
                    return copy.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
            finally:
                copy.close()
    finally:
        os.close(pidfd)
    raise AssertionError("the server's end of the connection was not found")


def _is_socket(fd: int) -> bool:
    return stat.S_ISSOCK(os.fstat(fd).st_mode)


def _peer(sock: socket.socket) -> object:
    try:
        return sock.getpeername()
    except OSError:
        return None


def test_serve_turns_nagle_off_on_its_connections(server: str) -> None:
    with connect(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.1 200")
        # the connection stays open (keep-alive): the server still holds its end
        assert server_side_nodelay(server_pid(), sock) != 0

"""What `citygraph serve` does with connections (``web/server.py``), seen on a real server:
slow request headers are cut off, and every connection has Nagle's algorithm turned off."""

from __future__ import annotations

import ctypes
import http.client
import os
import socket
import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

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


def read_response(sock: socket.socket) -> bytes:
    """One whole HTTP response (head and ``Content-Length`` body) from ``sock``."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, "the server closed the connection"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, "the server closed the connection"
        body += chunk
    return head


def test_the_deadline_holds_for_the_next_request_on_a_kept_alive_connection(server: str) -> None:
    with connect(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n")
        assert read_response(sock).startswith(b"HTTP/1.1 200")
        # a byte of the next request stops uvicorn's keep-alive timer; the deadline still holds
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


def descendants(pid: int) -> list[int]:
    """``pid``'s child processes, their children, and so on."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat_line = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parent = int(stat_line.rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def server_side_nodelay(client: socket.socket) -> int:
    """TCP_NODELAY of the server's end of ``client``'s connection, read from a copy of the
    descriptor in whichever process of this test's servers holds it (pidfd_getfd: the test
    process is their ancestor)."""
    for pid in descendants(os.getpid()):
        option = _nodelay_in(pid, client)
        if option is not None:
            return option
    raise AssertionError("the server's end of the connection was not found")


def _nodelay_in(pid: int, client: socket.socket) -> int | None:
    libc = ctypes.CDLL(None, use_errno=True)
    try:
        pidfd = os.pidfd_open(pid)
        names = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return None
    try:
        for name in names:
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
    return None


def _is_socket(fd: int) -> bool:
    return stat.S_ISSOCK(os.fstat(fd).st_mode)


def _peer(sock: socket.socket) -> object:
    try:
        return sock.getpeername()
    except OSError:
        return None


def test_serve_turns_nagle_off_on_its_connections(store_dir: Path, tmp_path: Path) -> None:
    # With --workers uvicorn binds the socket itself, and asyncio then leaves Nagle's algorithm
    # on unless serve's protocol class turns it off (with one worker asyncio would do it).
    args = ("--workers", "2")
    env = {"CITYGRAPH_IN_MEMORY": "false", "CITYGRAPH_QUERY_PROCESSES": "1"}
    with (
        running_server(store_dir, tmp_path / "server.log", args=args, env=env) as url,
        connect(url) as sock,
    ):
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.1 200")
        # the connection stays open (keep-alive): the server still holds its end
        assert server_side_nodelay(sock) != 0


def test_a_kept_alive_connection_gets_a_new_deadline_for_each_request(
    store_dir: Path, tmp_path: Path
) -> None:
    env = {"CITYGRAPH_HEADER_TIMEOUT": "2", "CITYGRAPH_IN_MEMORY": "false"}
    with running_server(store_dir, tmp_path / "server.log", env=env) as url, connect(url) as sock:
        # three requests 1.5 s apart: 4.5 s in all, each within 2 s of the previous response
        for _ in range(3):
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n")
            assert read_response(sock).startswith(b"HTTP/1.1 200")
            time.sleep(1.5)


@pytest.mark.parametrize("character", ["x", "é", "北"], ids=["ascii", "latin", "cjk"])
def test_a_query_too_long_for_a_get_is_a_readable_413(server: str, character: str) -> None:
    """The request head of a GET just over the query limit is read whole (uvicorn's h11 alone
    stops at 16 KiB and closes the connection under the client): the client reads 413."""
    query = "ASK {} #" + character * 100_001  # CITYGRAPH_MAX_QUERY_LENGTH is 100,000
    host, port = server.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=60)  # httpx caps URLs
    try:
        connection.request("GET", "/sparql?" + urlencode({"query": query}))
        response = connection.getresponse()
        assert response.status == 413, response.read()[:200]
    finally:
        connection.close()


def test_a_request_head_longer_than_the_limit_gets_a_readable_400_and_the_end(server: str) -> None:
    """A request's head is bounded (h11's ``max_incomplete_event_size``, set by serve: 12 bytes a
    character of the 100,000-character query limit, plus 64 KiB, 1.27 MB). A client that sends
    a 4 MB header line whole before reading meets no reset: it reads the whole 400
    (``Connection: close``) and then the end of the connection (a lingering close, as after an
    early 413). Closed at once instead, the server's kernel answers the bytes still coming with
    a reset, which fails the client's send or erases the 400 before it is read."""
    with connect(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: test\r\nX-Long: ")
        # 4 MB, the head never finished: over three times the limit, so when the server refuses
        # the head, bytes it has not read are still coming or waiting in its kernel's buffer
        for _ in range(64):
            sock.sendall(b"a" * 65536)
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    head, _, body = reply.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert lines[0].startswith(b"HTTP/1.1 400"), reply[:200]
    assert b"connection: close" in [line.lower() for line in lines[1:]]
    # the body is delimited by the end of the connection (or by a Content-Length): read whole
    lengths = [
        int(line.split(b":")[1]) for line in lines if line.lower().startswith(b"content-length:")
    ]
    assert body, reply
    assert lengths in ([], [len(body)]), reply


def test_pipelined_requests_are_all_answered_and_the_deadline_holds_after(server: str) -> None:
    """Two requests sent at once (HTTP/1.1 pipelining) get two responses; the connection is
    then closed by the header deadline, not before it."""
    with connect(server) as sock, sock.makefile("rb") as replies:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n" * 2)
        # the two responses may come in one segment: read them from one buffered reader
        for _ in range(2):
            assert replies.readline().startswith(b"HTTP/1.1 200")
            length = 0
            while (line := replies.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            assert len(replies.read(length)) == length
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: test\r\n")
        assert closed_by_server(sock)


@pytest.mark.parametrize("method", ["PUT", "POST"])
def test_a_body_announced_over_the_upload_limit_gets_one_readable_413(
    server: str, method: str
) -> None:
    """A Content-Length over ``max_upload_bytes`` (50 MB) is refused before the body is read:
    the client reads one 413, and the body bytes it had sent are not taken for a next request
    (no second, unsolicited 400)."""
    with connect(server) as sock, sock.makefile("rb") as replies:
        head = f"{method} /store?default HTTP/1.1\r\nHost: test\r\n"
        head += "Content-Type: text/turtle\r\nContent-Length: 60000000\r\n\r\n"
        sock.sendall(head.encode())
        # 2 MB of the body: more than the bound on a request's head (1.27 MB), so that body
        # bytes counted as a next head would be refused
        triple = b"<http://a.example/s> <http://a.example/p> 1 .\n"
        for _ in range(32):
            sock.sendall(triple * (65536 // len(triple)))
        status = replies.readline()
        assert status.startswith(b"HTTP/1.1 413"), status
        length = 0
        while (line := replies.readline()) not in (b"\r\n", b""):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        assert b"larger than 50,000,000 bytes" in replies.read(length)
        # nothing follows the 413 (the body's end is still awaited, or the connection ends)
        sock.settimeout(2)
        try:
            rest = replies.read(1)
        except (TimeoutError, ConnectionResetError):
            rest = b""
        assert rest == b"", rest


def over_the_limit(method: str, length: int) -> bytes:
    """The head of a Graph Store upload whose ``Content-Length`` is over the upload limit."""
    head = f"{method} /store?default HTTP/1.1\r\nHost: test\r\n"
    head += f"Content-Type: text/turtle\r\nContent-Length: {length}\r\n\r\n"
    return head.encode()


TRIPLE = b"<http://a.example/s> <http://a.example/p> 1 .\n"


def test_after_an_early_413_the_connection_ends_while_a_slow_body_still_comes(server: str) -> None:
    """A body announced over the limit is refused before it is read; the client, still sending
    it slowly, reads the whole 413 (``Connection: close``) and then the end of the connection
    (the server half-closed it, RFC 9112 §9.6), not after the 60 MB it announced. Its sends meet
    no reset meanwhile: the server reads and drops them (a lingering close)."""
    with connect(server) as sock, sock.makefile("rb") as replies:
        sock.sendall(over_the_limit("PUT", 60_000_000))
        stop = threading.Event()
        sent: list[int] = []
        failures: list[OSError] = []

        def trickle() -> None:
            # 4.7 kB about every 10 ms, 10 MB at most: slow, and far from the 60 MB announced
            try:
                while not stop.is_set() and sum(sent) < 10_000_000:
                    sock.sendall(TRIPLE * 100)
                    sent.append(len(TRIPLE) * 100)
                    stop.wait(0.01)
            except OSError as error:
                failures.append(error)

        sender = threading.Thread(target=trickle)
        sender.start()
        try:
            assert replies.readline().startswith(b"HTTP/1.1 413")
            headers = {}
            while (line := replies.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode("latin-1").partition(":")
                headers[name.strip().lower()] = value.strip()
            assert headers["connection"] == "close"
            body = replies.read(int(headers["content-length"]))
            assert b"larger than 50,000,000 bytes" in body
            # the end of the connection (within the socket's 30 s timeout), the body unfinished
            assert replies.read(1) == b""
        finally:
            stop.set()
            sender.join(timeout=30)
        assert failures == []


def test_a_client_that_keeps_sending_after_an_early_413_is_cut_off(server: str) -> None:
    """The lingering close reads a bounded amount: a client that sends a 200 MB body it
    announced, reading nothing, is disconnected after at most ``max_upload_bytes`` (50 MB) more
    (plus what the kernels' buffers hold)."""
    sent = 0
    with connect(server) as sock:
        sock.sendall(over_the_limit("POST", 200_000_000))
        piece = TRIPLE * (65536 // len(TRIPLE))
        with pytest.raises((BrokenPipeError, ConnectionResetError)):  # noqa: PT012
            while sent < 200_000_000:
                sock.sendall(piece)
                sent += len(piece)
    # the server read more than 50 MB after its 413 (the last piece may not have been counted)
    assert 50_000_000 - len(piece) < sent < 200_000_000

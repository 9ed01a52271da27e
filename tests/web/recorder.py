"""A real HTTP listener on 127.0.0.1 that records every connection and request path.

Tests of the network filter and of the SERVICE gate point queries at it: a connection that
arrives is a connection the engine made.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

__all__ = ["Recorder", "recording_server"]

#: An empty SPARQL result, so that an allowed SERVICE call succeeds.
_EMPTY_RESULT = b'{"head":{"vars":[]},"results":{"bindings":[{}]}}'
_RESPONSE = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/sparql-results+json\r\n"
    b"Content-Length: " + str(len(_EMPTY_RESULT)).encode() + b"\r\nConnection: close\r\n\r\n"
) + _EMPTY_RESULT


@dataclass
class Recorder:
    """Where the listener is, and what reached it."""

    port: int
    connections: int = 0
    paths: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def seen(self) -> tuple[int, list[str]]:
        with self.lock:
            return self.connections, list(self.paths)


@contextmanager
def recording_server() -> Iterator[Recorder]:
    """Listen on a free port of 127.0.0.1 until the block ends; answer each request with an
    empty SPARQL result."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    listener.settimeout(0.1)
    recorder = Recorder(port=listener.getsockname()[1])
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                with recorder.lock:
                    recorder.connections += 1
                conn.settimeout(2)
                head = b""
                try:
                    while b"\r\n\r\n" not in head and len(head) < 65536:
                        chunk = conn.recv(4096)
                        if not chunk:
                            break
                        head += chunk
                    request_line = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ")
                    if len(request_line) >= 2:
                        with recorder.lock:
                            recorder.paths.append(request_line[1])
                    conn.sendall(_RESPONSE)
                except OSError:
                    pass

    thread = threading.Thread(target=serve, name="recorder", daemon=True)
    thread.start()
    try:
        yield recorder
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()

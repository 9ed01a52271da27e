"""A response's head goes out in one write with its body: a server killed between the two
would leave a load balancer holding a head it had passed on, unable to retry the request
elsewhere (tests/test_replicas.py saw a head without its body once)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route
from tests.serving import free_port

from citygraph.web.server import NoDelayH11Protocol

#: Every write of the server's sockets, in order.
WRITES: list[bytes] = []


class RecordingProtocol(NoDelayH11Protocol):
    """citygraph's protocol, its socket's writes recorded."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        write = transport.write  # type: ignore[attr-defined]

        def recorded(data: bytes) -> None:
            WRITES.append(bytes(data))
            write(data)

        transport.write = recorded  # type: ignore[attr-defined]
        super().connection_made(transport)


async def small(request: Request) -> Response:
    return PlainTextResponse("a small body")


async def streamed(request: Request) -> Response:
    async def parts() -> Iterator[bytes]:  # type: ignore[misc]
        yield b"first part"
        await asyncio.sleep(0.01)
        yield b"second part"

    return StreamingResponse(parts())


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    app = Starlette(routes=[Route("/small", small), Route("/streamed", streamed)])
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, http=RecordingProtocol, lifespan="off"
    )
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not running.started and time.monotonic() < deadline:
        time.sleep(0.01)
    assert running.started
    yield f"http://127.0.0.1:{port}"
    running.should_exit = True
    thread.join(timeout=30)


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_a_response_is_one_write(server: str, method: str) -> None:
    WRITES.clear()
    with httpx.Client() as client:
        response = client.request(method, server + "/small")
    assert response.status_code == 200
    (write,) = WRITES
    assert write.startswith(b"HTTP/1.1 200")
    assert write.endswith(b"a small body" if method == "GET" else b"\r\n\r\n")


def test_a_streamed_response_has_its_head_with_its_first_part(server: str) -> None:
    WRITES.clear()
    with httpx.Client() as client:
        response = client.get(server + "/streamed")
    assert response.text == "first partsecond part"
    assert WRITES[0].startswith(b"HTTP/1.1 200")
    assert b"first part" in WRITES[0]
    assert b"second part" not in WRITES[0]

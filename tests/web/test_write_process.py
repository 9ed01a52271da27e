"""The write process: off the network like the query processes (issue 9 §1), via apply_write."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from tests.web.conftest import BASE

from citygraph import store
from citygraph.engine.changes import UpdateChange
from citygraph.engine.errors import NetworkRefusedError
from citygraph.engine.writes import apply_write
from citygraph.errors import CitygraphError
from citygraph.web.error_handlers import problem_for


@contextmanager
def listener() -> Iterator[tuple[int, list[bytes]]]:
    """A TCP server on 127.0.0.1 that records what each connection sends, then closes it."""
    received: list[bytes] = []
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        server.settimeout(0.2)
        stop = threading.Event()

        def serve() -> None:
            while not stop.is_set():
                try:
                    connection, _ = server.accept()
                except TimeoutError:
                    continue
                with connection:
                    connection.settimeout(2)
                    try:
                        received.append(connection.recv(4096))
                    except TimeoutError:
                        received.append(b"")

        thread = threading.Thread(target=serve)
        thread.start()
        try:
            yield server.getsockname()[1], received
        finally:
            stop.set()
            thread.join()


def load(port: int) -> UpdateChange:
    # LOAD is refused by Endpoint.update before any write; sent here directly, it stands for
    # whatever a text check might miss.
    return UpdateChange(f"LOAD <http://127.0.0.1:{port}/data.ttl> INTO GRAPH <{BASE}g>", BASE)


def test_the_write_process_cannot_reach_the_network(store_dir: Path) -> None:
    before = store.current_build(store_dir).version
    with listener() as (port, received), pytest.raises(NetworkRefusedError) as refused:
        apply_write(store_dir, load(port), description="load", lock_timeout=10)
    assert received == []
    assert problem_for(refused.value)[0] == 403
    assert "its writes have no network" in str(refused.value)
    assert store.current_build(store_dir).version == before


def test_with_service_allowed_it_can(store_dir: Path) -> None:
    """The same write with ``offline=False`` (a SERVICE allowlist) does connect: the test above
    can fail."""
    with listener() as (port, received), pytest.raises(CitygraphError, match="the write failed"):
        apply_write(store_dir, load(port), description="load", lock_timeout=10, offline=False)
    assert len(received) == 1
    assert received[0].startswith(b"GET /data.ttl")


def test_a_write_to_a_store_without_a_build_is_503_not_500(tmp_path: Path) -> None:
    """The store directory lost its build under a running server: the write says so (503),
    it is not a server error."""
    (tmp_path / "builds").mkdir()
    change = UpdateChange(f"INSERT DATA {{ <{BASE}a> <{BASE}b> <{BASE}c> }}", BASE)
    with pytest.raises(CitygraphError) as missing:
        apply_write(tmp_path, change, description="insert", lock_timeout=10)
    assert problem_for(missing.value)[0] == 503
    assert not (tmp_path / store.CURRENT).exists()

"""The query processes cannot reach the network, whatever the query says (issue 9 §1).

The SERVICE gate reads the query text; these tests hand the engine queries the gate would not
see (straight to the pool, or hidden from an old gate by a comment ended by CR) and check with a
real listener on 127.0.0.1 that no connection ever arrives.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from tests.serving import running_server
from tests.web.conftest import TOKEN, auth
from tests.web.recorder import recording_server

from citygraph.config import Settings
from citygraph.engine.jobs import QueryJob
from citygraph.engine.pool import QueryPool
from citygraph.sandbox import SandboxError, network_filter_program
from citygraph.web import endpoint as endpoint_module
from citygraph.web.app import create_app
from citygraph.web.sparql_text import Analysis


def service_job(url: str) -> QueryJob:
    query = f"SELECT * {{ SERVICE <{url}> {{ ?s ?p ?o }} }}"
    return QueryJob(query, "http://example.org/", None, None, True, "JSON", None, 10, 10**6)


def seccomp_mode(pid: int) -> str:
    """The ``Seccomp:`` field of a process (0 none, 2 filter)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Seccomp:"):
            return line.split()[1]
    raise AssertionError("no Seccomp line")  # pragma: no cover


@pytest.mark.parametrize(("offline", "mode"), [(True, "2"), (False, "0")], ids=["on", "off"])
def test_every_query_process_runs_under_the_filter(
    store_dir: Path, offline: bool, mode: str
) -> None:
    pool = QueryPool(
        store_dir, size=2, in_memory=False, max_concurrent=4, check_interval=60, offline=offline
    )
    pool.start()
    try:
        assert [seccomp_mode(pid) for pid in pool.pids()] == [mode, mode]
    finally:
        pool.close()


@pytest.mark.parametrize(("offline", "arrives"), [(True, False), (False, True)], ids=["on", "off"])
def test_a_service_call_the_gate_missed_never_leaves_the_process(
    store_dir: Path, offline: bool, arrives: bool
) -> None:
    """The job goes to the pool directly, as if the text gate had missed it."""
    pool = QueryPool(
        store_dir, size=1, in_memory=False, max_concurrent=4, check_interval=60, offline=offline
    )
    pool.start()
    try:
        with recording_server() as recorder:
            reply, _ = pool.run(service_job(recorder.url("/sparql")), timeout=20)
            connections, paths = recorder.seen()
    finally:
        pool.close()
    assert (connections > 0) is arrives
    if offline:
        assert reply.error == "network"
        assert "Operation not permitted" in reply.message
    else:
        assert reply.error is None, reply.message
        assert paths[0].startswith("/sparql")


HIDDEN = [
    pytest.param("SELECT * { #x\rSERVICE <{url}> { ?x ?p ?o } }", id="cr-comment"),
    pytest.param("SELECT * { #x\r\nSERVICE <{url}> { ?x ?p ?o } }", id="crlf-comment"),
    pytest.param("SELECT * { #x\\u000dSERVICE <{url}> { ?x ?p ?o } }", id="escaped-cr"),
    pytest.param("SELECT * { \\u0053ERVICE SILENT <{url}> { ?x ?p ?o } }", id="escaped-keyword"),
]


@pytest.mark.parametrize("template", HIDDEN)
def test_hidden_service_gets_403_and_no_connection(store_dir: Path, template: str) -> None:
    with recording_server() as recorder:
        settings = Settings(store=store_dir, query_processes=1, version_check_interval=0.0)
        with TestClient(create_app(settings)) as client:
            query = template.replace("{url}", recorder.url("/sparql"))
            response = client.get("/sparql", params={"query": query})
        assert recorder.seen() == (0, [])
    assert response.status_code == 403, response.text
    assert "SERVICE" in response.text


def test_service_refused_by_the_os_is_a_clear_403(store_dir: Path) -> None:
    """A SERVICE the text gate misses (simulated by switching the gate off on this endpoint)
    reaches the engine, is refused by the OS, and the client gets 403, not 500."""
    with recording_server() as recorder:
        settings = Settings(store=store_dir, query_processes=1, version_check_interval=0.0)
        with TestClient(create_app(settings)) as client:
            endpoint = client.app.state.endpoint  # type: ignore[attr-defined]
            endpoint._check_services = lambda analysis: None  # the gate misses it
            query = f"SELECT * {{ SERVICE <{recorder.url('/x')}> {{ ?s ?p ?o }} }}"
            response = client.get("/sparql", params={"query": query})
        assert recorder.seen() == (0, [])
    assert response.status_code == 403, response.text
    assert "tried to call another endpoint" in response.text


def test_the_filter_refuses_inet_sockets_and_keeps_pipes() -> None:
    script = """
import os, socket
from citygraph.sandbox import install_network_filter
socket.socket(socket.AF_INET).close()  # allowed before
install_network_filter()
a, b = socket.socketpair(); a.close(); b.close()
r, w = os.pipe(); os.write(w, b"x"); assert os.read(r, 1) == b"x"
for family, kind in [(socket.AF_INET, socket.SOCK_STREAM), (socket.AF_INET6, socket.SOCK_DGRAM),
                     (socket.AF_NETLINK, socket.SOCK_RAW), (socket.AF_PACKET, socket.SOCK_RAW)]:
    try:
        socket.socket(family, kind)
    except PermissionError:
        print("refused", family.name)
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:-1] == [
        "refused AF_INET",
        "refused AF_INET6",
        "refused AF_NETLINK",
        "refused AF_PACKET",
    ]


def test_an_unknown_architecture_refuses_to_run_unprotected() -> None:
    with pytest.raises(SandboxError, match="riscv64"):
        network_filter_program("riscv64")


def test_an_update_whose_load_the_gate_missed_gets_403_and_fetches_nothing(
    writer: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The text gate is switched off here (it would refuse LOAD first): the OS must hold."""
    monkeypatch.setattr(
        endpoint_module,
        "analyse",
        lambda text, base_iri: Analysis("LOAD", True, False, (), False),
    )
    with recording_server() as recorder:
        response = writer.post(
            "/sparql",
            content=f"LOAD <{recorder.url('/data.ttl')}>",
            headers={"Content-Type": "application/sparql-update", **auth()},
        )
        assert recorder.seen() == (0, [])
    assert response.status_code == 403, response.text
    assert "never fetches URLs" in response.text


def test_a_real_server_fetches_nothing_for_hidden_service_and_load(
    store_dir: Path, tmp_path: Path
) -> None:
    """issue 9 §1, as reported: `citygraph serve` with a token, CR-ended comments."""
    with (
        recording_server() as recorder,
        running_server(
            store_dir, tmp_path / "serve.log", env={"CITYGRAPH_UPDATE_TOKEN": TOKEN}
        ) as url,
    ):
        query = f"SELECT * {{ #x\rSERVICE <{recorder.url('/sparql')}> {{ ?x ?p ?o }} }}"
        read = httpx.post(url + "/sparql", data={"query": query}, timeout=30)
        update = f"INSERT DATA {{ <http://a/> <http://b/> 1 }} ;\n#x\rLOAD <{recorder.url('/x')}>"
        write = httpx.post(
            url + "/sparql",
            content=update,
            headers={"Content-Type": "application/sparql-update", **auth()},
            timeout=30,
        )
        alive = httpx.get(url + "/healthz", timeout=10)
        assert recorder.seen() == (0, [])
    assert (read.status_code, write.status_code, alive.status_code) == (403, 403, 200)
    assert "SERVICE" in read.text
    assert "LOAD" in write.text

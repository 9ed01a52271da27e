"""A client that goes away ends its request to a remote store (issue 11 §1, as issue 10 on the
embedded engine): citygraph closes its connection to the store, the client's share is free at
once, and the request is logged and counted as 499.

A real ``citygraph serve --backend`` process in front of a real ``oxigraph serve`` (and a real
Virtuoso, marked ``virtuoso``); citygraph's connections to the store are read from
``/proc/net/tcp`` and the sockets its processes hold (the helpers of test_worker_sockets.py).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from tests.backends import OxigraphServers
from tests.serving import running_server
from tests.web.conftest import make_build
from tests.web.test_client_gone import (
    access_records,
    eventually,
    metric,
    open_request,
    request_bytes,
    run_for,
)
from tests.web.test_fairness import HEAVY, LOOKUP, health, sparql
from tests.web.test_limits import versioned, wide_quads, working
from tests.web.test_worker_sockets import _hex_address, _holders, _tcp_sockets

from citygraph.engine.clients import Presence
from citygraph.engine.pool import QueryCancelledError
from citygraph.engine.remote import Backend, RemotePool

#: TCP states in /proc/net/tcp (include/net/tcp_states.h).
ESTABLISHED, LISTEN = "01", "0A"


def server_processes(url: str) -> set[int]:
    """The processes of the ``citygraph serve`` at ``url`` that take requests (and so hold the
    remote pool's connections): those holding its listening socket."""
    port = urlsplit(url).port
    assert port is not None
    local = _hex_address("127.0.0.1", port)
    listening = [i for loc, _, state, i in _tcp_sockets() if loc == local and state == LISTEN]
    holders = set().union(*(_holders(inode) for inode in listening))
    assert holders, f"no process of this test listens at {url}"
    return holders


def connections_to(pids: set[int], port: int) -> set[str]:
    """The ESTABLISHED TCP connections (socket inodes) of processes ``pids`` to ``port`` on
    127.0.0.1."""
    remote = _hex_address("127.0.0.1", port)
    return {
        inode
        for _, rem, state, inode in _tcp_sockets()
        if rem == remote and state == ESTABLISHED and _holders(inode) & pids
    }


def published_wide(tmp_path: Path, servers: OxigraphServers, kind: str = "oxigraph") -> Backend:
    """A store of kind ``kind`` holding a build of the 200 triples of the fairness tests."""
    root = tmp_path / "wide"
    version = "20260101T000000000000Z-wide000000"
    make_build(root, versioned(wide_quads(), version), version)
    return servers.publish("client-gone", root, kind=kind)


def forget_store(servers: OxigraphServers, kind: str) -> None:
    """Kill the store a test left a heavy query to: it goes on computing the aggregate until its
    own time limit (docs/backends.md, "The deadline"), minutes of a core the next tests need; the
    next test that asks for it gets a fresh one."""
    servers.kill("client-gone", kind=kind)


def test_the_remote_pool_ends_the_job_of_a_client_that_left(
    tmp_path: Path, oxigraph_servers: OxigraphServers
) -> None:
    backend = published_wide(tmp_path, oxigraph_servers)
    pool = RemotePool(backend, max_concurrent=4, client_max_queries=1, check_interval=600)
    pool.start()
    try:
        asked: list[str] = []
        presence = Presence(lambda: asked.append("watch"))
        outcome = run_for(pool, HEAVY, presence)
        eventually(lambda: pool.inflight == 1 and bool(asked), "the job was never watched")
        presence.leave()
        eventually(lambda: bool(outcome), "the job did not end")
        assert isinstance(outcome[0], QueryCancelledError), outcome
        assert "went away" in str(outcome[0])
        assert pool.inflight == 0
        assert asked == ["watch"]  # asked once
        # the client's one query is no longer counted (client_max_queries=1)
        follow_up = run_for(pool, LOOKUP, Presence(lambda: None))
        eventually(lambda: bool(follow_up), "the next job did not end")
        (reply,) = follow_up
        assert getattr(reply, "error", "not a reply") is None, follow_up
    finally:
        pool.close()
        forget_store(oxigraph_servers, "oxigraph")


@pytest.mark.parametrize("kind", ["oxigraph", pytest.param("virtuoso", marks=pytest.mark.virtuoso)])
def test_a_client_that_leaves_closes_the_connection_to_the_store_and_frees_its_share(
    tmp_path: Path, oxigraph_servers: OxigraphServers, kind: str
) -> None:
    backend = published_wide(tmp_path, oxigraph_servers, kind)
    root = tmp_path / "wide"
    store_pid = oxigraph_servers.pid("client-gone", kind=kind)
    store_port = urlsplit(backend.query).port
    assert store_port is not None
    env = {
        "CITYGRAPH_BACKEND": backend.query,
        "CITYGRAPH_BACKEND_UPDATE": backend.update,
        "CITYGRAPH_BACKEND_STORE": backend.store,
        "CITYGRAPH_TRUSTED_PROXIES": "127.0.0.1",
        # One query in progress per client, and a timeout no test reaches: only the client's
        # leaving can end the query and free its share.
        "CITYGRAPH_CLIENT_MAX_QUERIES": "1",
        "CITYGRAPH_QUERY_TIMEOUT": "600",
        # No reads of the store's version during the test: its connections are the query's.
        "CITYGRAPH_VERSION_CHECK_INTERVAL": "600",
    }
    log = tmp_path / "server.log"
    client = "198.51.100.7"
    try:
        with running_server(root, log, env=env) as url:
            citygraph = server_processes(url)
            before = connections_to(citygraph, store_port)
            connection = open_request(url, request_bytes("GET", HEAVY, client))
            try:
                # The store works on the query: citygraph's request has reached it.
                eventually(lambda: working(store_pid), "the store never worked on the query")
                assert health(url).json()["queries_in_progress"] == 1
                during = connections_to(citygraph, store_port)
                # The query's connection: a new one, or the one kept alive since the start.
                opened = during - before or before
                assert len(opened) == 1, (before, during)
            finally:
                connection.close()
            # Gone: citygraph closes its connection to the store and frees the client's share
            # long before the query's 600 s (or the store's own time limit).
            eventually(
                lambda: not opened & connections_to(citygraph, store_port),
                "citygraph's connection to the store stayed open",
            )
            eventually(
                lambda: health(url).json()["queries_in_progress"] == 0,
                "the query still counts against the client",
            )
            follow_up = sparql(url, LOOKUP, client)
            assert follow_up.status_code == 200, follow_up.text  # not 429: the share is free
            eventually(
                lambda: any(
                    r["status"] == 499 and r["client"] == client for r in access_records(log)
                ),
                log.read_text(),
            )
            requests = 'citygraph_http_requests_total{method="GET",path="/sparql",status="499"}'
            assert metric(url, requests) == 1
            assert metric(url, 'citygraph_queries_total{outcome="cancelled"}') == 1
            assert metric(url, requests.replace('"499"', '"502"')) == 0
        assert "Traceback" not in log.read_text()
    finally:
        forget_store(oxigraph_servers, kind)


def test_a_remote_answer_to_a_client_that_stays_is_unchanged(
    tmp_path: Path, oxigraph_servers: OxigraphServers
) -> None:
    """The watch does not touch a query whose client waits: a query that runs longer than the
    watch's start is answered whole."""
    backend = published_wide(tmp_path, oxigraph_servers)
    root = tmp_path / "wide"
    env = {"CITYGRAPH_BACKEND": backend.query, "CITYGRAPH_BACKEND_UPDATE": backend.update}
    medium = (
        "SELECT (COUNT(*) AS ?n) WHERE { GRAPH <http://example.org/g> "
        "{ ?a ?b ?c . ?d ?e ?f . ?g ?h ?i } }"
    )
    with running_server(root, tmp_path / "server.log", env=env) as url:
        answer = httpx.get(
            url + "/sparql",
            params={"query": medium},
            headers={"Accept": "application/sparql-results+json"},
            timeout=600,
        )
    assert answer.status_code == 200, answer.text
    (row,) = answer.json()["results"]["bindings"]
    # every triple of the graph, three times over
    assert int(row["n"]["value"]) == len(wide_quads()) ** 3

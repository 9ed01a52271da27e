"""A client that goes away ends its query (issue 10): the query process running it is killed and
replaced, the client's share is free within about 0.15 s, and the request is logged and counted
as 499.

Real query processes on a real store; the server tests run a real `citygraph serve` and a client
that closes its socket while its query runs (or waits for a process).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

import httpx
import pytest
from tests.web import test_fairness
from tests.web.test_fairness import HEAVY, LOOKUP, health, serving, sparql, wait_until
from tests.web.test_limits import job

from citygraph.engine.clients import CURRENT, PRESENCE, Presence
from citygraph.engine.pool import PoolLoad, QueryCancelledError, QueryPool

#: The store of 200 triples of the fairness tests.
wide_store = test_fairness.wide_store

JSON = "application/sparql-results+json"

#: One general-lane process, one query in progress per client, and a timeout no test reaches.
ONE_QUERY_EACH = {"query_processes": 1, "client_max_queries": 1, "query_timeout": 600}


def eventually(condition: Callable[[], bool], what: str) -> None:
    """Wait (boundedly) until ``condition()`` holds."""
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def alive(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie counts as ended)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except OSError:
        return False


def query_processes(store: Path) -> set[int]:
    """The live query processes on a build of ``store`` (on disk: ``python -m
    citygraph.engine.query_process … BUILD_PATH …``)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            words = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        ours = any(str(store).encode() in word for word in words)
        if b"citygraph.engine.query_process" in words and ours and alive(int(entry.name)):
            found.add(int(entry.name))
    return found


def request_bytes(how: str, query: str, client: str | None = None, accept: str = JSON) -> bytes:
    """An HTTP/1.1 request for ``query``: by GET (the lean path) or by POST (the route)."""
    forwarded = f"X-Forwarded-For: {client}\r\n" if client else ""
    head = f"Host: x\r\nAccept: {accept}\r\n{forwarded}"
    if how == "GET":
        return f"GET /sparql?query={quote(query)} HTTP/1.1\r\n{head}\r\n".encode()
    if how == "POST form":
        body = urlencode({"query": query}).encode()
        kind = "application/x-www-form-urlencoded"
    else:
        body = query.encode()
        kind = "application/sparql-query"
    return (
        f"POST /sparql HTTP/1.1\r\n{head}Content-Type: {kind}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )


def open_request(url: str, data: bytes) -> socket.socket:
    address = urlsplit(url)
    connection = socket.create_connection((address.hostname, address.port or 80))
    connection.sendall(data)
    return connection


def access_records(log: Path) -> list[dict[str, object]]:
    """The access log's records (its JSON lines) in the server's output."""
    records = []
    for line in log.read_text().splitlines():
        if line.startswith('{"time"'):
            records.append(json.loads(line))
    return records


def metric(url: str, series: str) -> float:
    for line in httpx.get(url + "/metrics", timeout=30).text.splitlines():
        if line.startswith(series + " "):
            return float(line.split()[-1])
    return 0.0


#: What a browser sends (it prefers the HTML page; an error would get the site's error page).
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.mark.parametrize(
    ("how", "accept"),
    [
        ("GET", JSON),
        ("POST form", JSON),
        ("POST sparql-query", JSON),
        pytest.param("GET", BROWSER, id="GET-browser"),
        pytest.param("POST form", BROWSER, id="POST form-browser"),
    ],
)
def test_a_client_that_leaves_frees_its_share_and_its_query_process(
    wide_store: Path, tmp_path: Path, how: str, accept: str
) -> None:
    log = tmp_path / "server.log"
    with serving(wide_store, log, **ONE_QUERY_EACH, fast_query_processes=0) as url:
        (running,) = query_processes(wide_store)
        connection = open_request(url, request_bytes(how, HEAVY, accept=accept))
        try:
            wait_until(lambda h: h["queries_in_progress"] == 1, url)
            wait_until(lambda h: h["free_query_processes"] == 0, url)
        finally:
            connection.close()
        # Gone: the query ends long before its 600 s, and no longer counts against the client.
        wait_until(lambda h: h["queries_in_progress"] == 0 and h["free_query_processes"] == 1, url)
        follow_up = sparql(url, LOOKUP, "127.0.0.1")
        assert follow_up.status_code == 200, follow_up.text  # not 429: the share is free
        # The process that ran it was killed; a new one took its place and answered.
        assert not alive(running)
        assert query_processes(wide_store) - {running}
        method = how.split()[0]
        eventually(
            lambda: any(r["status"] == 499 and r["method"] == method for r in access_records(log)),
            log.read_text(),
        )
        requests = f'citygraph_http_requests_total{{method="{method}",path="/sparql",status="499"}}'
        assert metric(url, requests) == 1
        assert metric(url, 'citygraph_query_process_ends_total{reason="cancelled"}') == 1
        assert metric(url, 'citygraph_queries_total{outcome="cancelled"}') == 1
        assert metric(url, 'citygraph_query_process_ends_total{reason="timeout"}') == 0
        assert metric(url, requests.replace('"499"', '"500"')) == 0
    # Nothing went wrong in the server: no traceback, no error logged.
    assert "Traceback" not in log.read_text()


def test_a_client_that_leaves_while_its_query_waits_frees_its_share(
    wide_store: Path, tmp_path: Path
) -> None:
    """The query of client B waits for the general lane's one process, which A's query holds; B
    leaves: B's share is free at once, and A's query runs on."""
    log = tmp_path / "server.log"
    with serving(wide_store, log, **ONE_QUERY_EACH, fast_query_processes=1) as url:
        a = open_request(url, request_bytes("GET", HEAVY, "198.51.100.1"))
        b: socket.socket | None = None
        try:
            # A's query has left the fast lane and holds the general lane's process.
            wait_until(lambda h: h["free_query_processes"] == 0, url)
            wait_until(lambda h: h["free_fast_query_processes"] == 1, url)
            b = open_request(url, request_bytes("GET", HEAVY, "198.51.100.2"))
            wait_until(lambda h: h["waiting_queries"] == 1, url)
            b.close()
            wait_until(lambda h: h["waiting_queries"] == 0 and h["queries_in_progress"] == 1, url)
            follow_up = sparql(url, LOOKUP, "198.51.100.2")
            assert follow_up.status_code == 200, follow_up.text  # not 429
            # A is still there: its query runs on.
            assert health(url).json()["free_query_processes"] == 0
            assert metric(url, 'citygraph_query_process_ends_total{reason="cancelled"}') == 0
            eventually(
                lambda: any(
                    r["status"] == 499 and r["client"] == "198.51.100.2"
                    for r in access_records(log)
                ),
                log.read_text(),
            )
        finally:
            a.close()
            if b is not None:
                b.close()
        wait_until(lambda h: h["queries_in_progress"] == 0 and h["free_query_processes"] == 1, url)


@pytest.fixture
def pool(wide_store: Path) -> Iterator[QueryPool]:
    """One general-lane and one fast-lane process on the on-disk build."""
    pool = QueryPool(
        wide_store,
        size=1,
        fast_size=1,
        fast_budget=0.25,
        in_memory=False,
        max_concurrent=4,
        client_max_queries=1,
        check_interval=60.0,
    )
    pool.start()
    try:
        yield pool
    finally:
        pool.close()


def run_for(
    pool: QueryPool, query: str, presence: Presence, client: str = "198.51.100.1"
) -> list[object]:
    """Run ``query`` in a thread as a request of ``client`` whose presence is ``presence``;
    the list gets the outcome (a reply or an exception) when it ends."""
    outcome: list[object] = []

    def run() -> None:
        CURRENT.set(client)  # the thread's own context
        PRESENCE.set(presence)
        try:
            outcome.append(pool.run(job(query), timeout=600)[0])
        except Exception as error:  # noqa: BLE001 - the outcome is the test's to check
            outcome.append(error)

    threading.Thread(target=run, daemon=True).start()
    return outcome


def test_the_pool_ends_the_job_of_a_client_that_left(pool: QueryPool) -> None:
    asked: list[str] = []
    presence = Presence(lambda: asked.append("watch"))
    outcome = run_for(pool, HEAVY, presence)
    # moved from the fast lane, running in the general lane, watched
    eventually(lambda: pool.load().free == 0 and bool(asked), str(pool.load()))
    running = set(pool.pids())
    presence.leave()
    eventually(lambda: bool(outcome), "the job did not end")
    assert isinstance(outcome[0], QueryCancelledError), outcome
    assert pool.inflight == 0
    assert pool.stats.ends["cancelled"] == 1
    assert asked == ["watch"]  # asked once
    eventually(lambda: pool.load().free == 1, str(pool.load()))
    assert set(pool.pids()) != running
    # the client's one query is no longer counted (client_max_queries=1)
    reply, _ = pool.run(job(LOOKUP), timeout=30)
    assert reply.error is None


def test_the_pool_gives_up_the_wait_of_a_client_that_left(pool: QueryPool) -> None:
    """B's job waits for the general lane's one process, which A's job holds; B leaves: B's
    wait ends, nothing is killed, and A's job runs on."""
    a = Presence(lambda: None)
    a_outcome = run_for(pool, HEAVY, a, client="198.51.100.1")
    eventually(lambda: pool.load().free == 0 and pool.load().free_fast == 1, str(pool.load()))
    asked: list[str] = []
    b = Presence(lambda: asked.append("watch"))
    b_outcome = run_for(pool, HEAVY, b, client="198.51.100.2")
    # HEAVY is known to be slow by now: B's job waits for the general lane at once
    eventually(lambda: pool.load().waiting == 1 and bool(asked), str(pool.load()))
    b.leave()
    eventually(lambda: bool(b_outcome), "B's job did not end")
    assert isinstance(b_outcome[0], QueryCancelledError), b_outcome
    assert "waited" in str(b_outcome[0])
    assert pool.stats.ends["cancelled"] == 0  # no process was killed for it
    assert pool.load() == PoolLoad(free=0, free_fast=1, waiting=0, inflight=1)
    assert not a_outcome  # A's job still runs
    a.leave()
    eventually(lambda: bool(a_outcome), "A's job did not end")
    assert isinstance(a_outcome[0], QueryCancelledError), a_outcome
    assert pool.inflight == 0
